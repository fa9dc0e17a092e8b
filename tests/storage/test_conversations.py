"""Conversations in SQLite: bounded history, every mark of an answer kept, old databases upgraded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assistant.conversation import MAX_TURNS
from assistant.types import EXTRACTIVE, Answer
from errors import InputError, NotFoundError
from storage.conversations import ConversationStore


def _answer(text: str, **marks: object) -> Answer:
    return Answer(
        question=f"vraag {text}",
        standalone_question=f"vraag {text}",
        language="nl",
        mode=EXTRACTIVE,
        text=text,
        sources=(),
        **marks,
    )  # type: ignore[arg-type]


def test_marks_survive_a_restart(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    conversation = store.new()
    store.record(conversation, _answer("een", unverified=True, flagged=("In 2019 waren het er 5.",), notices=("n",)))
    store.close()
    history = ConversationStore(tmp_path / "c.sqlite3").history(conversation.id)
    assert history[0].answer.unverified is True
    assert list(history[0].answer.flagged) == ["In 2019 waren het er 5."] and list(history[0].answer.notices) == ["n"]


def test_history_for_condensation_is_bounded(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    conversation = store.new()
    for i in range(MAX_TURNS + 3):
        store.record(conversation, _answer(str(i)))
    reloaded = store.get(conversation.id)
    assert [t.answer for t in reloaded.turns] == [str(i) for i in range(3, MAX_TURNS + 3)]
    assert len(store.history(conversation.id)) == MAX_TURNS + 3  # the full record stays for display and export


def test_unknown_conversation_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown conversation"):
        ConversationStore(tmp_path / "c.sqlite3").get("bestaat-niet")


def test_a_database_from_before_the_marks_is_upgraded_without_losing_turns(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE conversations (id TEXT PRIMARY KEY, created REAL NOT NULL, updated REAL NOT NULL);"
        "CREATE TABLE turns (conversation_id TEXT NOT NULL, position INTEGER NOT NULL, question TEXT NOT NULL,"
        " standalone_question TEXT NOT NULL, answer TEXT NOT NULL, language TEXT NOT NULL, mode TEXT NOT NULL,"
        " refused INTEGER NOT NULL, sources TEXT NOT NULL, created REAL NOT NULL,"
        " PRIMARY KEY (conversation_id, position));"
        "INSERT INTO conversations VALUES ('oud', 1, 1);"
        "INSERT INTO turns VALUES ('oud', 0, 'q0', 'q0', 'a0', 'nl', 'extractive', 0, '[]', 1);"
    )
    db.commit()
    db.close()
    store = ConversationStore(path)
    store.record(store.get("oud"), _answer("a1", unverified=True))
    assert [(h.answer.text, h.answer.unverified) for h in store.history("oud")] == [("a0", False), ("a1", True)]


def test_a_conversation_belongs_to_its_owner(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    mine = store.new(owner="api:a")
    store.record(mine, _answer("een"))
    assert len(mine.id) >= 32  # random, not guessable
    assert [t.answer for t in store.get(mine.id, owner="api:a").turns] == ["een"]
    # Another principal gets the same answer as for an id that does not exist: nothing to probe.
    for other in ("api:b", "web:session:x"):
        with pytest.raises(NotFoundError, match="unknown conversation"):
            store.get(mine.id, owner=other)
        with pytest.raises(NotFoundError):
            store.history(mine.id, owner=other)
        with pytest.raises(NotFoundError):
            store.get_or_new(mine.id, owner=other)  # not a new conversation under someone else's id
    with pytest.raises(NotFoundError):
        store.get("no-such-id", owner="api:a")
    assert [h.answer.text for h in store.history(mine.id)] == ["een"]  # the command line sees everything


def test_a_server_derived_id_is_created_once_for_its_owner(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    thread = store.get_or_new("slack-T1-C1-1.2", owner="slack:T1:C1:1.2")
    store.record(thread, _answer("een"))
    again = store.get_or_new("slack-T1-C1-1.2", owner="slack:T1:C1:1.2")
    assert [t.answer for t in again.turns] == ["een"]
    with pytest.raises(NotFoundError):
        store.get_or_new("slack-T1-C1-1.2", owner="web:session:x")
