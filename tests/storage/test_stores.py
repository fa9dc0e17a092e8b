"""Conversations and feedback on SQLite and on a real PostgreSQL server, as several service instances use them:
what one instance writes the others read, concurrent turns are all kept, and a database restart loses nothing
and needs no restart of the service."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.types import EXTRACTIVE, Answer, Source
from errors import StoreError
from storage.conversations import ConversationStore
from storage.db import Database, open_database
from storage.feedback import FeedbackStore
from tests.postgres import PostgresServer

SECRET = "herstart-Geheim-42"
Instance = tuple[ConversationStore, FeedbackStore]


def _answer(text: str, **marks: object) -> Answer:
    source = Source(1, "c1", "pact", "Migratiepact", "Pact", 2020, "2.5 Terugkeer", "2 > 2.5", "Tekst.", 0.9)
    return Answer(
        question=f"vraag {text}",
        standalone_question=f"vraag {text}",
        language="nl",
        mode=EXTRACTIVE,
        text=text,
        sources=(source,),
        **marks,
    )  # type: ignore[arg-type]


@pytest.fixture
def open_instance(location: Path | str) -> Iterator[Callable[[], Instance]]:
    """Opens the stores as one more service instance would: with its own connections to `location`."""
    opened: list[Database] = []

    def open_() -> Instance:
        database = open_database(location)
        opened.append(database)
        return ConversationStore(database), FeedbackStore(database)

    yield open_
    for database in opened:
        database.close()


def test_what_one_instance_writes_another_reads(open_instance: Callable[[], Instance]) -> None:
    (conversations_a, feedback_a), (conversations_b, feedback_b) = open_instance(), open_instance()
    conversation = conversations_a.new()
    conversations_a.record(conversation, _answer("een", unverified=True, flagged=("5 in 2019",), notices=("n",)))

    seen_by_b = conversations_b.get_or_new(conversation.id)
    assert [t.answer for t in seen_by_b.turns] == ["een"]
    conversations_b.record(seen_by_b, _answer("twee"))
    history = conversations_a.history(conversation.id)
    assert [h.answer.text for h in history] == ["een", "twee"]
    assert (history[0].answer.unverified, list(history[0].answer.flagged), list(history[0].answer.notices)) == (
        True,
        ["5 in 2019"],
        ["n"],
    )
    assert history[0].answer.sources[0].doc_id == "pact"
    assert abs(float(history[1].created) - time.time()) < 60  # a timestamp, not rounded to minutes

    rating = feedback_a.add(
        Answer.from_json({"question": "vraag een", "answer": "een", "conversation_id": conversation.id}), "down"
    )
    feedback_b.set_comment(rating, "Bron klopt niet")
    feedback_b.add_slack_ids(rating, "U1", "C1", "1.2", "T1")
    assert [(f.id, f.rating, f.comment, f.conversation_id) for f in feedback_a.all()] == [
        (rating, "down", "Bron klopt niet", conversation.id)
    ]


def test_concurrent_turns_to_one_conversation_are_all_kept(open_instance: Callable[[], Instance]) -> None:
    instances = [open_instance(), open_instance()]
    conversation_id = instances[0][0].new().id
    threads_per_instance, turns_per_thread = 3, 10
    start = threading.Barrier(len(instances) * threads_per_instance)
    errors: list[BaseException] = []

    def ask(store: ConversationStore, name: str) -> None:
        try:
            conversation = store.get(conversation_id)
            start.wait()
            for i in range(turns_per_thread):
                store.record(conversation, _answer(f"{name}-{i}"))
        except BaseException as err:  # noqa: BLE001 - reported by the assertion below
            errors.append(err)

    threads = [
        threading.Thread(target=ask, args=(conversations, f"i{n}t{t}"))
        for n, (conversations, _) in enumerate(instances)
        for t in range(threads_per_instance)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    answers = [h.answer.text for h in instances[1][0].history(conversation_id)]
    assert len(answers) == len(threads) * turns_per_thread
    for n in range(len(instances)):
        for t in range(threads_per_instance):
            mine = [a for a in answers if a.startswith(f"i{n}t{t}-")]
            assert mine == [f"i{n}t{t}-{i}" for i in range(turns_per_thread)]  # each asker's turns, in order


def test_instances_starting_together_on_an_empty_database_all_come_up(location: Path | str) -> None:
    errors: list[BaseException] = []
    opened: list[Database] = []
    start = threading.Barrier(6)

    def boot() -> None:
        try:
            database = open_database(location)
            opened.append(database)
            start.wait()
            ConversationStore(database).new()
            FeedbackStore(database).add(Answer.from_json({"question": "q", "answer": "a"}), "up")
        except BaseException as err:  # noqa: BLE001 - reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=boot) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert not errors
        assert len(FeedbackStore(opened[0]).all()) == 6
    finally:
        for database in opened:
            database.close()


@pytest.mark.server
def test_a_database_restart_loses_nothing_and_the_same_stores_carry_on(postgres: PostgresServer) -> None:
    postgres.create_user("restart_user", SECRET)
    database = open_database(postgres.create_database(owner="restart_user"))
    conversations, feedback = ConversationStore(database), FeedbackStore(database)
    conversation = conversations.new()
    for i in range(3):
        conversations.record(conversation, _answer(str(i)))
    rating = feedback.add(Answer.from_json({"question": "q", "answer": "a"}), "up")

    postgres.stop()
    try:
        during = {
            "record": lambda: conversations.record(conversations.get_or_new(None), _answer("tijdens")),
            "history": lambda: conversations.history(conversation.id),
            "rate": lambda: feedback.add(Answer.from_json({"question": "q", "answer": "a"}), "down"),
            "comment": lambda: feedback.set_comment(rating, "tijdens"),
            "ping": feedback.ping,
        }
        for name, call in during.items():
            with pytest.raises(StoreError) as err:
                call()
            message = str(err.value)
            assert "restart_user:***@127.0.0.1" in message, name
            assert message.endswith("check that PostgreSQL is running and ASSISTANT_DATABASE_URL"), name
            assert SECRET not in message and "\n" not in message, name
    finally:
        postgres.start()

    # The same objects, not rebuilt: every row from before is there, and writing works again.
    assert [h.answer.text for h in conversations.history(conversation.id)] == ["0", "1", "2"]
    conversations.record(conversation, _answer("3"))
    assert [t.answer for t in conversations.get(conversation.id).turns] == ["0", "1", "2", "3"]
    feedback.set_comment(rating, "na de herstart")
    assert [(f.id, f.comment) for f in feedback.all()] == [(rating, "na de herstart")]
    feedback.ping()
    database.close()
