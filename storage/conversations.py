"""The conversation store: conversations and their turns in a database, so they survive a restart.

The database is a SQLite file by default, or PostgreSQL shared by several instances of the service.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, Text, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Executable

from assistant.conversation import MAX_TURNS, Conversation
from assistant.types import Answer, Mode, RecordedTurn, Source, Turn
from errors import InputError, StoreError
from storage.db import SECONDS, Database, open_database

_METADATA = MetaData()
_conversations = Table(
    "conversations",
    _METADATA,
    Column("id", Text, primary_key=True),
    Column("created", SECONDS, nullable=False),
    Column("updated", SECONDS, nullable=False),
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
)
# Columns added after the first release: databases created before them get them on open.
_ADDED_COLUMNS = {
    "turns": {
        "unverified": "INTEGER NOT NULL DEFAULT 0",
        "flagged": "TEXT NOT NULL DEFAULT '[]'",
        "notices": "TEXT NOT NULL DEFAULT '[]'",
    }
}
# Another instance may take a turn's position (MAX + 1) first; the loser tries again with the next one.
_RECORD_ATTEMPTS = 30


class ConversationStore:
    """Conversations in a database: a SQLite file (a `Path`) or a shared `Database`; safe across threads."""

    def __init__(self, database: Database | Path) -> None:
        self._owns_database = isinstance(database, Path)
        self.database = open_database(database) if isinstance(database, Path) else database
        try:
            self.database.create(_METADATA, _ADDED_COLUMNS)
        except StoreError:
            self.close()
            raise

    def ping(self) -> None:
        """Return when the database answers; `StoreError` when it does not."""
        self.database.ping()

    def new(self) -> Conversation:
        conversation = Conversation()
        now = time.time()
        with self.database.begin("start a conversation") as db:
            db.execute(insert(_conversations).values(id=conversation.id, created=now, updated=now))
        return conversation

    def get(self, conversation_id: str) -> Conversation:
        """The stored conversation with its most recent turns; `InputError` if the id is unknown."""
        t = _turns.c
        with self.database.connect("read the conversation") as db:
            found = db.execute(select(_conversations.c.id).where(_conversations.c.id == conversation_id)).first()
            if found is None:
                raise InputError(f"unknown conversation {conversation_id!r}; start a new conversation")
            rows = db.execute(
                select(t.question, t.answer, t.standalone_question, t.language)
                .where(t.conversation_id == conversation_id)
                .order_by(t.position.desc())
                .limit(MAX_TURNS)
            ).all()
        turns = [Turn(question=q, answer=a, standalone_question=s, language=lang) for q, a, s, lang in reversed(rows)]
        return Conversation(id=conversation_id, turns=turns)

    def get_or_new(self, conversation_id: str | None) -> Conversation:
        if conversation_id:
            try:
                return self.get(conversation_id)
            except InputError:
                now = time.time()
                with self.database.begin("start a conversation") as db:
                    db.execute(self._add_conversation(conversation_id, now))
                return Conversation(id=conversation_id)
        return self.new()

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
        }
        t = _turns.c
        for attempt in range(_RECORD_ATTEMPTS):
            now = time.time()
            try:
                with self.database.begin("record the answer", conflicts=True) as db:
                    # The write comes first: SQLite then holds the write lock while it reads the position.
                    db.execute(self._add_conversation(conversation.id, now))
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

    def history(self, conversation_id: str) -> list[RecordedTurn]:
        """Every stored turn of a conversation, oldest first, with its sources (for display and export)."""
        t = _turns.c
        with self.database.connect("read the conversation") as db:
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
                )
                .where(t.conversation_id == conversation_id)
                .order_by(t.position)
            ).all()
        return [
            RecordedTurn(
                answer=Answer(
                    question=q,
                    standalone_question=s,
                    language=lang,
                    mode=Mode.parse(m),
                    text=a,
                    sources=tuple(Source.from_json(x) for x in json.loads(src)),
                    refused=bool(r),
                    unverified=bool(u),
                    flagged=tuple(json.loads(f)),
                    notices=tuple(json.loads(n)),
                    conversation_id=conversation_id,
                ),
                created=c,
            )
            for q, s, a, lang, m, r, src, c, u, f, n in rows
        ]

    def close(self) -> None:
        """Close the database if this store opened it (a shared `Database` stays open)."""
        if self._owns_database:
            self.database.close()

    def _add_conversation(self, conversation_id: str, now: float) -> Executable:
        return (
            self.database.insert(_conversations)
            .values(id=conversation_id, created=now, updated=now)
            .on_conflict_do_nothing(index_elements=["id"])
        )
