"""Feedback on answers (👍 / 👎 with an optional comment), kept in a database: a SQLite file in the data
directory by default, or PostgreSQL shared by several instances of the service.

Shared by the web UI, the Slack bot and the API: each rating is one row of the table `feedback`, with the answer
as the user saw it (text, sources, verdict, marks, latency); a Slack rating also has the Slack user, channel and
message ids in the table `slack_feedback`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import (
    CheckConstraint,
    Column,
    ColumnElement,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    Table,
    Text,
    case,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from assistant.types import Answer, Coverage, Language
from errors import InputError, NotFoundError
from storage.conversations import stored_answer
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
    # The rest of the answer as it was shown, for the review; ratings from before these columns have the
    # defaults ("" coverage: the verdict is not known).
    Column("refused", Integer, nullable=False, server_default="0"),
    Column("unverified", Integer, nullable=False, server_default="0"),
    Column("flagged", Text, nullable=False, server_default="[]"),
    Column("notices", Text, nullable=False, server_default="[]"),
    Column("coverage", Text, nullable=False, server_default=""),
    Column("missing", Text, nullable=False, server_default="[]"),
    Column("latency_ms", Float, nullable=False, server_default="0"),
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
_ADDED_COLUMNS = {
    "feedback": {
        "refused": "INTEGER NOT NULL DEFAULT 0",
        "unverified": "INTEGER NOT NULL DEFAULT 0",
        "flagged": "TEXT NOT NULL DEFAULT '[]'",
        "notices": "TEXT NOT NULL DEFAULT '[]'",
        "coverage": "TEXT NOT NULL DEFAULT ''",
        "missing": "TEXT NOT NULL DEFAULT '[]'",
        "latency_ms": "DOUBLE PRECISION NOT NULL DEFAULT 0",
    }
}
_f = _feedback.c
_COLUMNS = (
    _f.id,
    _f.created,
    _f.channel,
    _f.conversation_id,
    _f.question,
    _f.standalone_question,
    _f.answer,
    _f.sources,
    _f.mode,
    _f.language,
    _f.rating,
    _f.comment,
    _f.refused,
    _f.unverified,
    _f.flagged,
    _f.notices,
    _f.coverage,
    _f.missing,
    _f.latency_ms,
)
# The verdict of a row in SQL, as `turn_coverage` reads it in Python.
_verdict: ColumnElement[str] = case(
    (_f.coverage.in_(("answered", "partial", "not_covered")), _f.coverage),
    (_f.refused == 1, "not_covered"),
    else_="answered",
)


Channel = Literal["web", "slack", "api"]
CHANNELS: tuple[Channel, ...] = ("web", "slack", "api")


@dataclass(frozen=True)
class Feedback:
    """One stored rating of an answer."""

    id: int
    created: float
    channel: str
    answer: Answer  # as the user saw it (question, text, sources, verdict, marks, mode, language, conversation)
    rating: Rating
    comment: str

    @property
    def conversation_id(self) -> str | None:
        return self.answer.conversation_id


class FeedbackStore(TableStore):
    """Ratings in a database: a SQLite file (a `Path`) or a shared `Database`; safe across threads."""

    def __init__(self, database: Database | Path) -> None:
        super().__init__(database, _METADATA, _ADDED_COLUMNS)

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
            "refused": int(answer.refused),
            "unverified": int(answer.unverified),
            "flagged": json.dumps(list(answer.flagged), ensure_ascii=False),
            "notices": json.dumps(list(answer.notices), ensure_ascii=False),
            "coverage": answer.coverage,
            "missing": json.dumps(list(answer.missing), ensure_ascii=False),
            "latency_ms": round(answer.latency_ms, 1),
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

    def slack_user(self, feedback_id: int) -> str | None:
        """The Slack user who gave a rating; None for a rating from elsewhere (or an unknown id)."""
        s = _slack_feedback.c
        with self.database.connect("read the Slack ids of the rating") as db:
            found = db.execute(select(s.user_id).where(s.feedback_id == feedback_id)).first()
        return str(found[0]) if found else None

    def set_comment(self, feedback_id: int, comment: str) -> None:
        """Attach (or replace) the comment of a stored rating."""
        comment = _clean_comment(comment)
        with self.database.begin("store the comment") as db:
            changed = db.execute(update(_feedback).where(_f.id == feedback_id).values(comment=comment))
        if changed.rowcount == 0:
            raise InputError(f"unknown feedback {feedback_id}; rate the answer first")

    def get(self, feedback_id: int) -> Feedback:
        """One rating; `NotFoundError` when there is none with that id."""
        with self.database.connect("read the rating") as db:
            row = db.execute(select(*_COLUMNS).where(_f.id == feedback_id)).first()
        if row is None:
            raise NotFoundError(f"unknown feedback {feedback_id}; see `policy-assistant feedback list`")
        return _feedback_of(row)

    def all(self) -> list[Feedback]:
        """Every rating, oldest first."""
        with self.database.connect("read the ratings") as db:
            rows = db.execute(select(*_COLUMNS).order_by(_f.id)).all()
        return [_feedback_of(row) for row in rows]

    def search(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        channel: str | None = None,
        language: Language | None = None,
        verdict: Coverage | None = None,
        rating: Rating | None = None,
        attention: bool = False,
        conversation_ids: list[str] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Feedback]:
        """Ratings matching every given filter, newest first. `attention`: only 👎 and answers with an issue
        (not or partly covered, unverified, flagged); `conversation_ids`: only ratings of these conversations."""
        where: list[ColumnElement[bool]] = []
        if since is not None:
            where.append(_f.created >= since)
        if until is not None:
            where.append(_f.created < until)
        if channel is not None:
            where.append(_f.channel == channel)
        if language is not None:
            where.append(_f.language == language)
        if verdict is not None:
            where.append(_verdict == verdict)
        if rating is not None:
            where.append(_f.rating == rating)
        if attention:
            where.append(or_(_f.rating == "down", _verdict != "answered", _f.unverified == 1, _f.flagged != "[]"))
        if conversation_ids is not None:
            where.append(_f.conversation_id.in_(conversation_ids))
        query = select(*_COLUMNS).where(*where).order_by(_f.created.desc(), _f.id.desc()).limit(limit).offset(offset)
        with self.database.connect("read the ratings") as db:
            rows = db.execute(query).all()
        return [_feedback_of(row) for row in rows]

    def ratings_between(self, since: float, until: float | None = None) -> list[tuple[float, str, Rating]]:
        """(created, channel, rating) of every rating in a period, for the overview."""
        query = select(_f.created, _f.channel, _f.rating).where(_f.created >= since)
        if until is not None:
            query = query.where(_f.created < until)
        with self.database.connect("read the ratings") as db:
            return [(float(c), str(ch), r) for c, ch, r in db.execute(query).all()]

    def delete_before(self, cutoff: float) -> int:
        """Delete the ratings given before `cutoff` (a `time.time()`; the retention setting), their comments and
        Slack ids; how many."""
        old = select(_f.id).where(_f.created < cutoff)
        with self.database.begin("delete old ratings") as db:
            db.execute(delete(_slack_feedback).where(_slack_feedback.c.feedback_id.in_(old)))
            return int(db.execute(delete(_feedback).where(_f.created < cutoff)).rowcount or 0)


def _feedback_of(row: Sequence[Any]) -> Feedback:
    (i, c, ch, conv, q, s, a, src, m, lang, r, com, refused, unverified, flagged, notices, cov, miss, ms) = row
    answer = stored_answer(
        question=q,
        standalone=s,
        text=a,
        language=lang,
        mode=m,
        sources=src,
        refused=refused,
        unverified=unverified,
        flagged=flagged,
        notices=notices,
        coverage=cov,
        missing=miss,
        latency_ms=ms,
        conversation_id=conv,
    )
    return Feedback(id=i, created=c, channel=ch, answer=answer, rating=r, comment=com)


def _clean_comment(comment: str) -> str:
    text = str(comment or "").strip()
    if len(text) > MAX_COMMENT_CHARS:
        raise InputError(f"the comment is {len(text)} characters long; keep it under {MAX_COMMENT_CHARS} characters")
    return text
