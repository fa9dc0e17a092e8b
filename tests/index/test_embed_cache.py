"""`CachingEmbedder`: vectors in memory (LRU) and in a real SQLite file, exactly what the model returns."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from errors import ConfigError
from index.embed import E5Embedder, Embedder
from index.embed_cache import CachingEmbedder

DIMENSION = 8


class CountingEmbedder:
    """Deterministic unit vectors from a hash of (query flag, text); records every call's texts."""

    def __init__(self, name: str = "counting-model") -> None:
        self.name = name
        self.dimension = DIMENSION
        self.calls: list[tuple[list[str], bool]] = []

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        items = list(texts)
        self.calls.append((items, query))
        return np.stack([vector(t, query) for t in items]) if items else np.zeros((0, DIMENSION), np.float32)

    @property
    def texts(self) -> list[str]:
        """Every text the model was asked to embed, in order."""
        return [t for batch, _ in self.calls for t in batch]


def vector(text: str, query: bool) -> np.ndarray:
    digest = hashlib.sha256((("q" if query else "p") + text).encode()).digest()
    raw = np.frombuffer(digest, dtype=np.uint8)[:DIMENSION].astype(np.float32) + 1.0
    return (raw / np.linalg.norm(raw)).astype(np.float32)


def expected(texts: Sequence[str], query: bool = False) -> np.ndarray:
    return np.stack([vector(t, query) for t in texts])


def test_the_cache_is_an_embedder_of_the_same_model() -> None:
    cache = CachingEmbedder(CountingEmbedder("m-1"))
    assert isinstance(cache, Embedder)
    assert cache.name == "m-1"
    assert cache.dimension == DIMENSION


def test_repeated_texts_are_embedded_once() -> None:
    inner = CountingEmbedder()
    cache = CachingEmbedder(inner)

    first = cache.embed(["asiel", "terugkeer"])
    second = cache.embed(["terugkeer", "asiel"])
    np.testing.assert_array_equal(first, expected(["asiel", "terugkeer"]))
    np.testing.assert_array_equal(second, expected(["terugkeer", "asiel"]))
    assert inner.texts == ["asiel", "terugkeer"]
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.size) == (2, 2, 2)


def test_a_text_repeated_in_one_batch_is_embedded_once() -> None:
    inner = CountingEmbedder()
    cache = CachingEmbedder(inner)
    out = cache.embed(["asiel", "grens", "asiel", "asiel", "grens"])
    np.testing.assert_array_equal(out, expected(["asiel", "grens", "asiel", "asiel", "grens"]))
    assert inner.texts == ["asiel", "grens"]
    assert cache.stats().size == 2


def test_mixed_hits_and_misses_come_back_in_input_order() -> None:
    inner = CountingEmbedder()
    cache = CachingEmbedder(inner)
    cache.embed(["b", "d"])
    texts = ["a", "b", "c", "d", "e", "b", "a"]
    out = cache.embed(texts)
    np.testing.assert_array_equal(out, expected(texts))
    assert out.dtype == np.float32
    assert inner.calls[1] == (["a", "c", "e"], False)  # only the misses, each once


def test_query_and_passage_vectors_are_cached_apart() -> None:
    inner = CountingEmbedder()
    cache = CachingEmbedder(inner)
    passage = cache.embed(["terugkeer"])
    query = cache.embed(["terugkeer"], query=True)
    assert not np.array_equal(passage, query)
    np.testing.assert_array_equal(query, expected(["terugkeer"], query=True))
    assert inner.calls == [(["terugkeer"], False), (["terugkeer"], True)]
    np.testing.assert_array_equal(cache.embed(["terugkeer"], query=True), query)
    np.testing.assert_array_equal(cache.embed(["terugkeer"]), passage)
    assert len(inner.calls) == 2


def test_changing_a_returned_array_does_not_change_the_cache() -> None:
    cache = CachingEmbedder(CountingEmbedder())
    out = cache.embed(["asiel"])
    out[:] = 0.0  # a caller normalising or scaling in place
    np.testing.assert_array_equal(cache.embed(["asiel"]), expected(["asiel"]))


def test_the_least_recently_used_vector_is_evicted_at_capacity() -> None:
    inner = CountingEmbedder()
    cache = CachingEmbedder(inner, capacity=2)
    cache.embed(["a"])
    cache.embed(["b"])
    cache.embed(["a"])  # a is now the most recently used
    cache.embed(["c"])  # evicts b
    assert cache.stats().size == 2
    inner.calls.clear()

    np.testing.assert_array_equal(cache.embed(["a", "c"]), expected(["a", "c"]))
    assert inner.calls == []
    np.testing.assert_array_equal(cache.embed(["b"]), expected(["b"]))
    assert inner.texts == ["b"]
    assert cache.stats().size == 2


def test_a_batch_larger_than_the_capacity_is_still_answered_in_full() -> None:
    inner = CountingEmbedder()
    cache = CachingEmbedder(inner, capacity=2)
    texts = ["a", "b", "c", "d"]
    np.testing.assert_array_equal(cache.embed(texts), expected(texts))
    assert cache.stats().size == 2


def test_capacity_zero_turns_the_cache_off(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    cache = CachingEmbedder(inner, capacity=0, directory=tmp_path / "cache")
    cache.embed(["asiel"])
    out = cache.embed(["asiel"])
    np.testing.assert_array_equal(out, expected(["asiel"]))
    assert inner.texts == ["asiel", "asiel"]
    stats = cache.stats()
    assert (stats.size, stats.capacity) == (0, 0)
    assert not any((tmp_path / "cache").glob("*.sqlite3"))  # nothing written either


def test_a_negative_capacity_is_refused() -> None:
    with pytest.raises(ConfigError, match="-1"):
        CachingEmbedder(CountingEmbedder(), capacity=-1)


def test_vectors_persist_for_a_new_cache_over_the_same_directory(tmp_path: Path) -> None:
    first = CachingEmbedder(CountingEmbedder(), directory=tmp_path)
    passages = first.embed(["asiel", "grens"])
    queries = first.embed(["asiel"], query=True)
    assert len(list(tmp_path.glob("*.sqlite3"))) == 1

    inner = CountingEmbedder()
    second = CachingEmbedder(inner, directory=tmp_path)  # e.g. after a restart, or another worker
    np.testing.assert_array_equal(second.embed(["grens", "asiel"]), passages[::-1])
    np.testing.assert_array_equal(second.embed(["asiel"], query=True), queries)
    assert inner.calls == []
    # Only what was never embedded reaches the model.
    np.testing.assert_array_equal(second.embed(["grens"], query=True), expected(["grens"], query=True))
    assert inner.calls == [(["grens"], True)]


def test_another_model_does_not_read_the_file(tmp_path: Path) -> None:
    CachingEmbedder(CountingEmbedder("model-a"), directory=tmp_path).embed(["asiel"])
    inner = CountingEmbedder("model-b")
    other = CachingEmbedder(inner, directory=tmp_path)
    other.embed(["asiel"])
    assert inner.texts == ["asiel"]
    assert len(list(tmp_path.glob("*.sqlite3"))) == 2  # one file per model


def _a_file(tmp_path: Path) -> Path:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory should be")
    return blocker / "cache"


def _file_name_taken(tmp_path: Path) -> Path:
    # The database's own name is taken by a directory, so SQLite cannot open it.
    probe = tmp_path / "probe"
    CachingEmbedder(CountingEmbedder(), directory=probe)
    directory = tmp_path / "cache"
    directory.mkdir()
    for path in probe.glob("*.sqlite3"):
        (directory / path.name).mkdir()
    return directory


@pytest.mark.parametrize("make_directory", [_a_file, _file_name_taken])
def test_an_unusable_directory_keeps_the_vectors_in_memory(
    tmp_path: Path, make_directory: Callable[[Path], Path], caplog: pytest.LogCaptureFixture
) -> None:
    directory = make_directory(tmp_path)
    inner = CountingEmbedder()
    cache = CachingEmbedder(inner, directory=directory)  # does not raise
    np.testing.assert_array_equal(cache.embed(["asiel", "grens"]), expected(["asiel", "grens"]))
    np.testing.assert_array_equal(cache.embed(["grens"]), expected(["grens"]))
    assert inner.texts == ["asiel", "grens"]
    assert "memory only" in caplog.text


def test_a_single_str_is_refused() -> None:
    inner = CountingEmbedder()
    with pytest.raises(TypeError, match="wrap it in a list"):
        CachingEmbedder(inner).embed("asiel")
    with pytest.raises(TypeError, match="wrap it in a list"):
        CachingEmbedder(inner, capacity=0).embed("asiel")
    assert inner.calls == []


def test_empty_input_gives_no_rows() -> None:
    out = CachingEmbedder(CountingEmbedder()).embed([])
    assert out.shape == (0, DIMENSION)


class _Counting:
    """Passes calls through to a real embedder and counts the texts it was asked for."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed(texts, query=query)


def test_cached_e5_vectors_are_exactly_the_models(tmp_path: Path) -> None:
    e5 = E5Embedder()
    texts = [
        "De Europese Unie wil de terugkeer van migranten zonder verblijfsrecht beter organiseren.",
        "Lidstaten moeten asielaanvragen aan de buitengrens binnen twaalf weken behandelen.",
    ]
    fresh_passages = e5.embed(texts)
    fresh_queries = e5.embed(texts, query=True)
    assert not np.array_equal(fresh_passages, fresh_queries)

    cache = CachingEmbedder(_Counting(e5), directory=tmp_path)
    for _ in range(2):  # computed, then from memory
        np.testing.assert_array_equal(cache.embed(texts), fresh_passages)
        np.testing.assert_array_equal(cache.embed(texts, query=True), fresh_queries)

    counting = _Counting(e5)
    from_disk = CachingEmbedder(counting, directory=tmp_path)
    np.testing.assert_array_equal(from_disk.embed(texts, query=True), fresh_queries)
    np.testing.assert_array_equal(from_disk.embed(texts[::-1]), fresh_passages[::-1])
    assert counting.texts == []
