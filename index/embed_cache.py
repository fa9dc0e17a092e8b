"""A cache in front of an `Embedder`, for the texts a running assistant embeds again and again.

Answering embeds the question and re-ranks candidate sentences by embedding them; popular questions and the
sentences of popular sections come back constantly, so a service keeps their vectors: the most recent ones
in memory, and, when given a file, every one on disk (SQLite), shared by worker processes and kept across
restarts. Vectors depend only on (model, query/passage, text), so a cached vector is exactly what the model
would return; the file is named after the model, so another model never reads it.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from errors import ConfigError
from index.embed import Embedder, check_texts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int
    size: int
    capacity: int


class CachingEmbedder:
    """Wraps `inner`; keeps the `capacity` most recently used vectors (384 floats ≈ 1.5 KB each for e5)."""

    def __init__(self, inner: Embedder, capacity: int = 20_000, directory: Path | None = None) -> None:
        if capacity < 0:
            raise ConfigError(f"the embedding cache size must be 0 or more, got {capacity}")
        self.inner = inner
        self.capacity = capacity
        self._vectors: OrderedDict[tuple[bool, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._disk = _DiskVectors.open(directory, inner.name) if directory is not None and capacity else None
        self._tags: set[str] = set()

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        items = check_texts(texts)
        if not self.capacity or not items:
            return self.inner.embed(items, query=query)
        found: dict[int, np.ndarray] = {}
        with self._lock:
            for i, text in enumerate(items):
                vector = self._vectors.get((query, text))
                if vector is not None:
                    self._vectors.move_to_end((query, text))
                    found[i] = vector
            self._hits += len(found)
            self._misses += len(items) - len(found)
        missing = [i for i in range(len(items)) if i not in found]
        if missing:
            # Each distinct text once, even if it repeats in the batch.
            unique = list(dict.fromkeys(items[i] for i in missing))
            by_text = self._disk.get(unique, query) if self._disk else {}
            todo = [text for text in unique if text not in by_text]
            if todo:
                fresh = self.inner.embed(todo, query=query)
                # Copies: a kept row must not hold the whole batch array in memory.
                computed = {text: np.array(fresh[j], dtype=np.float32) for j, text in enumerate(todo)}
                if self._disk:
                    self._disk.put(computed, query)
                by_text.update(computed)
            with self._lock:
                for text, vector in by_text.items():
                    vector.setflags(write=False)
                    self._vectors[(query, text)] = vector
                    self._vectors.move_to_end((query, text))
                while len(self._vectors) > self.capacity:
                    self._vectors.popitem(last=False)
            for i in missing:
                found[i] = by_text[items[i]]
        return np.stack([found[i] for i in range(len(items))]).astype(np.float32, copy=False)

    def cached(self, texts: Sequence[str], *, query: bool = False) -> dict[str, np.ndarray]:
        """The vectors of `texts` already kept (memory or disk), embedding nothing."""
        if not self.capacity:
            return {}
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for text in texts:
                vector = self._vectors.get((query, text))
                if vector is not None:
                    found[text] = vector
        rest = list(dict.fromkeys(t for t in texts if t not in found))
        if rest and self._disk:
            found.update(self._disk.get(rest, query))
        return found

    def seed(self, vectors: Mapping[str, np.ndarray], *, query: bool = False, tag: str | None = None) -> None:
        """Take vectors computed elsewhere (the prebuilt ones) as if the model had returned them.

        They go to the disk file, or without one into memory; `tag` names the batch for `seeded`.
        """
        if not self.capacity:
            return
        rows = {text: np.array(v, dtype=np.float32) for text, v in vectors.items()}
        if self._disk:
            self._disk.put(rows, query, tag=tag)
            return
        with self._lock:
            for text, vector in rows.items():
                vector.setflags(write=False)
                self._vectors[(query, text)] = vector
            while len(self._vectors) > self.capacity:
                self._vectors.popitem(last=False)
        if tag:
            self._tags.add(tag)

    def seeded(self, tag: str) -> bool:
        """Whether `seed` already took the batch named `tag` (kept on disk across processes)."""
        return self._disk.has_tag(tag) if self._disk else tag in self._tags

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self._hits, self._misses, len(self._vectors), self.capacity)


class _DiskVectors:
    """Vectors in a SQLite file keyed by a hash of (query/passage, text); failures only cost the cache."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS seeds (tag TEXT PRIMARY KEY)")
        self._lock = threading.Lock()

    @classmethod
    def open(cls, directory: Path, model: str) -> _DiskVectors | None:
        name = hashlib.sha1(model.encode()).hexdigest()[:16]
        try:
            directory.mkdir(parents=True, exist_ok=True)
            return cls(directory / f"vectors-{name}.sqlite3")
        except (OSError, sqlite3.Error) as err:
            log.warning("vector cache in %s unavailable (%s); vectors are kept in memory only", directory, err)
            return None

    @staticmethod
    def _key(text: str, query: bool) -> str:
        return hashlib.sha1((("q:" if query else "p:") + text).encode()).hexdigest()

    def get(self, texts: list[str], query: bool) -> dict[str, np.ndarray]:
        keys = {self._key(t, query): t for t in texts}
        found: dict[str, np.ndarray] = {}
        try:
            with self._lock:
                marks = ",".join("?" * len(keys))
                rows = self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", list(keys))
                for key, blob in rows.fetchall():
                    found[keys[key]] = np.frombuffer(blob, dtype=np.float32).copy()
        except sqlite3.Error as err:
            log.warning("vector cache read failed (%s)", err)
        return found

    def put(self, vectors: dict[str, np.ndarray], query: bool, tag: str | None = None) -> None:
        rows = [(self._key(t, query), np.asarray(v, dtype=np.float32).tobytes()) for t, v in vectors.items()]
        try:
            with self._lock, self._db:
                self._db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?)", rows)
                if tag:
                    self._db.execute("INSERT OR IGNORE INTO seeds VALUES (?)", (tag,))
        except sqlite3.Error as err:
            log.warning("vector cache write failed (%s)", err)

    def has_tag(self, tag: str) -> bool:
        try:
            with self._lock:
                return self._db.execute("SELECT 1 FROM seeds WHERE tag = ?", (tag,)).fetchone() is not None
        except sqlite3.Error as err:
            log.warning("vector cache read failed (%s)", err)
            return False
