"""`BatchingEmbedder`: concurrent callers in real threads share model calls and each gets its own rows."""

from __future__ import annotations

import hashlib
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pytest

from errors import ConfigError, EmbeddingError
from index.embed import Embedder
from index.embed_batch import BatchingEmbedder

DIMENSION = 8
TIMEOUT = 10.0  # a deadlock fails the test after this long instead of hanging it


def vector(text: str, query: bool) -> np.ndarray:
    digest = hashlib.sha256((("q" if query else "p") + text).encode()).digest()
    raw = np.frombuffer(digest, dtype=np.uint8)[:DIMENSION].astype(np.float32) + 1.0
    return (raw / np.linalg.norm(raw)).astype(np.float32)


class GatedEmbedder:
    """Records each call's texts; the first call waits for `gate`, so other callers queue up meanwhile.

    Calls whose number (from 0) is in `fail_on` raise an `EmbeddingError` after recording the texts.
    """

    name = "gated-model"
    dimension = DIMENSION

    def __init__(self, fail_on: Sequence[int] = (), gated: bool = True) -> None:
        self.calls: list[tuple[list[str], bool]] = []
        self.fail_on = set(fail_on)
        self.gate = threading.Event()
        self.entered = threading.Event()
        if not gated:
            self.gate.set()
        self._lock = threading.Lock()
        self.concurrent = 0
        self.max_concurrent = 0

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        items = list(texts)
        with self._lock:
            number = len(self.calls)
            self.calls.append((items, query))
            self.concurrent += 1
            self.max_concurrent = max(self.max_concurrent, self.concurrent)
        try:
            if number == 0:
                self.entered.set()
                assert self.gate.wait(TIMEOUT), "the test never opened the gate"
            if number in self.fail_on:
                raise EmbeddingError(f"the model crashed on call {number}")
            if not items:
                return np.zeros((0, DIMENSION), dtype=np.float32)
            return np.stack([vector(t, query) for t in items])
        finally:
            with self._lock:
                self.concurrent -= 1


def direct(texts: Sequence[str], query: bool = False) -> np.ndarray:
    """What the inner model returns for `texts` when called on its own."""
    return GatedEmbedder(gated=False).embed(texts, query=query)


class Caller(threading.Thread):
    """One client thread calling `embed` once and keeping what it got."""

    def __init__(self, embedder: BatchingEmbedder, texts: list[str], query: bool = False) -> None:
        super().__init__(daemon=True)  # a deadlocked caller must not keep pytest from exiting
        self.embedder = embedder
        self.texts = texts
        self.query = query
        self.result: np.ndarray | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.embedder.embed(self.texts, query=self.query)
        except BaseException as err:
            self.error = err

    def finish(self) -> Caller:
        self.join(TIMEOUT)
        assert not self.is_alive(), f"the caller embedding {self.texts} is still waiting: deadlock"
        return self


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.001)


def _queue(embedder: BatchingEmbedder, texts: list[str], query: bool = False) -> Caller:
    """Start a caller and return once its request waits in the queue, so arrival order is the test's."""
    # The queue is private; looking at its length is the only way to know a thread has arrived.
    before = len(embedder._pending)
    caller = Caller(embedder, texts, query)
    caller.start()
    _wait_until(lambda: len(embedder._pending) == before + 1, f"{texts} is queued")
    return caller


@pytest.fixture
def busy() -> Iterator[tuple[GatedEmbedder, BatchingEmbedder, Caller]]:
    """A batching embedder whose model is busy with a first call ("warm-up") until `inner.gate` is set."""
    inner = GatedEmbedder()
    batching = BatchingEmbedder(inner, max_batch=32)
    first = Caller(batching, ["warm-up"])
    first.start()
    assert inner.entered.wait(TIMEOUT)
    yield inner, batching, first
    inner.gate.set()  # never leave a thread blocked, even when the test failed


def test_it_is_an_embedder_of_the_same_model() -> None:
    batching = BatchingEmbedder(GatedEmbedder(gated=False))
    assert isinstance(batching, Embedder)
    assert (batching.name, batching.dimension) == ("gated-model", DIMENSION)
    np.testing.assert_array_equal(batching.embed(["asiel", "grens"]), direct(["asiel", "grens"]))


def test_requests_waiting_for_a_busy_model_share_its_next_call_in_arrival_order(
    busy: tuple[GatedEmbedder, BatchingEmbedder, Caller],
) -> None:
    inner, batching, first = busy
    callers = [_queue(batching, [f"vraag {i}"]) for i in range(10)]
    assert len(inner.calls) == 1  # nobody else reached the model while it was busy

    inner.gate.set()
    for caller in [first, *callers]:
        caller.finish()
    assert inner.calls == [(["warm-up"], False), ([f"vraag {i}" for i in range(10)], False)]
    for caller in callers:
        assert caller.error is None
        np.testing.assert_array_equal(caller.result, direct(caller.texts))
    assert inner.max_concurrent == 1


def test_many_callers_each_get_exactly_their_own_rows(
    busy: tuple[GatedEmbedder, BatchingEmbedder, Caller],
) -> None:
    inner, batching, first = busy
    rng = random.Random(7)
    # Overlapping texts on purpose: a row must go to the right caller, not just to the right text.
    requests = [[f"tekst {rng.randrange(25)}" for _ in range(rng.randint(1, 3))] for _ in range(60)]
    callers = [Caller(batching, texts) for texts in requests]
    for caller in callers:
        caller.start()
    _wait_until(lambda: len(batching._pending) == len(callers), "all callers are queued")

    inner.gate.set()
    first.finish()
    for caller in callers:
        caller.finish()
        assert caller.error is None
        assert caller.result is not None and caller.result.shape == (len(caller.texts), DIMENSION)
        np.testing.assert_array_equal(caller.result, direct(caller.texts))

    batches = inner.calls[1:]
    total = sum(len(texts) for texts in requests)
    assert sorted(t for texts, _ in batches for t in texts) == sorted(t for texts in requests for t in texts)
    assert all(len(texts) <= 32 for texts, _ in batches)
    # Requests of at most 3 texts fill each call to at least 30 of the 32.
    assert len(batches) <= math.ceil(total / 30) < len(callers) / 10


def test_max_batch_limits_each_merged_call_and_the_oldest_goes_first() -> None:
    inner = GatedEmbedder()
    batching = BatchingEmbedder(inner, max_batch=4)
    first = Caller(batching, ["warm-up"])
    first.start()
    assert inner.entered.wait(TIMEOUT)
    try:
        callers = [_queue(batching, [f"{i}a", f"{i}b"]) for i in range(6)]
        inner.gate.set()
        for caller in [first, *callers]:
            caller.finish()
    finally:
        inner.gate.set()
    assert [texts for texts, _ in inner.calls] == [
        ["warm-up"],
        ["0a", "0b", "1a", "1b"],
        ["2a", "2b", "3a", "3b"],
        ["4a", "4b", "5a", "5b"],
    ]
    for caller in callers:
        np.testing.assert_array_equal(caller.result, direct(caller.texts))


def test_a_request_larger_than_max_batch_is_answered_in_full() -> None:
    inner = GatedEmbedder(gated=False)
    texts = [f"zin {i}" for i in range(10)]
    np.testing.assert_array_equal(BatchingEmbedder(inner, max_batch=3).embed(texts), direct(texts))


def test_queries_and_passages_are_never_merged(busy: tuple[GatedEmbedder, BatchingEmbedder, Caller]) -> None:
    inner, batching, first = busy
    kinds = [False, True, False, True, False, True]
    callers = [_queue(batching, [f"{'q' if query else 'p'}{i}"], query=query) for i, query in enumerate(kinds)]

    inner.gate.set()
    for caller in [first, *callers]:
        caller.finish()
    for texts, query in inner.calls[1:]:
        assert {t[0] for t in texts} == {"q" if query else "p"}, f"mixed call: {texts}"
    assert inner.calls[1:] == [(["p0", "p2", "p4"], False), (["q1", "q3", "q5"], True)]
    for caller in callers:
        assert caller.result is not None
        np.testing.assert_array_equal(caller.result, direct(caller.texts, query=caller.query))
        assert not np.array_equal(caller.result, direct(caller.texts, query=not caller.query))


def test_an_error_reaches_every_caller_of_the_batch_and_the_next_calls_work() -> None:
    inner = GatedEmbedder(fail_on=[1])
    batching = BatchingEmbedder(inner)
    first = Caller(batching, ["warm-up"])
    first.start()
    assert inner.entered.wait(TIMEOUT)
    try:
        failing = [_queue(batching, [f"vraag {i}"]) for i in range(4)]
        inner.gate.set()
        for caller in [first, *failing]:
            caller.finish()
    finally:
        inner.gate.set()

    assert first.error is None  # the batch before the crash is unaffected
    assert len(inner.calls) == 2
    for caller in failing:
        assert isinstance(caller.error, EmbeddingError), caller.error
        assert "crashed on call 1" in str(caller.error)
        assert caller.result is None

    np.testing.assert_array_equal(batching.embed(["daarna"]), direct(["daarna"]))
    after = [Caller(batching, [f"later {i}"]) for i in range(5)]
    for caller in after:
        caller.start()
    for caller in after:
        caller.finish()
        assert caller.error is None
        np.testing.assert_array_equal(caller.result, direct(caller.texts))


def test_callers_waiting_behind_a_failing_call_are_still_served() -> None:
    inner = GatedEmbedder(fail_on=[0])
    batching = BatchingEmbedder(inner)
    first = Caller(batching, ["warm-up"])
    first.start()
    assert inner.entered.wait(TIMEOUT)
    try:
        waiting = [_queue(batching, [f"vraag {i}"], query=i % 2 == 0) for i in range(4)]
        inner.gate.set()
        for caller in [first, *waiting]:
            caller.finish()
    finally:
        inner.gate.set()
    assert isinstance(first.error, EmbeddingError)
    for caller in waiting:
        assert caller.error is None
        np.testing.assert_array_equal(caller.result, direct(caller.texts, query=caller.query))


def test_no_caller_waits_forever_under_mixed_load() -> None:
    inner = GatedEmbedder(gated=False)
    batching = BatchingEmbedder(inner, max_batch=5)
    rng = random.Random(11)
    callers = [
        Caller(batching, [f"t{rng.randrange(40)}" for _ in range(rng.randint(1, 7))], query=rng.random() < 0.5)
        for _ in range(80)
    ]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.finish()
        assert caller.error is None
        np.testing.assert_array_equal(caller.result, direct(caller.texts, query=caller.query))
    assert inner.max_concurrent == 1  # one model call at a time
    # Within max_batch, unless the call is one caller's own larger request.
    requested = [caller.texts for caller in callers]
    assert all(len(texts) <= 5 or texts in requested for texts, _ in inner.calls)


def test_empty_input_gives_no_rows(busy: tuple[GatedEmbedder, BatchingEmbedder, Caller]) -> None:
    _, batching, _ = busy
    for query in (False, True):
        out = batching.embed([], query=query)  # returns although the model is busy
        assert out.shape == (0, DIMENSION)


def test_a_single_str_and_a_zero_batch_are_refused() -> None:
    inner = GatedEmbedder(gated=False)
    with pytest.raises(TypeError, match="wrap it in a list"):
        BatchingEmbedder(inner).embed("asiel")
    assert inner.calls == []
    with pytest.raises(ConfigError, match="0"):
        BatchingEmbedder(inner, max_batch=0)
