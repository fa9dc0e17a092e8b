"""Conversations: an id, a bounded history of turns, stored in SQLite so they survive a restart."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from assistant.types import Answer, Turn
from index.errors import InputError, StoreError

MAX_TURNS = 6  # turns kept for condensation and the model's context


@dataclass
class Conversation:
    """A conversation in memory; `turns` holds the most recent `MAX_TURNS` turns."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    turns: list[Turn] = field(default_factory=list)

    def add(self, turn: Turn) -> None:
        self.turns.append(turn)
        del self.turns[:-MAX_TURNS]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    position INTEGER NOT NULL,
    question TEXT NOT NULL,
    standalone_question TEXT NOT NULL,
    answer TEXT NOT NULL,
    language TEXT NOT NULL,
    mode TEXT NOT NULL,
    refused INTEGER NOT NULL,
    sources TEXT NOT NULL,
    created REAL NOT NULL,
    unverified INTEGER NOT NULL DEFAULT 0,
    flagged TEXT NOT NULL DEFAULT '[]',
    notices TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (conversation_id, position)
);
"""
# Columns added after the first release: databases created before them get them on open.
_ADDED_COLUMNS = {
    "unverified": "INTEGER NOT NULL DEFAULT 0",
    "flagged": "TEXT NOT NULL DEFAULT '[]'",
    "notices": "TEXT NOT NULL DEFAULT '[]'",
}


class ConversationStore:
    """Conversations in a SQLite file (one writer at a time, safe across threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            present = {row[1] for row in self._db.execute("PRAGMA table_info(turns)")}
            for column, kind in _ADDED_COLUMNS.items():
                if column not in present:
                    self._db.execute(f"ALTER TABLE turns ADD COLUMN {column} {kind}")
        except (OSError, sqlite3.Error) as err:
            raise StoreError(f"cannot open the conversation database {path}: {err}; check ASSISTANT_DATA_DIR") from err

    def new(self) -> Conversation:
        conversation = Conversation()
        now = time.time()
        with self._lock, self._db:
            self._db.execute("INSERT INTO conversations VALUES (?, ?, ?)", (conversation.id, now, now))
        return conversation

    def get(self, conversation_id: str) -> Conversation:
        """The stored conversation with its most recent turns; `InputError` if the id is unknown."""
        with self._lock:
            row = self._db.execute("SELECT id FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            if row is None:
                raise InputError(f"unknown conversation {conversation_id!r}; start a new conversation")
            rows = self._db.execute(
                "SELECT question, answer, standalone_question, language FROM turns WHERE conversation_id = ? "
                "ORDER BY position DESC LIMIT ?",
                (conversation_id, MAX_TURNS),
            ).fetchall()
        turns = [Turn(question=q, answer=a, standalone_question=s, language=lang) for q, a, s, lang in reversed(rows)]
        return Conversation(id=conversation_id, turns=turns)

    def get_or_new(self, conversation_id: str | None) -> Conversation:
        if conversation_id:
            try:
                return self.get(conversation_id)
            except InputError:
                conversation = Conversation(id=conversation_id)
                now = time.time()
                with self._lock, self._db:
                    self._db.execute(
                        "INSERT OR IGNORE INTO conversations VALUES (?, ?, ?)", (conversation_id, now, now)
                    )
                return conversation
        return self.new()

    def record(self, conversation: Conversation, answer: Answer) -> None:
        """Append the answered turn to the conversation, in memory and on disk."""
        turn = Turn(
            question=answer.question,
            answer=answer.text,
            standalone_question=answer.standalone_question,
            language=answer.language,
        )
        conversation.add(turn)
        now = time.time()
        sources = json.dumps([s.to_json() for s in answer.sources], ensure_ascii=False)
        with self._lock, self._db:
            self._db.execute("INSERT OR IGNORE INTO conversations VALUES (?, ?, ?)", (conversation.id, now, now))
            position = self._db.execute(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM turns WHERE conversation_id = ?", (conversation.id,)
            ).fetchone()[0]
            self._db.execute(
                "INSERT INTO turns (conversation_id, position, question, standalone_question, answer, language, "
                "mode, refused, sources, created, unverified, flagged, notices) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation.id,
                    position,
                    answer.question,
                    answer.standalone_question,
                    answer.text,
                    answer.language,
                    answer.mode,
                    int(answer.refused),
                    sources,
                    now,
                    int(answer.unverified),
                    json.dumps(list(answer.flagged), ensure_ascii=False),
                    json.dumps(list(answer.notices), ensure_ascii=False),
                ),
            )
            self._db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation.id))

    def history(self, conversation_id: str) -> list[dict[str, object]]:
        """Every stored turn of a conversation, oldest first, with its sources (for display and export)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT question, standalone_question, answer, language, mode, refused, sources, created, "
                "unverified, flagged, notices FROM turns WHERE conversation_id = ? ORDER BY position",
                (conversation_id,),
            ).fetchall()
        return [
            {
                "question": q,
                "standalone_question": s,
                "answer": a,
                "language": lang,
                "mode": m,
                "refused": bool(r),
                "sources": json.loads(src),
                "created": c,
                "unverified": bool(u),
                "flagged": json.loads(f),
                "notices": json.loads(n),
            }
            for q, s, a, lang, m, r, src, c, u, f, n in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._db.close()
