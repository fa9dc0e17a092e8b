"""Prebuilt vectors: the committed artefact matches the bundled corpus, equals fresh embeddings, and is
used only where its key matches exactly (model, parser/chunker versions, text)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from index.chunk import Chunker
from index.corpus import DEFAULT_CORPUS_DIR
from index.embed import E5_NAME, E5Embedder
from index.embed_cache import CachingEmbedder
from index.pipeline import VERSIONS, Indexer
from index.prebuilt import ARTEFACT, REGENERATE, PrebuiltVectors, text_key
from index.sentences import passage_sentences
from index.store import IndexStore, open_client
from index.tokens import TokenCounter
from index.types import Chunk
from tests.tiny_corpus import Q_SCREENING, write_tiny_corpus

STALE = f"corpus/{ARTEFACT} no longer matches the bundled corpus, parser, chunker or model: run `{REGENERATE}`"
SAMPLE = 20
# The bundled e5 returns bit-identical vectors for a text whatever the batch (max difference 0.0 measured on
# 16 corpus sentences in batches of 1, 8 and 16, and on repeats) and the artefact stores float32, so a gap
# beyond float rounding in Chroma's storage means another model or another text.
TOLERANCE = 1e-6
QUESTIONS = (
    "Hoe lang duurt de screening aan de buitengrens?",
    "What is the EU Talent Pool?",
    "Hoeveel asielaanvragen werden in 2019 ingediend?",
    "Welke rol speelt Frontex bij terugkeer?",
    "What does the pact say about solidarity between member states?",
)


class RecordingEmbedder:
    """The real bundled model, recording the passages it is asked to embed; `name` may pose as another model."""

    def __init__(self, inner: E5Embedder, name: str = E5_NAME) -> None:
        self.inner = inner
        self.name = name
        self.dimension = inner.dimension
        self.passages: list[str] = []

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        if not query:
            self.passages.extend(texts)
        return self.inner.embed(texts, query=query)


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    return E5Embedder()


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> TokenCounter:
    return TokenCounter(tmp_path_factory.mktemp("tiktoken"))


@pytest.fixture(scope="module")
def corpus_chunks(tokens: TokenCounter, tmp_path_factory: pytest.TempPathFactory) -> list[Chunk]:
    """The bundled corpus' chunks with the default chunker, as `policy-assistant index` makes them."""
    store = IndexStore(open_client(tmp_path_factory.mktemp("unused")), model=E5_NAME, versions=VERSIONS)
    return Indexer(store, E5Embedder(), Chunker(tokens.count), DEFAULT_CORPUS_DIR).corpus_chunks()


@pytest.fixture(scope="module")
def artefact() -> PrebuiltVectors:
    prebuilt = PrebuiltVectors.load(DEFAULT_CORPUS_DIR)
    assert prebuilt is not None, f"corpus/{ARTEFACT} is missing: run `{REGENERATE}`"
    return prebuilt


def sample(items: Sequence[str], n: int = SAMPLE) -> list[str]:
    """`n` items spread evenly over `items` (all five documents, start to end)."""
    return [items[i * len(items) // n] for i in range(n)]


# -- the committed artefact


def test_the_artefact_matches_the_bundled_corpus_parser_chunker_and_model(
    artefact: PrebuiltVectors, corpus_chunks: list[Chunk]
) -> None:
    assert artefact.model == E5_NAME, f"{STALE} (it holds vectors of {artefact.model!r})"
    assert artefact.versions == VERSIONS, f"{STALE} (made for {artefact.versions}, now {VERSIONS})"
    chunk_keys = {text_key(c.embed_text) for c in corpus_chunks}
    sentence_keys = {text_key(s) for c in corpus_chunks for s in passage_sentences(c.text)}
    missing, extra = (chunk_keys | sentence_keys) - artefact.keys(), artefact.keys() - chunk_keys - sentence_keys
    assert not missing and not extra, f"{STALE} ({len(missing)} texts without a vector, {len(extra)} texts gone)"


def test_the_artefact_is_compact() -> None:
    size = (DEFAULT_CORPUS_DIR / ARTEFACT).stat().st_size
    assert size <= 10_000_000, f"corpus/{ARTEFACT} takes {size / 1e6:.1f} MB, over the 10 MB the repository allows"


def test_prebuilt_vectors_equal_fresh_embeddings_and_rank_alike(
    artefact: PrebuiltVectors, corpus_chunks: list[Chunk], e5: E5Embedder
) -> None:
    chunk_texts = sample([c.embed_text for c in corpus_chunks])
    sentence_texts = sample(list(dict.fromkeys(s for c in corpus_chunks for s in passage_sentences(c.text))))
    questions = e5.embed(list(QUESTIONS), query=True)
    for texts in (chunk_texts, sentence_texts):
        found = artefact.lookup(texts, model=E5_NAME, versions=VERSIONS)
        assert all(v is not None for v in found), STALE
        prebuilt = np.stack(found)  # type: ignore[arg-type]
        fresh = e5.embed(texts, query=False)
        gap = float(np.abs(prebuilt - fresh).max())
        assert gap <= TOLERANCE, f"prebuilt vectors differ from the model's by {gap:.2g}: {STALE}"
        # What a user sees: every question ranks the sample's passages in the same order.
        for q in questions:
            assert list(np.argsort(-(prebuilt @ q), kind="stable")) == list(np.argsort(-(fresh @ q), kind="stable"))


# -- the indexer uses a vector only when its key matches exactly


@pytest.fixture
def tiny(tmp_path: Path, e5: E5Embedder, tokens: TokenCounter) -> Path:
    """A corpus folder of two documents with prebuilt vectors of its own, written by the real command's code."""
    corpus = write_tiny_corpus(tmp_path / "corpus")
    store = IndexStore(open_client(tmp_path / "build"), model=E5_NAME, versions=VERSIONS)
    Indexer(store, e5, Chunker(tokens.count), corpus).write_prebuilt()
    return corpus


def indexer(root: Path, corpus: Path, embedder: RecordingEmbedder, tokens: TokenCounter, **kw: object) -> Indexer:
    store = IndexStore(open_client(root), model=embedder.name, versions=str(kw.pop("versions", VERSIONS)))
    cache = kw.pop("cache", None)
    return Indexer(store, embedder, Chunker(tokens.count), corpus, sentence_cache=cache)  # type: ignore[arg-type]


def test_a_fresh_index_of_the_corpus_embeds_nothing_and_finds_the_same(
    tiny: Path, tmp_path: Path, e5: E5Embedder, tokens: TokenCounter
) -> None:
    model = RecordingEmbedder(e5)
    report = indexer(tmp_path / "data", tiny, model, tokens).run()
    assert model.passages == []
    assert report.prebuilt == report.sync.chunks == len(report.chunks)

    real = RecordingEmbedder(e5)
    reference = indexer(tmp_path / "real", tiny, real, tokens)
    reference.run(use_prebuilt=False)
    assert len(real.passages) == len(report.chunks)
    q = e5.embed([Q_SCREENING], query=True)[0]
    prebuilt_hits = indexer(tmp_path / "data", tiny, model, tokens).store.search(q, k=3)
    fresh_hits = reference.store.search(q, k=3)
    assert [h.chunk.id for h in prebuilt_hits] == [h.chunk.id for h in fresh_hits]
    ids, vectors = indexer(tmp_path / "data", tiny, model, tokens).store.vectors()
    fresh_ids, fresh_vectors = reference.store.vectors()
    by_id = dict(zip(fresh_ids, fresh_vectors, strict=True))
    assert np.abs(vectors - np.stack([by_id[i] for i in ids])).max() <= TOLERANCE


def test_another_model_or_chunker_version_embeds_everything(
    tiny: Path, tmp_path: Path, e5: E5Embedder, tokens: TokenCounter
) -> None:
    other_model = RecordingEmbedder(e5, name="another-embedding-model")
    report = indexer(tmp_path / "a", tiny, other_model, tokens).run()
    assert report.prebuilt == 0
    assert sorted(other_model.passages) == sorted(c.embed_text for c in report.chunks)

    same_model = RecordingEmbedder(e5)
    report = indexer(tmp_path / "b", tiny, same_model, tokens, versions="parser=999;chunker=999").run()
    assert report.prebuilt == 0
    assert sorted(same_model.passages) == sorted(c.embed_text for c in report.chunks)


def test_a_changed_text_is_embedded_and_the_rest_taken(
    tiny: Path, tmp_path: Path, e5: E5Embedder, tokens: TokenCounter
) -> None:
    doc = tiny / "talent.txt"
    doc.write_text(
        doc.read_text().replace("blauwe\nkaart aanvragen", "blauwe\nkaart of een nationale vergunning aanvragen")
    )
    model = RecordingEmbedder(e5)
    report = indexer(tmp_path / "data", tiny, model, tokens).run()
    changed = [c for c in report.chunks if "nationale vergunning" in c.text]
    assert len(changed) == 1
    assert model.passages == [changed[0].embed_text]
    assert report.prebuilt == len(report.chunks) - 1


def test_a_users_own_document_is_embedded_for_real(
    tiny: Path, tmp_path: Path, e5: E5Embedder, tokens: TokenCounter
) -> None:
    own = tmp_path / "nota.txt"
    own.write_text("Interne nota\n\n\nDe gemeente vangt in 2024 ten hoogste tweehonderd statushouders op.\n")
    model = RecordingEmbedder(e5)
    run = indexer(tmp_path / "data", tiny, model, tokens)
    report = run.run([own])
    mine = [c for c in report.chunks if "statushouders" in c.text]
    assert model.passages == [c.embed_text for c in mine]
    hit = run.store.search(e5.embed(["Hoeveel statushouders vangt de gemeente op?"], query=True)[0], k=1)[0]
    assert hit.chunk.id == mine[0].id
    ids, vectors = run.store.vectors()
    stored = vectors[ids.index(mine[0].id)]
    assert np.abs(stored - e5.embed([mine[0].embed_text])[0]).max() <= TOLERANCE


# -- the sentence cache is seeded, so a service needs no warm-up


def test_the_sentence_cache_is_seeded_so_a_warm_up_embeds_nothing(
    tiny: Path, tmp_path: Path, e5: E5Embedder, tokens: TokenCounter
) -> None:
    cache_dir = tmp_path / "data" / "cache"
    model = RecordingEmbedder(e5)
    report = indexer(tmp_path / "data", tiny, model, tokens, cache=CachingEmbedder(model, directory=cache_dir)).run()
    sentences = list(dict.fromkeys(s for c in report.chunks for s in passage_sentences(c.text)))
    assert report.seeded == len(sentences) > 0

    # A service started later (another process: a new cache on the same folder) warms up without the model.
    service_model = RecordingEmbedder(e5)
    warmed = CachingEmbedder(service_model, directory=cache_dir).embed(sentences, query=False)
    assert service_model.passages == []
    assert np.abs(warmed - e5.embed(sentences, query=False)).max() <= TOLERANCE

    again = indexer(tmp_path / "data", tiny, model, tokens, cache=CachingEmbedder(model, directory=cache_dir)).run()
    assert again.seeded == 0  # seeded once per artefact, so an up-to-date index run stays quick


def test_stale_sentence_vectors_are_not_seeded(
    tiny: Path, tmp_path: Path, e5: E5Embedder, tokens: TokenCounter
) -> None:
    model = RecordingEmbedder(e5)
    cache = CachingEmbedder(model, directory=tmp_path / "cache")
    report = indexer(tmp_path / "data", tiny, model, tokens, cache=cache, versions="parser=999;chunker=999").run()
    assert report.seeded == 0
    assert cache.seeded("anything") is False


def test_an_unreadable_artefact_means_embedding_not_failing(
    tiny: Path, tmp_path: Path, e5: E5Embedder, tokens: TokenCounter
) -> None:
    (tiny / ARTEFACT).write_bytes(b"not a numpy archive")
    model = RecordingEmbedder(e5)
    report = indexer(tmp_path / "data", tiny, model, tokens).run()
    assert report.prebuilt == 0
    assert len(model.passages) == len(report.chunks)


def test_the_artefact_records_model_and_versions(tiny: Path) -> None:
    with np.load(tiny / ARTEFACT, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        assert data["vectors"].dtype == np.float32
    assert (meta["model"], meta["versions"]) == (E5_NAME, VERSIONS)
