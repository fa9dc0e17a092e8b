"""Dynamic batching in front of an `Embedder`: concurrent callers share one model call, in arrival order.

A service answering many questions at once embeds each question on its own. The bundled model runs one
call at a time, and one call with 16 texts costs far less than 16 calls with one, so callers queue here:
whoever finds the model idle takes every waiting request (up to `max_batch` texts, its own first), embeds
them in one call and hands each caller its rows. Callers are served in the order they came, so no
question waits behind an endless stream of newer ones.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from errors import ConfigError
from index.embed import Embedder, check_texts


@dataclass(eq=False)
class _Request:
    texts: list[str]
    query: bool
    result: np.ndarray | None = None
    error: BaseException | None = None
    done: bool = False


class BatchingEmbedder:
    """Wraps `inner`; concurrent `embed` calls of the same kind (query or passage) are merged."""

    def __init__(self, inner: Embedder, max_batch: int = 32) -> None:
        if max_batch < 1:
            raise ConfigError(f"the embedding batch must hold at least 1 text, got {max_batch}")
        self.inner = inner
        self.max_batch = max_batch
        self._pending: deque[_Request] = deque()
        self._ready = threading.Condition()
        self._busy = False

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        request = _Request(check_texts(texts), query)
        if not request.texts:
            return self.inner.embed([], query=query)
        with self._ready:
            self._pending.append(request)
            # Wait until another caller's batch answered us, or the model is idle and we are the oldest.
            while not request.done and (self._busy or self._pending[0] is not request):
                self._ready.wait()
            if request.done:
                return self._result(request)
            self._busy = True
            batch = self._take(request)
        try:
            self._run(batch)
        finally:
            with self._ready:
                self._busy = False
                self._ready.notify_all()
        return self._result(request)

    def _take(self, leader: _Request) -> list[_Request]:
        """The leader's own request and then the oldest waiting ones of the same kind, up to `max_batch`."""
        batch = [leader]
        size = len(leader.texts)
        self._pending.remove(leader)
        for other in list(self._pending):
            if other.query != leader.query or size + len(other.texts) > self.max_batch:
                continue
            batch.append(other)
            size += len(other.texts)
            self._pending.remove(other)
        return batch

    def _run(self, batch: list[_Request]) -> None:
        texts = [t for r in batch for t in r.texts]
        try:
            vectors = self.inner.embed(texts, query=batch[0].query)
        except BaseException as err:  # every caller of the batch gets the model's error
            for r in batch:
                r.error, r.done = err, True
            return
        start = 0
        for r in batch:
            r.result, r.done = vectors[start : start + len(r.texts)], True
            start += len(r.texts)

    @staticmethod
    def _result(request: _Request) -> np.ndarray:
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result
