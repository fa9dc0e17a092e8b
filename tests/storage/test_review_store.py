"""The review store, the Slack bot's shared state and retention, on SQLite and on a real PostgreSQL server:
which answers a reviewer sees and how filters narrow them, one review per item, the weekly overview, state
that holds across instances, and old data that goes with its notes."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from assistant.types import EXTRACTIVE, Answer, Mode, Source
from errors import InputError, NotFoundError
from storage.answers import AnswerStore
from storage.conversations import ConversationStore
from storage.db import Database, open_database
from storage.feedback import FeedbackStore
from storage.retention import RetentionSchedule, purge
from storage.review import ItemFilter, ReviewStore, week_of
from storage.slack_state import SlackState

DAY = 86400.0


def _answer(question: str, **fields: object) -> Answer:
    source = Source(1, "c1", "pact-2020", "Migratiepact", "Pact", 2020, "2.5 Terugkeer", "2 > 2.5", "Tekst.", 0.9)
    values: dict[str, object] = {
        "question": question,
        "standalone_question": question,
        "language": "nl",
        "mode": EXTRACTIVE,
        "text": f"antwoord op {question} [1]",
        "sources": (source,),
        "latency_ms": 100.0,
    }
    return Answer(**{**values, **fields})  # type: ignore[arg-type]


@pytest.fixture
def open_db(location: Path | str) -> Iterator[Callable[[], Database]]:
    opened: list[Database] = []

    def open_() -> Database:
        database = open_database(location)
        opened.append(database)
        return database

    yield open_
    for database in opened:
        database.close()


class Seeded:
    """Answers as the interfaces record them: turns of conversations (web, Slack, API, the command line) and
    ratings of some of them."""

    def __init__(self, database: Database) -> None:
        self.conversations = ConversationStore(database)
        self.feedback = FeedbackStore(database)
        self.review = ReviewStore(self.conversations, self.feedback)

    def turn(self, owner: str | None, answer: Answer) -> Answer:
        conversation = self.conversations.new(owner)
        answer = Answer(**{**answer.__dict__, "conversation_id": conversation.id})
        self.conversations.record(conversation, answer)
        return answer

    def age(self, table: str, seconds: float, where: str = "1=1") -> None:
        """Move rows of `table` back in time (`created`, and `updated` of conversations)."""
        with self.conversations.database.begin("age rows") as db:
            db.execute(text(f"UPDATE {table} SET created = created - :s WHERE {where}"), {"s": seconds})
            if table == "conversations":
                db.execute(text(f"UPDATE {table} SET updated = updated - :s WHERE {where}"), {"s": seconds})


@pytest.fixture
def seeded(open_db: Callable[[], Database]) -> Seeded:
    return Seeded(open_db())


def test_the_queue_holds_thumbs_down_and_answers_with_an_issue_newest_first(seeded: Seeded) -> None:
    ok = seeded.turn("web:user:ana", _answer("goed beantwoord"))
    seeded.turn("web:user:ana", _answer("ook goed"))
    refused = seeded.turn("slack:T1:C1:1.1", _answer("niet gedekt", coverage="not_covered", refused=True))
    partial = seeded.turn("api:abc", _answer("deels", coverage="partial", missing=("het bedrag",)))
    seeded.turn(None, _answer("ongeverifieerd", unverified=True))
    seeded.turn("web:session:x", _answer("gemarkeerd", flagged=("In 2019 waren het er 5.",)))
    seeded.feedback.add(ok, "up", channel="web")  # 👍 on a good answer: nothing to review
    down = seeded.feedback.add(partial, "down", "het bedrag ontbreekt", channel="api")

    items = seeded.review.items()
    # The rated answer once, as its rating (its turn is not listed again); the 👍 and the good answers not at all.
    assert [i.answer.question for i in items] == ["deels", "gemarkeerd", "ongeverifieerd", "niet gedekt"]
    rated = items[0]
    assert (rated.key, rated.rating, rated.comment, rated.channel) == (
        f"f{down}",
        "down",
        "het bedrag ontbreekt",
        "api",
    )
    assert rated.answer.coverage == "partial" and rated.answer.missing == ("het bedrag",)
    assert rated.issues == ("down", "partial")
    assert [i.channel for i in items[1:]] == ["web", "cli", "slack"]
    assert items[3].key.startswith("t0-") and items[3].answer.conversation_id == refused.conversation_id
    assert items[1].issues == ("flagged",) and items[2].issues == ("unverified",)


def test_filters_narrow_the_list(seeded: Seeded) -> None:
    seeded.turn("web:user:ana", _answer("web nl", coverage="not_covered", refused=True))
    english = seeded.turn("slack:T1:C1:1.1", _answer("slack en", language="en", coverage="partial"))
    seeded.turn(None, _answer("cli", unverified=True))
    rated = seeded.feedback.add(english, "down", channel="slack")
    up = seeded.feedback.add(_answer("los", conversation_id=None), "up", channel="web")

    def questions(**filters: object) -> list[str]:
        return [i.answer.question for i in seeded.review.items(ItemFilter(**filters))]  # type: ignore[arg-type]

    assert questions(channel="web") == ["web nl"]
    assert questions(channel="cli") == ["cli"]
    assert questions(channel="slack") == ["slack en"]
    assert questions(language="en") == ["slack en"]
    assert questions(verdict="not_covered") == ["web nl"]
    assert questions(rating="down") == ["slack en"]
    assert questions(rating="up") == ["los"]
    assert questions(rating="unrated") == ["cli", "web nl"]
    assert questions(rating="any") == ["los", "slack en", "cli", "web nl"]
    tomorrow = time.time() + DAY
    assert questions(since=tomorrow) == []
    assert questions(until=tomorrow) == ["slack en", "cli", "web nl"]
    assert len(seeded.review.items(limit=1)) == 1 and len(seeded.review.items(limit=1, offset=1)) == 1
    assert [i.key for i in seeded.review.items(ItemFilter(rating="any"))][:2] == [f"f{up}", f"f{rated}"]

    for bad, message in (
        ({"channel": "fax"}, "unknown channel 'fax'"),
        ({"verdict": "maybe"}, "unknown verdict 'maybe'"),
        ({"status": "done"}, "unknown status 'done'"),
        ({"since": 10.0, "until": 5.0}, "ends before it starts"),
    ):
        with pytest.raises(InputError, match=message):
            ItemFilter(**bad)  # type: ignore[arg-type]


def test_an_item_is_reviewed_once_with_its_note_and_bad_keys_change_nothing(seeded: Seeded) -> None:
    answer = seeded.turn("web:user:ana", _answer("eerste"))
    seeded.turn("web:user:ana", _answer("tweede", coverage="not_covered", refused=True))
    key = f"f{seeded.feedback.add(answer, 'down', 'onvolledig')}"

    review = seeded.review.mark_reviewed(key, "bram", "bron ontbrak; toegevoegd aan de gouden set")
    assert review.reviewer == "bram"
    with pytest.raises(InputError, match=f"{key} was already reviewed by bram on .*; its note stays"):
        seeded.review.mark_reviewed(key, "ana", "anders")
    assert seeded.review.get(key).review == review
    assert [i.key for i in seeded.review.items(ItemFilter(status="reviewed"))] == [key]
    assert key not in [i.key for i in seeded.review.items()]  # the queue holds open items only

    for bad in ("f999999", "t0-onbekend", "x", "", "f1; DROP TABLE reviews"):
        with pytest.raises(NotFoundError, match="unknown review item"):
            seeded.review.mark_reviewed(bad, "bram", "notitie")
    with pytest.raises(InputError, match="under 2000 characters"):
        seeded.review.mark_reviewed(seeded.review.items()[0].key, "bram", "x" * 2001)
    assert [i.key for i in seeded.review.items(ItemFilter(status="reviewed"))] == [key]


def test_a_rated_turn_is_found_with_its_position_and_earlier_turns(seeded: Seeded) -> None:
    conversation = seeded.conversations.new("web:user:ana")
    first = _answer("Hoeveel asielaanvragen in 2019?", conversation_id=conversation.id)
    second = _answer(
        "En in 2015?", standalone_question="Hoeveel asielaanvragen in 2015?", conversation_id=conversation.id
    )
    seeded.conversations.record(conversation, first)
    seeded.conversations.record(conversation, second)
    item = seeded.review.get(f"f{seeded.feedback.add(second, 'down')}")
    assert item.position == 1
    assert [a.question for a in seeded.review.earlier_turns(item)] == ["Hoeveel asielaanvragen in 2019?"]


def test_the_overview_counts_per_week_and_channel(seeded: Seeded) -> None:
    web = [seeded.turn("web:user:ana", _answer(f"w{i}", latency_ms=100.0 * (i + 1))) for i in range(4)]
    seeded.turn("web:user:ana", _answer("geweigerd", coverage="not_covered", refused=True, latency_ms=50.0))
    seeded.turn("slack:T1:C1:1.1", _answer("deels", coverage="partial", latency_ms=900.0))
    seeded.feedback.add(web[0], "up")
    seeded.feedback.add(web[1], "down")
    seeded.turn("api:x", _answer("vorige week"))
    seeded.age("turns", 7 * DAY, "question = 'vorige week'")

    stats = seeded.review.overview(time.time() - 30 * DAY)
    this_week, last_week = week_of(time.time()), week_of(time.time() - 7 * DAY)
    by = {(s.week, s.channel): s for s in stats}
    assert set(by) == {(this_week, "web"), (this_week, "slack"), (last_week, "api")}
    web_week = by[(this_week, "web")]
    assert (web_week.asked, web_week.rated, web_week.up, web_week.down, web_week.not_covered) == (5, 2, 1, 1, 1)
    assert web_week.share_rated == pytest.approx(0.4) and web_week.share_up == 0.5 and web_week.share_down == 0.5
    assert web_week.refusal_rate == pytest.approx(0.2) and web_week.partial_rate == 0.0
    assert web_week.median_latency_ms == 200.0  # of 50, 100, 200, 300, 400
    slack_week = by[(this_week, "slack")]
    assert (slack_week.partial_rate, slack_week.share_rated, slack_week.median_latency_ms) == (1.0, 0.0, 900.0)
    assert stats[0].week == last_week and this_week.weekday() == 0


def test_retention_deletes_old_conversations_answers_ratings_and_their_notes(seeded: Seeded) -> None:
    database = seeded.conversations.database
    answers = AnswerStore(database)
    old = seeded.turn("slack:T1:C1:1.1", _answer("oud", coverage="not_covered", refused=True))
    new = seeded.turn("web:user:ana", _answer("nieuw", coverage="not_covered", refused=True))
    old_rating = seeded.feedback.add(old, "down", "weg ermee", channel="slack")
    seeded.feedback.add_slack_ids(old_rating, "U1", "C1", "1.2", "T1")
    new_rating = seeded.feedback.add(new, "down")
    old_answer, new_answer = answers.issue(old, "api:x"), answers.issue(new, "api:x")
    seeded.review.mark_reviewed(f"f{old_rating}", "bram", "gezien")
    seeded.review.mark_reviewed(f"f{new_rating}", "bram", "ook gezien")
    for table in ("turns", "feedback", "issued_answers"):
        seeded.age(table, 40 * DAY, "question = 'oud'" if table != "issued_answers" else f"id = '{old_answer}'")
    seeded.age("conversations", 40 * DAY, f"id = '{old.conversation_id}'")
    with database.begin("age the old note") as db:
        db.execute(text("UPDATE reviews SET item_created = item_created - :s WHERE item = :k"),
                   {"s": 40 * DAY, "k": f"f{old_rating}"})  # fmt: skip

    stores = {"notes": seeded.review, "ratings": seeded.feedback, "turns": seeded.conversations, "answers": answers}
    assert purge(30, stores) == {"notes": 1, "ratings": 1, "turns": 1, "answers": 1}
    assert [f.answer.question for f in seeded.feedback.all()] == ["nieuw"]
    assert seeded.conversations.history(str(new.conversation_id))[0].answer.question == "nieuw"
    with pytest.raises(NotFoundError):
        seeded.conversations.get(str(old.conversation_id))
    assert answers.get(new_answer, "api:x").question == "nieuw"
    with pytest.raises(NotFoundError):
        answers.get(old_answer, "api:x")
    assert [i.key for i in seeded.review.items(ItemFilter(status="reviewed", rating="any"))] == [f"f{new_rating}"]
    with database.connect("count") as db:
        assert db.execute(text("SELECT COUNT(*) FROM slack_feedback")).scalar_one() == 0
    assert purge(30, stores) == {"notes": 0, "ratings": 0, "turns": 0, "answers": 0}
    with pytest.raises(InputError, match="use 1 or more"):
        purge(0, stores)


def test_the_retention_schedule_runs_at_once_and_survives_a_failing_store(seeded: Seeded) -> None:
    seeded.turn("web:user:ana", _answer("oud"))
    seeded.age("turns", 10 * DAY)
    schedule = RetentionSchedule(5, lambda: {"turns": seeded.conversations}, interval=0.05).start()
    deadline = time.monotonic() + 10
    while schedule.runs < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    schedule.stop()
    assert schedule.runs >= 2
    assert seeded.review.overview(0) == [], "the old turn is gone"

    def broken() -> dict[str, ConversationStore]:
        raise NotFoundError("the database is gone")

    assert RetentionSchedule(5, broken).run_once() is None  # logged, never raised


def test_slack_state_holds_across_instances(open_db: Callable[[], Database]) -> None:
    first, second = SlackState(open_db()), SlackState(open_db())
    assert first.first_time("Ev1", "msg:C1:1.1")
    assert not second.first_time("Ev1")  # a retry reaching another instance
    assert not second.first_time("Ev2", "msg:C1:1.1")  # the same message as another event
    assert second.first_time("Ev3", "msg:C1:1.2")
    later = SlackState(open_db(), seen_ttl=0.2)
    time.sleep(0.3)
    assert later.first_time("Ev1"), "forgotten after the time Slack retries in"

    allowed: list[float] = []
    lock = threading.Lock()

    def ask(state: SlackState) -> None:
        wait = state.check_rate("U1", 3, 60)
        with lock:
            allowed.append(wait)

    threads = [threading.Thread(target=ask, args=(state,)) for state in (first, second) * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(w == 0 for w in allowed).count(True) == 3, "exactly the limit, across both instances"
    assert all(0 < w <= 60 for w in allowed if w)
    assert first.check_rate("U2", 3, 60) == 0, "another user is not limited"
    assert first.check_rate("U1", 0, 60) == 0, "0: no limit"
    assert SlackState(open_db()).check_rate("U1", 3, 60) > 0, "a restarted bot still counts"


def test_ratings_from_before_the_verdict_columns_are_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL, channel TEXT NOT NULL,"
            " conversation_id TEXT, question TEXT NOT NULL, standalone_question TEXT NOT NULL, answer TEXT NOT NULL,"
            " sources TEXT NOT NULL, mode TEXT NOT NULL, language TEXT NOT NULL, rating TEXT NOT NULL,"
            " comment TEXT NOT NULL DEFAULT '');"
            f"INSERT INTO feedback (created, channel, question, standalone_question, answer, sources, mode, language,"
            f" rating, comment) VALUES ({time.time()}, 'web', 'oude vraag', 'oude vraag', 'a', '[]', 'extractive',"
            " 'nl', 'down', 'oud');"
        )
    store = FeedbackStore(path)
    (old,) = store.all()
    assert (old.answer.question, old.answer.coverage, old.rating, old.comment) == (
        "oude vraag",
        "answered",
        "down",
        "oud",
    )
    new = store.get(store.add(_answer("nieuw", coverage="partial", flagged=("x",), mode=Mode("openai", "m")), "up"))
    assert (new.answer.coverage, new.answer.flagged, str(new.answer.mode), new.answer.latency_ms) == (
        "partial",
        ("x",),
        "openai:m",
        100.0,
    )
    assert week_of(dt.datetime(2025, 3, 6, 12, tzinfo=dt.UTC).timestamp()) == dt.date(2025, 3, 3)
