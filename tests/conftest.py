"""Shared test setup: the network is blocked except loopback, and settings never read a developer's .env."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from collections.abc import Iterator

import pytest

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address: object) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0] if isinstance(address, tuple) else None
    if host in ("localhost", None):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded(real):  # type: ignore[no-untyped-def]
    def connect(self: socket.socket, address: object):  # type: ignore[no-untyped-def]
        if not _is_loopback(address):
            raise ConnectionRefusedError(f"network blocked in tests (only loopback allowed): {address!r}")
        return real(self, address)

    return connect


@pytest.fixture(autouse=True)
def _block_network(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("network"):
        yield
        return
    socket.socket.connect = _guarded(_real_connect)  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded(_real_connect_ex)  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = _real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests build settings from explicit values, never from the developer's environment or .env."""
    for key in list(os.environ):
        if key.startswith("ASSISTANT_") or key in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture(scope="session")
def corpus_settings(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Settings whose index holds the whole bundled corpus.

    The index lives in pytest's cache folder and is updated incrementally; its vectors come from the
    corpus' prebuilt vectors (`corpus/vectors.npz`), so not even the first run embeds the corpus.
    """
    from pathlib import Path

    from assistant.build import build_assistant
    from assistant.settings import load_settings

    data_dir = Path(request.config.cache.mkdir("corpus-index"))
    settings = load_settings(data_dir=data_dir, _env_file=None)
    build_assistant(settings).indexer.run()
    return settings


@pytest.fixture(scope="session")
def corpus_components(corpus_settings):  # type: ignore[no-untyped-def]
    """The parts wired from `corpus_settings`, shared by the tests that only read the index."""
    from assistant.build import build_assistant

    return build_assistant(corpus_settings)


@pytest.fixture(autouse=True)
def _chroma_released(request: pytest.FixtureRequest) -> Iterator[None]:
    """The Chroma stores a test opened in its own `tmp_path` are stopped after it: chromadb keeps every
    on-disk store's system (and its open segment files) for the process' life, and a full run otherwise
    held over 1,024 descriptors by its end (tests that watch sockets with select() then failed)."""
    yield
    own_path = getattr(request.node, "funcargs", {}).get("tmp_path")
    if own_path is None:
        return
    shared = sys.modules.get("chromadb.api.shared_system_client")
    if shared is None:  # chromadb was never imported: nothing was opened
        return
    own = str(own_path)
    systems = shared.SharedSystemClient._identifier_to_system
    for identifier in [i for i in systems if str(i).startswith(own)]:
        shared.SharedSystemClient._identifier_to_refcount.pop(identifier, None)
        system = systems.pop(identifier, None)
        if system is not None:
            system.stop()
