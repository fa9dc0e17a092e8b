"""The Chroma index store and the incremental indexer, on a tiny corpus with the real e5 model.

Everything is real: a Chroma PersistentClient under tmp_path, the bundled e5 embedder, the parser and
chunker. Only the corpus is tiny (two short Dutch documents) so that each index run takes well under
a second.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fpdf import FPDF

from errors import EmbeddingError, StoreError
from index.chunk import Chunker
from index.embed import E5Embedder
from index.pipeline import VERSIONS, Indexer
from index.store import REGISTRY, IndexStore, open_client
from index.tokens import TokenCounter

# ------------------------------------------------------------------------------------------ tiny corpus

ASIEL: dict[str, Any] = {
    "id": "asiel-2021",
    "file": "asiel.txt",
    "title": "Gemeenschappelijk asielbeleid in de Unie",
    "short_title": "Asielbeleid",
    "year": 2021,
    "doc_type": "communication",
    "reference": "COM(2021) 100",
    "sections": [
        (
            "1. INLEIDING",
            [
                "De Europese Unie werkt aan een gemeenschappelijk stelsel voor asiel. Dit document beschrijft "
                "hoe de lidstaten samen de verantwoordelijkheid dragen voor mensen die bescherming zoeken.",
                "Het stelsel moet eerlijk, snel en doeltreffend zijn, en het moet de grondrechten van iedere "
                "aanvrager eerbiedigen.",
            ],
        ),
        (
            "2. SOLIDARITEIT TUSSEN LIDSTATEN",
            [
                "Een lidstaat die onder druk staat door een groot aantal aankomsten kan de andere lidstaten om "
                "hulp vragen. Die lidstaten kiezen dan zelf hoe zij bijdragen: door asielzoekers over te nemen "
                "via herplaatsing, door de terugkeer van afgewezen aanvragers te sponsoren, of door "
                "operationele steun te leveren.",
                "De Commissie beoordeelt elk jaar hoeveel solidariteit nodig is en stelt voor hoe de bijdragen "
                "worden verdeeld.",
            ],
        ),
        (
            "3. PROCEDURES AAN DE BUITENGRENS",
            [
                "Iedereen die de buitengrens irregulier overschrijdt, ondergaat eerst een screening. Die "
                "screening omvat een identiteitscontrole, een gezondheidscontrole en een veiligheidscontrole, "
                "en duurt ten hoogste vijf dagen.",
                "Aanvragen van personen uit landen met een laag erkenningspercentage worden in een "
                "grensprocedure behandeld. Die procedure duurt niet langer dan twaalf weken, inclusief beroep.",
            ],
        ),
    ],
}

TALENT: dict[str, Any] = {
    "id": "talent-2019",
    "file": "talent.txt",
    "title": "Legale migratie en het aantrekken van talent",
    "short_title": "Legale migratie",
    "year": 2019,
    "doc_type": "factsheet",
    "reference": None,
    "sections": [
        (
            "1. INLEIDING",
            [
                "Veel sectoren in Europa kampen met een tekort aan personeel. Legale migratie kan helpen om "
                "die tekorten op de arbeidsmarkt op te vangen en de economie te versterken.",
            ],
        ),
        (
            "2. DE EUROPESE BLAUWE KAART",
            [
                "Hooggekwalificeerde werknemers van buiten de Unie kunnen een Europese blauwe kaart aanvragen. "
                "Daarvoor hebben zij een arbeidscontract nodig met een salaris boven een drempel die elke "
                "lidstaat vaststelt.",
                "Houders van een blauwe kaart mogen na achttien maanden naar een andere lidstaat verhuizen om "
                "daar te werken, en hun gezin mag met hen meekomen.",
            ],
        ),
        (
            "3. SEIZOENARBEID",
            [
                "Seizoenarbeiders werken vooral in de landbouw en het toerisme. Zij mogen ten hoogste negen "
                "maanden per jaar in de Unie verblijven en hebben recht op dezelfde arbeidsvoorwaarden als "
                "werknemers uit de lidstaat zelf.",
            ],
        ),
    ],
}

# A paraphrase (no shared key words with the passage) and an English question.
Q_SCREENING_NL = "Hoeveel dagen mag de controle van irreguliere migranten bij aankomst duren?"
Q_BLUE_CARD_EN = "Which permit lets highly skilled workers from outside Europe take a job in the EU?"
Q_SEASONAL_NL = "Hoe lang mogen seizoenarbeiders in de landbouw per jaar blijven?"


def render(doc: dict[str, Any]) -> str:
    """The document as a plain text file: title, numbered headings, paragraphs wrapped at 78 columns."""
    out = [doc["title"], ""]
    for heading, paragraphs in doc["sections"]:
        out += ["", heading, ""]
        for paragraph in paragraphs:
            out += [textwrap.fill(paragraph, 78), ""]
    return "\n".join(out)


def write_corpus(corpus_dir: Path, docs: Sequence[dict[str, Any]]) -> Path:
    """Write the documents and a manifest in the format of `corpus/manifest.json`."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    keys = ("id", "file", "title", "short_title", "year", "doc_type", "reference")
    manifest = {"documents": [{k: d[k] for k in keys} for d in docs]}
    text = json.dumps(manifest, ensure_ascii=False, indent=2)
    (corpus_dir / "manifest.json").write_text(text, encoding="utf-8")
    for d in docs:
        (corpus_dir / d["file"]).write_text(render(d), encoding="utf-8")
    return corpus_dir


def with_section(doc: dict[str, Any], number: int, paragraphs: list[str]) -> dict[str, Any]:
    sections = [(h, list(p)) for h, p in doc["sections"]]
    sections[number - 1] = (sections[number - 1][0], paragraphs)
    return {**doc, "sections": sections}


# ------------------------------------------------------------------------------------------ embedders


class CountingEmbedder:
    """The real embedder, counting passage calls and texts; `fail_on_call` makes call n raise."""

    def __init__(self, inner: E5Embedder, name: str | None = None, fail_on_call: int | None = None) -> None:
        self.inner = inner
        self.name = name or inner.name
        self.dimension = inner.dimension
        self.calls = 0
        self.texts = 0
        self.fail_on_call = fail_on_call

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        if not query:
            self.calls += 1
            if self.fail_on_call is not None and self.calls >= self.fail_on_call:
                raise EmbeddingError("simulated failure of the embedder in the middle of an index run")
            self.texts += len(texts)
        return self.inner.embed(texts, query=query)


@dataclass
class Env:
    corpus_dir: Path
    data_dir: Path
    client: Any
    store: IndexStore
    embedder: CountingEmbedder
    indexer: Indexer


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    return E5Embedder()


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> TokenCounter:
    return TokenCounter(tmp_path_factory.mktemp("tiktoken"))


def make_env(
    root: Path,
    e5: E5Embedder,
    tokens: TokenCounter,
    docs: Sequence[dict[str, Any]] = (ASIEL, TALENT),
    *,
    model: str | None = None,
) -> Env:
    corpus_dir = write_corpus(root / "corpus", docs)
    data_dir = root / "data"
    client = open_client(data_dir)
    embedder = CountingEmbedder(e5, name=model)
    store = IndexStore(client, model=embedder.name, versions=VERSIONS)
    indexer = Indexer(store, embedder, Chunker(tokens.count), corpus_dir)
    return Env(corpus_dir, data_dir, client, store, embedder, indexer)


def rewire(env: Env, embedder: CountingEmbedder) -> Indexer:
    """A new indexer on the same store with another embedder wrapper (as a new process would build)."""
    env.embedder = embedder
    env.indexer = Indexer(env.store, embedder, env.indexer.chunker, env.corpus_dir)
    return env.indexer


def query(e5: E5Embedder, text: str) -> np.ndarray:
    return e5.embed([text], query=True)[0]


def collection_names(client: Any) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in client.list_collections()}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, e5: E5Embedder, tokens: TokenCounter) -> Env:
    """The tiny corpus indexed once; tests using it only read."""
    env = make_env(tmp_path_factory.mktemp("indexed"), e5, tokens)
    report = env.indexer.run()
    assert report.sync.changed and report.sync.embedded == report.sync.chunks > 0
    return env


# ------------------------------------------------------------------------------------------ reading


def test_documents_lists_each_document_with_counts(indexed: Env) -> None:
    docs = {d.doc_id: d for d in indexed.store.documents()}
    assert set(docs) == {"asiel-2021", "talent-2019"}
    asiel, talent = docs["asiel-2021"], docs["talent-2019"]
    assert asiel.title == ASIEL["title"] and asiel.year == 2021
    assert talent.title == TALENT["title"] and talent.year == 2019
    # Each numbered section is one chunk here (they are far below the token budget); the title line
    # before "1. INLEIDING" is a section of its own.
    assert asiel.sections == 4 and asiel.chunks == 4
    assert talent.sections == 4 and talent.chunks == 4
    assert asiel.tokens > talent.tokens > 50
    chunks = indexed.store.chunks()
    assert len(chunks) == asiel.chunks + talent.chunks
    assert {c.section_label for c in chunks if c.doc_id == "asiel-2021"} >= {
        "1. INLEIDING",
        "2. SOLIDARITEIT TUSSEN LIDSTATEN",
        "3. PROCEDURES AAN DE BUITENGRENS",
    }
    status = indexed.store.status()
    assert (status.documents, status.chunks, status.versions) == (2, len(chunks), VERSIONS)


def test_search_finds_the_right_passage_for_a_dutch_paraphrase(indexed: Env, e5: E5Embedder) -> None:
    vector = query(e5, Q_SCREENING_NL)
    hits = indexed.store.search(vector, k=3)
    assert len(hits) == 3
    top = hits[0].chunk
    assert (top.doc_id, top.section_label) == ("asiel-2021", "3. PROCEDURES AAN DE BUITENGRENS")
    assert "vijf dagen" in top.text
    assert top.year == 2021 and top.doc_title == ASIEL["title"]
    assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)
    # The score a user sees is the cosine similarity of the question and the stored passage vector.
    passage = e5.embed([top.embed_text])[0]
    assert hits[0].similarity == pytest.approx(float(np.dot(vector, passage)), abs=2e-3)


def test_search_finds_the_right_passage_for_an_english_question(indexed: Env, e5: E5Embedder) -> None:
    hits = indexed.store.search(query(e5, Q_BLUE_CARD_EN), k=3)
    top = hits[0].chunk
    assert (top.doc_id, top.section_label) == ("talent-2019", "2. DE EUROPESE BLAUWE KAART")
    assert "blauwe kaart" in top.text


def test_doc_ids_and_years_filters_restrict_results(indexed: Env, e5: E5Embedder) -> None:
    vector = query(e5, Q_SCREENING_NL)  # best answered by asiel-2021
    only_talent = indexed.store.search(vector, k=10, doc_ids=["talent-2019"])
    assert only_talent and {h.chunk.doc_id for h in only_talent} == {"talent-2019"}
    assert len(only_talent) == 4  # k above the number of matching chunks returns what exists

    by_year = indexed.store.search(vector, k=10, years=[2019])
    assert [h.chunk.id for h in by_year] == [h.chunk.id for h in only_talent]
    assert {h.chunk.doc_id for h in indexed.store.search(vector, k=10, years=[2021, 2030])} == {"asiel-2021"}

    both = indexed.store.search(vector, k=10, doc_ids=["asiel-2021", "talent-2019"], years=[2019, 2021])
    assert len(both) == 8
    assert indexed.store.search(vector, k=5, doc_ids=["asiel-2021"], years=[2019]) == []
    assert indexed.store.search(vector, k=5, doc_ids=["no-such-document"]) == []


def test_approximate_search_beyond_the_exact_limit_finds_the_same_passages(
    indexed: Env, e5: E5Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large index is searched through Chroma's HNSW index; on this small one both paths must agree, with
    the same cosine similarity (llama-index's score transform undone)."""
    import index.store

    vector = query(e5, Q_SCREENING_NL)
    exact = indexed.store.search(vector, k=3, doc_ids=["asiel-2021"])
    monkeypatch.setattr(index.store, "EXACT_SEARCH_LIMIT", 0)
    approximate = indexed.store.search(vector, k=3, doc_ids=["asiel-2021"])
    assert [h.chunk.id for h in approximate] == [h.chunk.id for h in exact]
    assert [h.similarity for h in approximate] == pytest.approx([h.similarity for h in exact], abs=1e-4)


def test_search_on_an_empty_store_says_to_run_index(tmp_path: Path, e5: E5Embedder) -> None:
    store = IndexStore(open_client(tmp_path / "data"), model=e5.name, versions=VERSIONS)
    assert store.documents() == [] and store.chunks() == []
    with pytest.raises(StoreError, match="policy-assistant index"):
        store.search(query(e5, Q_SCREENING_NL))


_RELOAD_SCRIPT = """
import json, sys
from pathlib import Path
import numpy as np
from index.pipeline import VERSIONS
from index.store import IndexStore, open_client

store = IndexStore(open_client(Path(sys.argv[1])), model=sys.argv[2], versions=VERSIONS)
hits = store.search(np.load(sys.argv[3]), k=3)
print(json.dumps({
    "active": store.active_name(),
    "chunks": [[c.id, c.text, c.section_path, c.year] for c in store.chunks()],
    "documents": [[d.doc_id, d.sections, d.chunks] for d in store.documents()],
    "hits": [[h.chunk.id, h.similarity] for h in hits],
}))
"""


def test_a_restarted_process_sees_the_same_index(indexed: Env, e5: E5Embedder, tmp_path: Path) -> None:
    vector = query(e5, Q_SCREENING_NL)
    expected_hits = indexed.store.search(vector, k=3)
    # A new store object on the same client (as a second request handler would build) ...
    again = IndexStore(indexed.client, model=e5.name, versions=VERSIONS)
    assert [c.id for c in again.chunks()] == [c.id for c in indexed.store.chunks()]
    # ... and a new process opening the data directory (as after a restart).
    np.save(tmp_path / "q.npy", vector)
    out = subprocess.run(
        [sys.executable, "-c", _RELOAD_SCRIPT, str(indexed.data_dir), e5.name, str(tmp_path / "q.npy")],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["active"] == indexed.store.active_name()
    assert seen["chunks"] == [[c.id, c.text, c.section_path, c.year] for c in indexed.store.chunks()]
    assert seen["documents"] == [[d.doc_id, d.sections, d.chunks] for d in indexed.store.documents()]
    assert [h[0] for h in seen["hits"]] == [h.chunk.id for h in expected_hits]
    assert [h[1] for h in seen["hits"]] == pytest.approx([h.similarity for h in expected_hits], abs=1e-4)


# ------------------------------------------------------------------------------------------ incremental


def test_second_run_on_unchanged_documents_embeds_nothing(
    tmp_path: Path,
    e5: E5Embedder,
    tokens: TokenCounter,
) -> None:
    env = make_env(tmp_path, e5, tokens)
    first = env.indexer.run().sync
    assert first.changed and first.embedded == first.chunks == env.embedder.texts == 8
    active = env.store.active_name()

    indexer = rewire(env, CountingEmbedder(e5))
    second = indexer.run().sync
    assert second.changed is False
    assert (second.embedded, second.reused, second.chunks) == (0, 8, 8)
    assert env.embedder.calls == 0
    assert env.store.active_name() == active  # no new generation was built


def test_changing_one_document_reembeds_only_its_changed_chunks(
    tmp_path: Path,
    e5: E5Embedder,
    tokens: TokenCounter,
) -> None:
    env = make_env(tmp_path, e5, tokens)
    env.indexer.run()
    before = {c.id: c for c in env.store.chunks()}
    old_top = env.store.search(query(e5, Q_SEASONAL_NL), k=1)[0].chunk
    assert "negen maanden" in old_top.text

    changed = with_section(
        TALENT,
        3,
        [
            "Seizoenarbeiders werken vooral in de landbouw en het toerisme. Vanaf volgend jaar mogen zij ten "
            "hoogste zes maanden per jaar in de Unie verblijven, met een eigen huisvestingsgarantie.",
        ],
    )
    write_corpus(env.corpus_dir, [ASIEL, changed])
    indexer = rewire(env, CountingEmbedder(e5))
    report = indexer.run().sync
    assert report.changed is True
    assert report.embedded == 1 == env.embedder.texts  # only the rewritten section
    assert report.reused == report.chunks - 1 == 7
    assert report.removed_documents == ()

    after = {c.id: c for c in env.store.chunks()}
    asiel_ids = {i for i, c in before.items() if c.doc_id == "asiel-2021"}
    assert asiel_ids <= set(after)  # the other document's chunks were kept as they were
    assert len(set(before) - set(after)) == 1 and len(set(after) - set(before)) == 1

    top = env.store.search(query(e5, Q_SEASONAL_NL), k=1)[0].chunk
    assert top.doc_id == "talent-2019" and "zes maanden" in top.text and "negen" not in top.text


def test_deleting_a_document_from_the_manifest_removes_its_chunks(
    tmp_path: Path,
    e5: E5Embedder,
    tokens: TokenCounter,
) -> None:
    env = make_env(tmp_path, e5, tokens)
    env.indexer.run()
    write_corpus(env.corpus_dir, [ASIEL])
    report = rewire(env, CountingEmbedder(e5)).run().sync
    assert report.removed_documents == ("talent-2019",)
    assert report.embedded == 0 and env.embedder.calls == 0 and report.chunks == 4
    assert [d.doc_id for d in env.store.documents()] == ["asiel-2021"]
    assert env.store.search(query(e5, Q_BLUE_CARD_EN), k=5, doc_ids=["talent-2019"]) == []
    assert {h.chunk.doc_id for h in env.store.search(query(e5, Q_BLUE_CARD_EN), k=10)} == {"asiel-2021"}


def test_rebuild_reembeds_everything(tmp_path: Path, e5: E5Embedder, tokens: TokenCounter) -> None:
    env = make_env(tmp_path, e5, tokens)
    env.indexer.run()
    old = env.store.active_name()
    report = rewire(env, CountingEmbedder(e5)).run(rebuild=True).sync
    assert report.changed is True
    assert report.embedded == report.chunks == env.embedder.texts == 8 and report.reused == 0
    assert env.store.active_name() != old
    assert collection_names(env.client) == {REGISTRY, env.store.active_name()}
    assert env.store.search(query(e5, Q_SCREENING_NL), k=1)[0].chunk.section_label == (
        "3. PROCEDURES AAN DE BUITENGRENS"
    )


def test_progress_reports_every_embedded_chunk(tmp_path: Path, e5: E5Embedder, tokens: TokenCounter) -> None:
    env = make_env(tmp_path, e5, tokens)
    seen: list[tuple[int, int]] = []
    env.indexer.run(progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (8, 8)


# ------------------------------------------------------------------------------------------ interruption

RETURN_POLICY: dict[str, Any] = {
    "id": "terugkeer-2023",
    "file": "terugkeer.txt",
    "title": "Een doeltreffend terugkeerbeleid",
    "short_title": "Terugkeerbeleid",
    "year": 2023,
    "doc_type": "report",
    "reference": None,
    # Twenty small sections: more than one embedding batch (16) of new chunks.
    "sections": [
        (
            f"{n}. MAATREGEL {n}",
            [
                f"Maatregel {n} betreft de samenwerking met derde land nummer {n} bij de terugkeer van "
                f"mensen zonder verblijfsrecht, met afspraken over reisdocumenten en termijnen.",
            ],
        )
        for n in range(1, 21)
    ],
}


def test_interrupted_run_leaves_the_previous_index_usable(
    tmp_path: Path,
    e5: E5Embedder,
    tokens: TokenCounter,
) -> None:
    env = make_env(tmp_path, e5, tokens)
    env.indexer.run()
    active = env.store.active_name()
    docs_before = env.store.documents()
    top_before = env.store.search(query(e5, Q_SCREENING_NL), k=1)[0].chunk

    write_corpus(env.corpus_dir, [ASIEL, TALENT, RETURN_POLICY])
    failing = CountingEmbedder(e5, fail_on_call=2)  # the first batch of 16 succeeds, the second fails
    with pytest.raises(EmbeddingError):
        rewire(env, failing).run()
    assert failing.calls == 2 and 0 < failing.texts < 20  # it failed midway, after a batch was embedded

    assert env.store.active_name() == active
    assert env.store.documents() == docs_before
    assert env.store.search(query(e5, Q_SCREENING_NL), k=1)[0].chunk == top_before
    fresh = IndexStore(env.client, model=e5.name, versions=VERSIONS)  # e.g. another process
    assert fresh.active_name() == active and fresh.documents() == docs_before

    report = rewire(env, CountingEmbedder(e5)).run().sync
    assert report.changed and report.reused == 8 and report.embedded == report.chunks - 8 >= 20
    assert [d.doc_id for d in env.store.documents()] == ["asiel-2021", "talent-2019", "terugkeer-2023"]
    assert collection_names(env.client) == {REGISTRY, env.store.active_name()}  # no orphan left behind
    top = env.store.search(query(e5, "Afspraken over reisdocumenten met derde land nummer 7"), k=1)[0]
    assert top.chunk.doc_id == "terugkeer-2023"


# ------------------------------------------------------------------------------------------ models


def test_each_embedding_model_keeps_its_own_collection(
    tmp_path: Path,
    e5: E5Embedder,
    tokens: TokenCounter,
) -> None:
    env = make_env(tmp_path, e5, tokens, model="model-a")
    env.indexer.run()
    store_a = env.store
    embedder_b = CountingEmbedder(e5, name="model-b")
    store_b = IndexStore(env.client, model="model-b", versions=VERSIONS)
    report_b = Indexer(store_b, embedder_b, env.indexer.chunker, env.corpus_dir).run().sync
    # Model b embeds everything itself: vectors are never borrowed from another model's collection.
    assert report_b.embedded == report_b.chunks == embedder_b.texts == 8

    name_a, name_b = store_a.active_name(), store_b.active_name()
    assert name_a and name_b and name_a != name_b
    assert collection_names(env.client) == {REGISTRY, name_a, name_b}
    for name, model in ((name_a, "model-a"), (name_b, "model-b")):
        meta = env.client.get_collection(name).metadata
        assert meta["model"] == model and meta["versions"] == VERSIONS and meta["state"] == "ready"

    # Re-indexing with model a (a changed document) leaves model b's index untouched and usable.
    write_corpus(env.corpus_dir, [ASIEL])
    rewire(env, CountingEmbedder(e5, name="model-a")).run()
    assert store_a.active_name() != name_a
    assert store_b.active_name() == name_b
    assert [d.doc_id for d in store_a.documents()] == ["asiel-2021"]
    assert [d.doc_id for d in store_b.documents()] == ["asiel-2021", "talent-2019"]
    assert store_b.search(query(e5, Q_BLUE_CARD_EN), k=1)[0].chunk.doc_id == "talent-2019"
    assert collection_names(env.client) == {REGISTRY, store_a.active_name(), name_b}


# ------------------------------------------------------------------------------------------ user files


def _two_page_pdf(path: Path) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pages = [
        (
            "1. OPVANG VAN ASIELZOEKERS",
            "De gemeente regelt de opvang van asielzoekers in kleine locaties "
            "verspreid over de stad. Elke locatie heeft plaats voor ten hoogste tachtig bewoners.",
        ),
        (
            "2. INBURGERING",
            "Statushouders volgen binnen zes maanden na hun huisvesting een taalcursus. "
            "De gemeente betaalt de cursus en een begeleider helpt bij het vinden van werk.",
        ),
    ]
    for heading, body in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, heading)
        pdf.ln(4)
        pdf.multi_cell(0, 8, body)
    pdf.output(str(path))
    return path


def test_user_documents_are_indexed_remembered_and_removed(
    tmp_path: Path,
    e5: E5Embedder,
    tokens: TokenCounter,
) -> None:
    env = make_env(tmp_path, e5, tokens)
    env.indexer.run()
    user = tmp_path / "mijn documenten"
    user.mkdir()
    (user / "notitie.md").write_text(
        "# Notitie over huisvesting\n\n## Wachtlijsten\n\nDe wachtlijst voor sociale huurwoningen is in de "
        "regio gemiddeld zeven jaar. Statushouders krijgen voorrang bij de toewijzing.\n\n## Nieuwbouw\n\n"
        "De provincie wil tot 2030 jaarlijks vierduizend flexwoningen bouwen.\n",
        encoding="utf-8",
    )
    pdf = _two_page_pdf(user / "rapport.pdf")

    report = rewire(env, CountingEmbedder(e5)).run([user])
    assert report.sync.changed and report.sync.reused == 8 and report.sync.embedded == env.embedder.texts > 0
    docs = {d.doc_id: d for d in env.store.documents()}
    assert set(docs) == {"asiel-2021", "talent-2019", "notitie", "rapport"}
    assert docs["notitie"].title == "Notitie over huisvesting"
    pdf_chunks = [c for c in env.store.chunks() if c.doc_id == "rapport"]
    assert {c.page for c in pdf_chunks} == {1, 2}
    assert next(c for c in pdf_chunks if "taalcursus" in c.text).page == 2
    assert env.store.sources() == [str(user.resolve())]

    hit = env.store.search(query(e5, "Hoe lang wacht je op een sociale huurwoning?"), k=1)[0].chunk
    assert hit.doc_id == "notitie" and "zeven jaar" in hit.text
    hit = env.store.search(query(e5, "Wanneer moeten statushouders Nederlands leren?"), k=1)[0].chunk
    assert (hit.doc_id, hit.page) == ("rapport", 2)

    # A later run without paths keeps the remembered folder.
    again = rewire(env, CountingEmbedder(e5)).run()
    assert again.sync.changed is False and env.embedder.calls == 0
    assert {d.doc_id for d in env.store.documents()} == set(docs)
    assert env.store.sources() == [str(user.resolve())]

    # Deleting the file removes its chunks on the next run; the rest of the folder stays.
    pdf.unlink()
    gone = rewire(env, CountingEmbedder(e5)).run()
    assert gone.sync.removed_documents == ("rapport",)
    assert {d.doc_id for d in env.store.documents()} == {"asiel-2021", "talent-2019", "notitie"}
    assert env.embedder.calls == 0


# ------------------------------------------------------------------------------------------ known bugs


def test_manifest_year_and_id_changes_reach_the_index(
    tmp_path: Path,
    e5: E5Embedder,
    tokens: TokenCounter,
) -> None:
    env = make_env(tmp_path, e5, tokens)
    env.indexer.run()
    write_corpus(env.corpus_dir, [ASIEL, {**TALENT, "id": "talent-2018", "year": 2018}])
    rewire(env, CountingEmbedder(e5)).run()
    listed = [(d.doc_id, d.year) for d in env.store.documents()]
    assert listed == [("asiel-2021", 2021), ("talent-2018", 2018)]
    assert env.store.search(query(e5, Q_BLUE_CARD_EN), k=1, years=[2018])[0].chunk.doc_id == "talent-2018"


def test_long_model_names_with_a_common_prefix_get_separate_indexes(
    tmp_path: Path,
    e5: E5Embedder,
    tokens: TokenCounter,
) -> None:
    first = "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2"
    second = "sentence-transformers/paraphrase-multilingual-mpnet-base-v2"
    env = make_env(tmp_path, e5, tokens, model=first)
    env.indexer.run()
    embedder = CountingEmbedder(e5, name=second)
    store = IndexStore(env.client, model=second, versions=VERSIONS)
    report = Indexer(store, embedder, env.indexer.chunker, env.corpus_dir).run().sync
    assert report.embedded == report.chunks == embedder.texts  # its own vectors, not the other model's
    assert store.active_name() != env.store.active_name()
    assert env.client.get_collection(store.active_name()).metadata["model"] == second


def test_reindexing_one_model_keeps_the_index_of_a_model_with_a_longer_name(
    tmp_path: Path,
    e5: E5Embedder,
    tokens: TokenCounter,
) -> None:
    short, longer = "intfloat/multilingual-e5-large", "intfloat/multilingual-e5-large-instruct"
    env = make_env(tmp_path, e5, tokens, model=short)
    env.indexer.run()
    store = IndexStore(env.client, model=longer, versions=VERSIONS)
    Indexer(store, CountingEmbedder(e5, name=longer), env.indexer.chunker, env.corpus_dir).run()
    write_corpus(env.corpus_dir, [ASIEL])
    rewire(env, CountingEmbedder(e5, name=short)).run()  # builds a new generation for `short`
    assert store.search(query(e5, Q_BLUE_CARD_EN), k=1)[0].chunk.doc_id == "talent-2019"


def test_adding_a_file_inside_a_remembered_folder_does_not_duplicate_it(
    tmp_path: Path,
    e5: E5Embedder,
    tokens: TokenCounter,
) -> None:
    env = make_env(tmp_path, e5, tokens)
    folder = tmp_path / "eigen"
    folder.mkdir()
    (folder / "nota.md").write_text(
        "# Nota opvang\n\nDe gemeente vangt veertig asielzoekers op in een voormalig schoolgebouw.\n", encoding="utf-8"
    )
    env.indexer.run([folder])
    env.indexer.run([folder / "nota.md"])
    assert [d.doc_id for d in env.store.documents()] == ["asiel-2021", "nota", "talent-2019"]


def test_overlapping_index_runs_fail_cleanly(tmp_path: Path, e5: E5Embedder, tokens: TokenCounter) -> None:
    env = make_env(tmp_path, e5, tokens)
    second = Indexer(
        IndexStore(env.client, model=e5.name, versions=VERSIONS),
        CountingEmbedder(e5),
        env.indexer.chunker,
        env.corpus_dir,
    )

    class StartsAnotherRun(CountingEmbedder):
        def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
            if not query and self.calls == 0:
                second.run()  # e.g. a cron job or a second service instance, while this run embeds
            return super().embed(texts, query=query)

    with contextlib.suppress(StoreError):  # acceptable: one line telling the user what happened
        rewire(env, StartsAnotherRun(e5)).run()
    assert {d.doc_id for d in env.store.documents()} == {"asiel-2021", "talent-2019"}


# ------------------------------------------------------------------------------------------ saved copy and pointer


def test_an_index_run_saves_the_copy_a_reader_would_otherwise_read_from_chroma(
    tmp_path: Path, e5: E5Embedder, tokens: TokenCounter
) -> None:
    corpus_dir = write_corpus(tmp_path / "corpus", [ASIEL, TALENT])
    data_dir = tmp_path / "data"
    cache_dir, chroma_dir = data_dir / "cache", data_dir / "chroma"
    store = IndexStore(open_client(data_dir), e5.name, VERSIONS, cache_dir=cache_dir, chroma_dir=chroma_dir)
    Indexer(store, e5, Chunker(tokens.count), corpus_dir).run()
    active = store.active_name()
    # Written by the run itself (with the pointer): no reader has read anything yet.
    saved = sorted(p.name for p in (cache_dir / "index").iterdir() if p.name.startswith("pa-"))
    assert saved == [f"{active}.chunks.json", f"{active}.vectors.npz"]
    assert len(list((cache_dir / "index").glob("*.pointer.json"))) == 1

    from_copy = IndexStore(open_client(data_dir), model=e5.name, versions=VERSIONS, cache_dir=cache_dir)
    from_chroma = IndexStore(open_client(data_dir), model=e5.name, versions=VERSIONS)  # no copy: Chroma only
    assert from_copy.chunks() == from_chroma.chunks() and len(from_chroma.chunks()) == 8
    copy_ids, copy_vectors = from_copy.vectors()
    chroma_ids, chroma_vectors = from_chroma.vectors()
    by_id = dict(zip(chroma_ids, chroma_vectors, strict=True))
    assert sorted(copy_ids) == sorted(chroma_ids)
    assert all(np.array_equal(vector, by_id[i]) for i, vector in zip(copy_ids, copy_vectors, strict=True))
    vector = query(e5, Q_SCREENING_NL)
    assert from_copy.search(vector, k=8) == from_chroma.search(vector, k=8)


_ASK_SCRIPT = """
import contextlib, io, json, sys
from ui.cli import main

answers = []
for question in sys.argv[1:]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["ask", "--json", question]) == 0
    answers.append(json.loads(out.getvalue()))
print(json.dumps({"answers": answers, "chromadb": "chromadb" in sys.modules}))
"""


def _what_a_user_sees(answer: dict[str, Any]) -> tuple[Any, ...]:
    return (answer["answer"], answer["refused"], answer["sources"])


def test_a_new_process_answers_from_the_saved_copy_with_the_same_sources_as_from_chroma(tmp_path: Path) -> None:
    from assistant.build import build_assistant
    from assistant.settings import load_settings
    from tests.tiny_corpus import Q_BLUE_CARD, Q_SCREENING, write_tiny_corpus

    corpus_dir = write_tiny_corpus(tmp_path / "corpus")
    data_dir = tmp_path / "data"
    settings = load_settings(data_dir=data_dir, corpus_dir=corpus_dir, answer_mode="extractive", _env_file=None)
    build_assistant(settings).indexer.run()
    questions = [Q_SCREENING, Q_BLUE_CARD]

    def ask_in_a_new_process() -> dict[str, Any]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        env.update(ASSISTANT_DATA_DIR=str(data_dir), ASSISTANT_CORPUS_DIR=str(corpus_dir))
        env["ASSISTANT_ANSWER_MODE"] = "extractive"
        done = subprocess.run(
            [sys.executable, "-c", _ASK_SCRIPT, *questions], capture_output=True, text=True, timeout=300, env=env
        )
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    via_copy = ask_in_a_new_process()
    assert not via_copy["chromadb"]  # the pointer and the saved copy: Chroma was never opened

    parts = build_assistant(settings)
    parts.__dict__["store"] = IndexStore(open_client(data_dir), model=parts.embedder.name, versions=VERSIONS)
    via_chroma = [parts.assistant.ask(q).to_json() for q in questions]
    assert [_what_a_user_sees(a) for a in via_copy["answers"]] == [_what_a_user_sees(a) for a in via_chroma]
    assert via_copy["answers"][0]["sources"][0]["doc_id"] == "asiel-2021"
    assert via_copy["answers"][1]["sources"][0]["doc_id"] == "talent-2019"

    # A missing saved copy is read from Chroma (and saved again); the answers stay the same.
    for copy in (data_dir / "cache" / "index").glob("*.chunks.json"):
        copy.unlink()
    again = ask_in_a_new_process()
    assert again["chromadb"]
    assert [_what_a_user_sees(a) for a in again["answers"]] == [_what_a_user_sees(a) for a in via_chroma]
    assert not ask_in_a_new_process()["chromadb"]
