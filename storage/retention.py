"""The retention setting: conversations, issued answers, ratings and their review notes older than N days are
deleted, when a server starts and once a day after that (`RetentionSchedule`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from errors import InputError, PolicyAssistantError

log = logging.getLogger("policy_assistant.retention")
DAY = 24 * 3600.0


class Expiring(Protocol):
    """A store that can delete what is older than a moment."""

    def delete_before(self, cutoff: float) -> int:
        """Delete the rows from before `cutoff` (a `time.time()`); how many."""
        ...


def purge(days: int, stores: Mapping[str, Expiring], now: float | None = None) -> dict[str, int]:
    """Delete from every store what is older than `days` days; the number deleted per store name."""
    if days < 1:
        raise InputError(f"the retention is {days} days; use 1 or more (or unset ASSISTANT_RETENTION_DAYS)")
    cutoff = (time.time() if now is None else now) - days * DAY
    return {name: store.delete_before(cutoff) for name, store in stores.items()}


class RetentionSchedule:
    """`purge` in a background thread: at once, then every `interval` seconds until `stop()`. A failure (the
    database down) is logged and tried again at the next round; it never stops the server."""

    def __init__(self, days: int, stores: Callable[[], Mapping[str, Expiring]], *, interval: float = DAY) -> None:
        self.days = days
        self.stores = stores  # opened in the thread: the server starts without waiting for the database
        self.interval = interval
        self.runs = 0  # rounds done (successful or not), for tests and logs
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)

    def start(self) -> RetentionSchedule:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def run_once(self) -> dict[str, int] | None:
        """One round now; what it deleted, or None when it failed (logged)."""
        try:
            deleted = purge(self.days, self.stores())
        except PolicyAssistantError as err:
            log.warning("retention: deleting data older than %s days failed: %s", self.days, err)
            return None
        finally:
            self.runs += 1
        if any(deleted.values()):
            summary = ", ".join(f"{count} {name}" for name, count in deleted.items())
            log.info("retention: deleted %s older than %s days", summary, self.days)
        return deleted

    def _loop(self) -> None:
        while True:
            self.run_once()
            if self._stop.wait(self.interval):
                return
