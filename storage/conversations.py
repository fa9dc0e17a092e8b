"""The conversation store: conversations and their turns in a database, so they survive a restart.

The database is a SQLite file by default, or PostgreSQL shared by several instances of the service.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import cast

from sqlalchemy import Column, Float, ForeignKey, Integer, MetaData, Table, Text, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Executable

from assistant.conversation import MAX_TURNS, Conversation
from assistant.types import COVERAGES, Answer, Coverage, Mode, RecordedTurn, Source, Turn
from errors import NotFoundError, StoreError
from storage.db import SECONDS, Database, TableStore

_METADATA = MetaData()
_conversations = Table(
    "conversations",
    _METADATA,
    Column("id", Text, primary_key=True),
    Column("created", SECONDS, nullable=False),
    Column("updated", SECONDS, nullable=False),
    Column("owner", Text),  # the principal it belongs to; NULL: from before owners (the CLI's only)
)
_turns = Table(
    "turns",
    _METADATA,
    Column("conversation_id", Text, ForeignKey("conversations.id"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("question", Text, nullable=False),
    Column("standalone_question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("language", Text, nullable=False),
    Column("mode", Text, nullable=False),
    Column("refused", Integer, nullable=False),
    Column("sources", Text, nullable=False),
    Column("created", SECONDS, nullable=False),
    Column("unverified", Integer, nullable=False, server_default="0"),
    Column("flagged", Text, nullable=False, server_default="[]"),
    Column("notices", Text, nullable=False, server_default="[]"),
    # The verdict and the time it took, for the review of answers: "" is a turn from before verdicts (its
    # `refused` says it), and 0 ms one from before latencies were kept.
    Column("coverage", Text, nullable=False, server_default=""),
    Column("missing", Text, nullable=False, server_default="[]"),
    Column("latency_ms", Float, nullable=False, server_default="0"),
)
# Columns added after the first release: databases created before them get them on open.
_ADDED_COLUMNS = {
    "conversations": {"owner": "TEXT"},
    "turns": {
        "unverified": "INTEGER NOT NULL DEFAULT 0",
        "flagged": "TEXT NOT NULL DEFAULT '[]'",
        "notices": "TEXT NOT NULL DEFAULT '[]'",
        "coverage": "TEXT NOT NULL DEFAULT ''",
        "missing": "TEXT NOT NULL DEFAULT '[]'",
        "latency_ms": "DOUBLE PRECISION NOT NULL DEFAULT 0",
    },
}
# Another instance may take a turn's position (MAX + 1) first; the loser tries again with the next one.
_RECORD_ATTEMPTS = 30


class ConversationStore(TableStore):
    """Conversations in a database: a SQLite file (a `Path`) or a shared `Database`; safe across threads."""

    def __init__(self, database: Database | Path) -> None:
        super().__init__(database, _METADATA, _ADDED_COLUMNS)

    def new(self, owner: str | None = None) -> Conversation:
        """A new conversation of `owner` under a random, unguessable id."""
        conversation = Conversation(owner=owner)
        now = time.time()
        with self.database.begin("start a conversation") as db:
            db.execute(insert(_conversations).values(id=conversation.id, created=now, updated=now, owner=owner))
        return conversation

    def get(self, conversation_id: str, owner: str | None = None) -> Conversation:
        """The stored conversation with its most recent turns. `NotFoundError` if the id is unknown or, when
        `owner` is given, belongs to someone else (the same answer, so ids cannot be probed). `owner=None` is
        the trusted local caller (the command line), which may open any conversation."""
        t = _turns.c
        with self.database.connect("read the conversation") as db:
            self._check_owner(db, conversation_id, owner)
            rows = db.execute(
                select(t.question, t.answer, t.standalone_question, t.language)
                .where(t.conversation_id == conversation_id)
                .order_by(t.position.desc())
                .limit(MAX_TURNS)
            ).all()
        turns = [Turn(question=q, answer=a, standalone_question=s, language=lang) for q, a, s, lang in reversed(rows)]
        return Conversation(id=conversation_id, turns=turns, owner=owner)

    def get_or_new(self, conversation_id: str | None, owner: str | None = None) -> Conversation:
        """The conversation `conversation_id` of `owner`, created under that id when it does not exist yet:
        only for ids the server derives itself (a Slack thread), never for ids a client sent. `NotFoundError`
        when the id belongs to another owner."""
        if not conversation_id:
            return self.new(owner)
        try:
            return self.get(conversation_id, owner)
        except NotFoundError:
            now = time.time()
            with self.database.begin("start a conversation") as db:
                db.execute(self._add_conversation(conversation_id, now, owner))
            return self.get(conversation_id, owner)  # another owner's id stays theirs: NotFoundError again

    def _check_owner(self, db: Connection, conversation_id: str, owner: str | None) -> None:
        found = db.execute(select(_conversations.c.owner).where(_conversations.c.id == conversation_id)).first()
        if found is None or (owner is not None and found[0] != owner):
            raise NotFoundError(f"unknown conversation {conversation_id!r}; start a new conversation")

    def record(self, conversation: Conversation, answer: Answer) -> None:
        """Append the answered turn to the conversation, in memory and in the database."""
        conversation.add(answer.turn)
        row = {
            "conversation_id": conversation.id,
            "question": answer.question,
            "standalone_question": answer.standalone_question,
            "answer": answer.text,
            "language": answer.language,
            "mode": str(answer.mode),
            "refused": int(answer.refused),
            "sources": json.dumps([s.to_json() for s in answer.sources], ensure_ascii=False),
            "unverified": int(answer.unverified),
            "flagged": json.dumps(list(answer.flagged), ensure_ascii=False),
            "notices": json.dumps(list(answer.notices), ensure_ascii=False),
            "coverage": answer.coverage,
            "missing": json.dumps(list(answer.missing), ensure_ascii=False),
            "latency_ms": round(answer.latency_ms, 1),
        }
        t = _turns.c
        for attempt in range(_RECORD_ATTEMPTS):
            now = time.time()
            try:
                with self.database.begin("record the answer", conflicts=True) as db:
                    # The write comes first: SQLite then holds the write lock while it reads the position.
                    db.execute(self._add_conversation(conversation.id, now, conversation.owner))
                    position = db.execute(
                        select(func.coalesce(func.max(t.position), -1) + 1).where(t.conversation_id == conversation.id)
                    ).scalar_one()
                    db.execute(insert(_turns).values(**row, position=position, created=now))
                    db.execute(update(_conversations).where(_conversations.c.id == conversation.id).values(updated=now))
                return
            except IntegrityError:
                time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # another instance took the position
        raise StoreError(
            f"cannot record the answer in conversation {conversation.id!r}: other instances kept taking its next "
            f"position in {self.database.location}; ask again"
        )

    def history(self, conversation_id: str, owner: str | None = None) -> list[RecordedTurn]:
        """Every stored turn of a conversation, oldest first, with its sources (for display and export).
        With `owner`, `NotFoundError` unless the conversation is theirs."""
        t = _turns.c
        with self.database.connect("read the conversation") as db:
            if owner is not None:
                self._check_owner(db, conversation_id, owner)
            rows = db.execute(
                select(
                    t.question,
                    t.standalone_question,
                    t.answer,
                    t.language,
                    t.mode,
                    t.refused,
                    t.sources,
                    t.created,
                    t.unverified,
                    t.flagged,
                    t.notices,
                    t.coverage,
                    t.missing,
                    t.latency_ms,
                )
                .where(t.conversation_id == conversation_id)
                .order_by(t.position)
            ).all()
        return [
            RecordedTurn(
                answer=stored_answer(
                    question=q,
                    standalone=s,
                    text=a,
                    language=lang,
                    mode=m,
                    sources=src,
                    refused=r,
                    unverified=u,
                    flagged=f,
                    notices=n,
                    coverage=cov,
                    missing=miss,
                    latency_ms=ms,
                    conversation_id=conversation_id,
                ),
                created=c,
            )
            for q, s, a, lang, m, r, src, c, u, f, n, cov, miss, ms in rows
        ]

    def delete_before(self, cutoff: float) -> int:
        """Delete the turns recorded before `cutoff` (a `time.time()`) and the conversations idle since before
        it (the retention setting); the number of turns deleted."""
        t, c = _turns.c, _conversations.c
        with self.database.begin("delete old conversations") as db:
            turns = db.execute(delete(_turns).where(t.created < cutoff)).rowcount
            has_turns = select(t.position).where(t.conversation_id == c.id).exists()
            db.execute(delete(_conversations).where(c.updated < cutoff, ~has_turns))
        return int(turns or 0)

    def _add_conversation(self, conversation_id: str, now: float, owner: str | None) -> Executable:
        return (
            self.database.insert(_conversations)
            .values(id=conversation_id, created=now, updated=now, owner=owner)
            .on_conflict_do_nothing(index_elements=["id"])
        )


def turn_coverage(stored: str, refused: bool) -> Coverage:
    """The verdict of a stored turn; turns stored before verdicts have only `refused`."""
    if stored in COVERAGES:
        return cast(Coverage, stored)
    return "not_covered" if refused else "answered"


def stored_answer(
    *,
    question: str,
    standalone: str,
    text: str,
    language: str,
    mode: str,
    sources: str,
    refused: int | bool,
    unverified: int | bool,
    flagged: str,
    notices: str,
    coverage: str,
    missing: str,
    latency_ms: float | None,
    conversation_id: str | None,
) -> Answer:
    """An answer from the columns the stores keep it in (lists as JSON text): turns, ratings, review items."""
    return Answer(
        question=question,
        standalone_question=standalone,
        language="en" if language == "en" else "nl",
        mode=Mode.parse(mode),
        text=text,
        sources=tuple(Source.from_json(x) for x in json.loads(sources)),
        refused=bool(refused),
        unverified=bool(unverified),
        flagged=tuple(json.loads(flagged)),
        notices=tuple(json.loads(notices)),
        latency_ms=float(latency_ms or 0.0),
        conversation_id=conversation_id,
        coverage=turn_coverage(coverage, bool(refused)),
        missing=tuple(json.loads(missing)),
    )
