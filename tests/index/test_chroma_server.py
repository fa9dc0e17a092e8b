"""The index on a real Chroma server (`chroma run`), as a deployment with several instances uses it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.build import Parts
from assistant.settings import Settings, load_settings
from errors import StoreError
from index.store import REGISTRY, open_client
from index.types import Hit
from tests.chroma import ChromaServer, free_port
from tests.tiny_corpus import Q_BLUE_CARD, Q_SCREENING, write_tiny_corpus

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    root = tmp_path_factory.mktemp("chroma-server")
    srv = ChromaServer(path=root / "db", port=free_port(), log=root / "chroma.log")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def settings(server: ChromaServer, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("service")
    corpus = write_tiny_corpus(root / "corpus")
    with pytest.MonkeyPatch.context() as mp:
        # Module fixtures run before conftest's per-test isolation: no ASSISTANT_* variables, no .env.
        for key in [k for k in os.environ if k.startswith("ASSISTANT_")]:
            mp.delenv(key)
        mp.chdir(root)
        return load_settings(
            data_dir=root / "data", corpus_dir=corpus, chroma_host="127.0.0.1", chroma_port=server.port
        )


@pytest.fixture(scope="module")
def first_instance(settings: Settings) -> Parts:
    """The first service instance, which indexes the tiny corpus on the server."""
    components = Parts(settings)
    report = components.indexer.run()
    assert report.sync.changed and report.sync.embedded == report.sync.chunks == 7
    return components


def _dense(parts: Parts, question: str, k: int, doc_ids: list[str] | None = None) -> list[Hit]:
    """The chunks nearest to `question` in the store the instance reads."""
    return parts.store.search(parts.embedder.embed([question], query=True)[0], k, doc_ids=doc_ids)


def _view(components: Parts) -> tuple[list[tuple[str, int, int]], list[str], list[str]]:
    """What a user sees: the documents with counts and the top chunks of two searches."""
    docs = [(d.doc_id, d.sections, d.chunks) for d in components.store.documents()]
    screening = [h.chunk.id for h in _dense(components, Q_SCREENING, k=3)]
    blue_card = [h.chunk.id for h in _dense(components, Q_BLUE_CARD, k=3)]
    return docs, screening, blue_card


def test_index_and_search_on_the_server(first_instance: Parts, settings: Settings) -> None:
    docs = {d.doc_id: d for d in first_instance.store.documents()}
    counts = {k: (d.sections, d.chunks) for k, d in docs.items()}
    assert counts == {"asiel-2021": (4, 4), "talent-2019": (3, 3)}
    top = _dense(first_instance, Q_SCREENING, k=3)[0].chunk
    assert (top.doc_id, top.section_label) == ("asiel-2021", "3. PROCEDURES AAN DE BUITENGRENS")
    assert "vijf dagen" in top.text
    top = _dense(first_instance, Q_BLUE_CARD, k=3)[0].chunk
    assert (top.doc_id, top.section_label) == ("talent-2019", "2. DE EUROPESE BLAUWE KAART")
    filtered = _dense(first_instance, Q_SCREENING, k=5, doc_ids=["talent-2019"])
    assert filtered and {h.chunk.doc_id for h in filtered} == {"talent-2019"}
    # Nothing was written to the local data directory: the server holds the index.
    assert not (settings.data_dir / "chroma").exists()
    client = first_instance.store.client
    names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
    assert names == {REGISTRY, first_instance.store.active_name()}


def test_a_second_service_instance_sees_the_same_index(
    first_instance: Parts,
    settings: Settings,
) -> None:
    second = Parts(settings)
    assert second.store.active_name() == first_instance.store.active_name()
    assert _view(second) == _view(first_instance)
    # Its own index run finds nothing to do: no embedding, no new generation.
    report = second.indexer.run()
    assert report.sync.changed is False and report.sync.embedded == 0
    assert second.store.active_name() == first_instance.store.active_name()


def test_unreachable_server_gives_a_store_error_that_says_how_to_fix_it(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(StoreError) as info:
        open_client(tmp_path, "127.0.0.1", port)
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message and "ASSISTANT_CHROMA_HOST" in message and "chroma run" in message
    assert "\n" not in message
    settings = load_settings(data_dir=tmp_path / "data", chroma_host="127.0.0.1", chroma_port=port)
    with pytest.raises(StoreError, match="ASSISTANT_CHROMA_HOST"):
        _ = Parts(settings).store


def test_index_survives_a_server_restart(
    first_instance: Parts,
    settings: Settings,
    server: ChromaServer,
) -> None:
    before = _view(first_instance)
    active = first_instance.store.active_name()
    server.stop()
    server.start()
    after_restart = Parts(settings)
    assert after_restart.store.active_name() == active
    assert _view(after_restart) == before
    assert after_restart.indexer.run().sync.changed is False
