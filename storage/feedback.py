"""Feedback on answers (👍 / 👎 with an optional comment), kept in a database: a SQLite file in the data
directory by default, or PostgreSQL shared by several instances of the service.

Shared by the web UI and the Slack bot: each rating is one row of the table `feedback`; a Slack rating also
has the Slack user, channel and message ids in the table `slack_feedback`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, MetaData, Table, Text, insert, select, update
from sqlalchemy.exc import IntegrityError

from assistant.types import Answer, Mode, Source
from errors import InputError
from storage.db import SECONDS, Database, TableStore

Rating = Literal["up", "down"]
MAX_COMMENT_CHARS = 2000

_METADATA = MetaData()
_feedback = Table(
    "feedback",
    _METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created", SECONDS, nullable=False),
    Column("channel", Text, nullable=False),
    Column("conversation_id", Text),
    Column("question", Text, nullable=False),
    Column("standalone_question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("sources", Text, nullable=False),
    Column("mode", Text, nullable=False),
    Column("language", Text, nullable=False),
    Column("rating", Text, CheckConstraint("rating IN ('up', 'down')"), nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    sqlite_autoincrement=True,
)
_slack_feedback = Table(
    "slack_feedback",
    _METADATA,
    Column("feedback_id", Integer, ForeignKey("feedback.id"), primary_key=True, autoincrement=False),
    Column("user_id", Text, nullable=False),
    Column("channel_id", Text, nullable=False),
    Column("message_ts", Text, nullable=False),
    Column("team_id", Text),
)


Channel = Literal["web", "slack", "api"]


@dataclass(frozen=True)
class Feedback:
    """One stored rating of an answer."""

    id: int
    created: float
    channel: str
    answer: Answer  # as the user saw it (question, text, sources, mode, language, conversation)
    rating: Rating
    comment: str

    @property
    def conversation_id(self) -> str | None:
        return self.answer.conversation_id


class FeedbackStore(TableStore):
    """Ratings in a database: a SQLite file (a `Path`) or a shared `Database`; safe across threads."""

    def __init__(self, database: Database | Path) -> None:
        super().__init__(database, _METADATA)

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None on a database server."""
        return self.database.path

    def add(self, answer: Answer, rating: Rating, comment: str = "", *, channel: Channel = "web") -> int:
        """Store a rating of `answer` and return its id."""
        if rating not in ("up", "down"):
            raise InputError(f"unknown rating {rating!r}; use up or down")
        comment = _clean_comment(comment)
        row = {
            "created": time.time(),
            "channel": channel,
            "conversation_id": answer.conversation_id,
            "question": answer.question,
            "standalone_question": answer.standalone_question,
            "answer": answer.text,
            "sources": json.dumps([s.to_json() for s in answer.sources], ensure_ascii=False),
            "mode": str(answer.mode),
            "language": answer.language,
            "rating": rating,
            "comment": comment,
        }
        with self.database.begin("store the rating") as db:
            key = db.execute(insert(_feedback).values(**row)).inserted_primary_key
        return int(key[0]) if key else 0

    def add_slack_ids(
        self, feedback_id: int, user_id: str, channel_id: str, message_ts: str, team_id: str | None
    ) -> None:
        """Attach (or replace) the Slack user, channel and message of a stored rating."""
        ids = {"user_id": user_id, "channel_id": channel_id, "message_ts": message_ts, "team_id": team_id}
        statement = (
            self.database.insert(_slack_feedback)
            .values(feedback_id=feedback_id, **ids)
            .on_conflict_do_update(index_elements=["feedback_id"], set_=ids)
        )
        try:
            with self.database.begin("store the Slack ids of the rating", conflicts=True) as db:
                db.execute(statement)
        except IntegrityError as err:  # PostgreSQL checks the reference to `feedback`
            raise InputError(f"unknown feedback {feedback_id}; rate the answer first") from err

    def set_comment(self, feedback_id: int, comment: str) -> None:
        """Attach (or replace) the comment of a stored rating."""
        comment = _clean_comment(comment)
        with self.database.begin("store the comment") as db:
            changed = db.execute(update(_feedback).where(_feedback.c.id == feedback_id).values(comment=comment))
        if changed.rowcount == 0:
            raise InputError(f"unknown feedback {feedback_id}; rate the answer first")

    def all(self) -> list[Feedback]:
        """Every rating, oldest first."""
        f = _feedback.c
        with self.database.connect("read the ratings") as db:
            rows = db.execute(
                select(
                    f.id,
                    f.created,
                    f.channel,
                    f.conversation_id,
                    f.question,
                    f.standalone_question,
                    f.answer,
                    f.sources,
                    f.mode,
                    f.language,
                    f.rating,
                    f.comment,
                ).order_by(f.id)
            ).all()
        return [
            Feedback(
                id=i,
                created=c,
                channel=ch,
                answer=Answer(
                    question=q,
                    standalone_question=s,
                    language="en" if lang == "en" else "nl",
                    mode=Mode.parse(m),
                    text=a,
                    sources=tuple(Source.from_json(x) for x in json.loads(src)),
                    conversation_id=conv,
                ),
                rating=r,
                comment=com,
            )
            for i, c, ch, conv, q, s, a, src, m, lang, r, com in rows
        ]


def _clean_comment(comment: str) -> str:
    text = str(comment or "").strip()
    if len(text) > MAX_COMMENT_CHARS:
        raise InputError(f"the comment is {len(text)} characters long; keep it under {MAX_COMMENT_CHARS} characters")
    return text
