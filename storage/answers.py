"""The answers the service issued, kept under random ids, so that feedback refers to an answer the server gave
(by the `answer_id` it returned) and stores the server's own copy, never one a client wrote.

In the same database as conversations and feedback: a SQLite file by default, or PostgreSQL shared by several
instances of the service (an answer issued by one instance can be rated through another).
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

from sqlalchemy import Column, MetaData, Table, Text, delete, insert, select

from assistant.types import Answer
from errors import NotFoundError
from storage.db import SECONDS, Database, TableStore

_METADATA = MetaData()
_answers = Table(
    "issued_answers",
    _METADATA,
    Column("id", Text, primary_key=True),
    Column("created", SECONDS, nullable=False),
    Column("owner", Text, nullable=False),  # the principal it was given to
    Column("answer", Text, nullable=False),  # `Answer.to_json()`
)


class AnswerStore(TableStore):
    """Issued answers in a database: a SQLite file (a `Path`) or a shared `Database`; safe across threads."""

    def __init__(self, database: Database | Path) -> None:
        super().__init__(database, _METADATA)

    def issue(self, answer: Answer, owner: str) -> str:
        """Keep `answer`, given to `owner`, and return its new random, unguessable id."""
        answer_id = secrets.token_hex(16)
        row = {"id": answer_id, "created": time.time(), "owner": owner, "answer": json.dumps(answer.to_json())}
        with self.database.begin("keep the answer") as db:
            db.execute(insert(_answers).values(**row))
        return answer_id

    def get(self, answer_id: str, owner: str) -> Answer:
        """The answer issued as `answer_id` to `owner`; `NotFoundError` when there is none (also when it was
        given to someone else: the same answer, so ids cannot be probed)."""
        a = _answers.c
        with self.database.connect("read the answer") as db:
            found = db.execute(select(a.owner, a.answer).where(a.id == answer_id)).first()
        if found is None or found[0] != owner:
            raise NotFoundError(f"unknown answer {answer_id!r}; rate an answer_id that /v1/ask returned to you")
        return Answer.from_json(json.loads(found[1]))

    def delete_before(self, cutoff: float) -> int:
        """Delete the answers issued before `cutoff` (a `time.time()`; the retention setting); how many."""
        with self.database.begin("delete old answers") as db:
            return int(db.execute(delete(_answers).where(_answers.c.created < cutoff)).rowcount or 0)
