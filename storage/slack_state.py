"""What the Slack bot remembers across restarts and instances, in the shared database: the events it already
answered (Slack redelivers one it thinks was lost, and one message can come as two events) and each user's
recent questions (the per-user rate limit).

Both hold across instances: a key is taken by one INSERT (the primary key decides who was first), and a user's
question times are updated by compare-and-swap on a version number, so two instances never both let the
(limit + 1)th question through.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, Text, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from errors import StoreError
from storage.db import SECONDS, Database, TableStore

SEEN_TTL = 30 * 60.0  # Slack retries within minutes; delivered event ids are kept for half an hour
IDLE_USER_SECONDS = 24 * 3600.0  # a user's question times are dropped a day after their last question
_PRUNE_EVERY = 60.0  # seconds between deletions of expired rows, per process
_ATTEMPTS = 30  # compare-and-swap rounds before giving up on a user's row

_METADATA = MetaData()
_seen = Table(
    "slack_seen",
    _METADATA,
    Column("key", Text, primary_key=True),
    Column("seen", SECONDS, nullable=False, index=True),
)
_rate = Table(
    "slack_rate",
    _METADATA,
    Column("user_id", Text, primary_key=True),
    Column("hits", Text, nullable=False),  # JSON list of the times of the user's recent questions
    Column("version", Integer, nullable=False),
    Column("updated", SECONDS, nullable=False, index=True),
)


class SlackState(TableStore):
    """Handled events and per-user question times in a database: a SQLite file (a `Path`) or a shared
    `Database`; safe across threads, processes and instances."""

    def __init__(
        self, database: Database | Path, *, seen_ttl: float = SEEN_TTL, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(database, _METADATA)
        self.seen_ttl = seen_ttl
        self.clock = clock
        self._pruned = 0.0

    def first_time(self, *keys: str) -> bool:
        """True (and every key remembered) unless one of `keys` was handled before, here or by another
        instance, within the last `seen_ttl` seconds."""
        keys = tuple(dict.fromkeys(k for k in keys if k))
        if not keys:
            return True
        now = self.clock()
        try:
            with self.database.begin("remember the Slack event", conflicts=True) as db:
                self._prune(db, now)
                db.execute(delete(_seen).where(_seen.c.key.in_(keys), _seen.c.seen < now - self.seen_ttl))
                db.execute(insert(_seen), [{"key": k, "seen": now} for k in keys])
        except IntegrityError:
            return False
        return True

    def check_rate(self, user: str, limit: int, window: float) -> float:
        """0 and the question counted when `user` asked fewer than `limit` questions in the last `window`
        seconds; otherwise the seconds until they may ask again. `limit` 0: no limit."""
        if limit <= 0:
            return 0.0
        r = _rate.c
        for attempt in range(_ATTEMPTS):
            now = self.clock()
            try:
                with self.database.begin("count the Slack user's questions", conflicts=True) as db:
                    # A write first: SQLite then holds the write lock while it reads, PostgreSQL the row's lock.
                    db.execute(update(_rate).where(r.user_id == user).values(version=r.version))
                    found = db.execute(select(r.hits, r.version).where(r.user_id == user)).first()
                    if found is None:
                        db.execute(insert(_rate).values(user_id=user, hits=json.dumps([now]), version=1, updated=now))
                        return 0.0
                    hits = [h for h in json.loads(found[0]) if h > now - window]
                    if len(hits) >= limit:
                        # `now` was read before the lock: another instance's hit may be a little later.
                        return min(max(min(hits) + window - now, 0.1), window)
                    changed = db.execute(
                        update(_rate)
                        .where(r.user_id == user, r.version == found[1])
                        .values(hits=json.dumps([*hits, now]), version=found[1] + 1, updated=now)
                    )
                    if changed.rowcount == 1:
                        return 0.0
            except IntegrityError:
                pass  # another instance added the user's row first: read it again
            time.sleep(random.uniform(0, 0.005 * (attempt + 1)))
        raise StoreError(
            f"cannot count the questions of Slack user {user}: other instances kept changing them in "
            f"{self.database.location}; ask again"
        )

    def _prune(self, db: Connection, now: float) -> None:
        if now - self._pruned < _PRUNE_EVERY:
            return
        self._pruned = now
        db.execute(delete(_seen).where(_seen.c.seen < now - self.seen_ttl))
        db.execute(delete(_rate).where(_rate.c.updated < now - IDLE_USER_SECONDS))
