"""The documents a question spans, and the sources it gets from each: a comparison over two years gets a
passage of each document in year order, "which document" searches every document unless the question names
its own, and the places of the five sources go where a document's passages are close to its best."""

from __future__ import annotations

from assistant.build import Parts
from assistant.retrieve import Retrieved, Retriever
from index.types import Chunk

COMPARISON = "Vergelijk wat de mededeling van 2011 en de strategie van 2026 zeggen over overnameovereenkomsten."
COMPARISON_EN = "How did the 2020 Pact and the 2022 report each describe the Temporary Protection Directive?"


def test_a_comparison_of_2011_and_2026_gets_a_passage_of_each_in_year_order(corpus_components: Parts) -> None:
    retrieval = corpus_components.retriever.retrieve(COMPARISON, "nl", k=5)
    assert retrieval.scope.documents == ("gamm-2011", "strategy-2026")
    docs = [h.chunk.doc_id for h in retrieval.hits]
    assert docs[:2] == ["gamm-2011", "strategy-2026"]  # each document's best passage first, oldest first
    assert set(docs) == {"gamm-2011", "strategy-2026"}


def test_an_english_question_over_two_named_documents_gets_both(corpus_components: Parts) -> None:
    retrieval = corpus_components.retriever.retrieve(COMPARISON_EN, "en", k=5)
    docs = [h.chunk.doc_id for h in retrieval.hits]
    # Each document's best passage first; the question does not compare, so the better one leads (not by year).
    assert not retrieval.scope.compares and set(docs[:2]) == {"pact-2020", "report-2022"}
    assert set(docs) == {"pact-2020", "report-2022"}


def test_which_document_searches_all_unless_the_question_names_its_document(corpus_components: Parts) -> None:
    scoper = corpus_components.retriever._snapshot().scoper
    every = scoper.scope("Welk document noemt de EU-talentenpool voor het eerst?")
    assert every.which_document and every.documents == scoper.document_ids and every.whole_set
    # "In which year" names the document it is about: the answer is in that document, not spread over five.
    own = scoper.scope("In which year did the Global Approach to Migration and Mobility set up mobility partnerships?")
    assert not own.which_document and not own.whole_set and not own.spans_documents
    retrieval = corpus_components.retriever.retrieve(
        "In which year did the Global Approach to Migration and Mobility set up mobility partnerships?", "en"
    )
    assert retrieval.hits[0].chunk.doc_id == "gamm-2011"


def test_a_comparison_over_time_without_names_spans_the_whole_set(corpus_components: Parts) -> None:
    scope = corpus_components.retriever._snapshot().scoper.scope(
        "Hoe is het terugkeerbeleid door de jaren heen veranderd?"
    )
    assert scope.compares and scope.whole_set and len(scope.documents) == 5
    named = corpus_components.retriever._snapshot().scoper.scope(COMPARISON)
    assert not named.whole_set and named.topic and "2011" not in named.topic


def _hit(doc_id: str, year: int, n: int, fused: float) -> Retrieved:
    chunk = Chunk(
        id=f"{doc_id}-{n}",
        doc_id=doc_id,
        doc_title=doc_id,
        doc_short_title=doc_id,
        year=year,
        section_number=None,
        section_title="s",
        section_path="s",
        paragraph_start=n,
        paragraph_end=n,
        char_start=n * 100,
        char_end=n * 100 + 50,
        text=f"passage {n} of {doc_id}",
        token_count=5,
        content_hash=f"{doc_id}{n}",
    )
    return Retrieved(chunk, fused, 0.8)


def test_a_document_whose_best_passage_stands_out_leaves_places_to_the_other() -> None:
    # The 2011 document has one clear best passage; the 2026 one has four nearly as good as its first.
    by_document = {
        "a-2011": tuple(_hit("a-2011", 2011, i, f) for i, f in enumerate((0.066, 0.058, 0.051))),
        "b-2026": tuple(_hit("b-2026", 2026, i, f) for i, f in enumerate((0.063, 0.059, 0.0586, 0.0568, 0.05))),
    }
    retriever = Retriever.__new__(Retriever)  # _spread reads no store for single-part chunks
    hits = retriever._spread(None, by_document, 5, in_year_order=True)  # type: ignore[arg-type]
    assert [h.chunk.id for h in hits] == ["a-2011-0", "b-2026-0", "b-2026-1", "b-2026-2", "b-2026-3"]
    # Never fewer than one passage of each document, even when one document's passages all score higher.
    lopsided = {
        "a-2011": tuple(_hit("a-2011", 2011, i, 0.07 - i * 0.0001) for i in range(5)),
        "b-2026": (_hit("b-2026", 2026, 0, 0.03),),
    }
    hits = retriever._spread(None, lopsided, 5, in_year_order=True)  # type: ignore[arg-type]
    assert [h.chunk.doc_id for h in hits] == ["a-2011", "b-2026", "a-2011", "a-2011", "a-2011"]
