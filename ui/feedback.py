"""Feedback on answers (👍 / 👎 with an optional comment), kept in a SQLite file in the data directory.

Shared by the web UI and, later, the Slack bot: each rating is one row of the table `feedback`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from index.errors import InputError, StoreError

Rating = Literal["up", "down"]
MAX_COMMENT_CHARS = 2000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    channel TEXT NOT NULL,
    conversation_id TEXT,
    question TEXT NOT NULL,
    standalone_question TEXT NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL,
    mode TEXT NOT NULL,
    language TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT ''
);
"""


@dataclass(frozen=True)
class Feedback:
    """One stored rating."""

    id: int
    created: float
    channel: str
    conversation_id: str | None
    question: str
    standalone_question: str
    answer: str
    sources: list[dict[str, Any]]
    mode: str
    language: str
    rating: Rating
    comment: str


class FeedbackStore:
    """Ratings in a SQLite file (safe across threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise StoreError(f"cannot open the feedback database {path}: {err}; check ASSISTANT_DATA_DIR") from err

    def add(
        self,
        answer: Mapping[str, Any],
        rating: Rating,
        comment: str = "",
        *,
        channel: str = "web",
    ) -> int:
        """Store a rating of `answer` (an `Answer.to_json()` object) and return its id."""
        if rating not in ("up", "down"):
            raise InputError(f"unknown rating {rating!r}; use up or down")
        comment = _clean_comment(comment)
        sources: Sequence[Any] = answer.get("sources") or []
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO feedback (created, channel, conversation_id, question, standalone_question, answer, "
                "sources, mode, language, rating, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    channel,
                    answer.get("conversation_id"),
                    str(answer.get("question", "")),
                    str(answer.get("standalone_question", "")),
                    str(answer.get("answer", "")),
                    json.dumps(list(sources), ensure_ascii=False),
                    str(answer.get("mode", "")),
                    str(answer.get("language", "")),
                    rating,
                    comment,
                ),
            )
            return int(cursor.lastrowid or 0)

    def set_comment(self, feedback_id: int, comment: str) -> None:
        """Attach (or replace) the comment of a stored rating."""
        comment = _clean_comment(comment)
        with self._lock, self._db:
            cursor = self._db.execute("UPDATE feedback SET comment = ? WHERE id = ?", (comment, feedback_id))
        if cursor.rowcount == 0:
            raise InputError(f"unknown feedback {feedback_id}; rate the answer first")

    def all(self) -> list[Feedback]:
        """Every rating, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, created, channel, conversation_id, question, standalone_question, answer, sources, "
                "mode, language, rating, comment FROM feedback ORDER BY id"
            ).fetchall()
        return [
            Feedback(i, c, ch, conv, q, s, a, json.loads(src), m, lang, r, com)
            for i, c, ch, conv, q, s, a, src, m, lang, r, com in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _clean_comment(comment: str) -> str:
    text = str(comment or "").strip()
    if len(text) > MAX_COMMENT_CHARS:
        raise InputError(f"the comment is {len(text)} characters long; keep it under {MAX_COMMENT_CHARS} characters")
    return text
