"""The comparison in the evaluation: the scores of one comparison against an over-time gold item (pure), and
an evaluation run that asks the items spanning documents as comparisons and reports their figures."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.build import Parts
from assistant.compare import Cited, Comparison, Entry
from assistant.types import EXTRACTIVE, Source
from eval.compare import comparison_items, score_comparison, summarise_comparisons
from eval.gold import GoldItem, load_gold
from eval.report import markdown
from eval.run import COMPARE_METRICS, evaluate, failure_reasons

OLD = "De terugkeer van irreguliere migranten blijft een prioriteit van de Unie."
NEW = "De nieuwe terugkeerverordening moet 38 000 terugkeerbesluiten per jaar sneller uitvoeren."
ITEM = GoldItem(
    id="x-1",
    lang="nl",
    question="Hoe veranderde de aanpak van terugkeer tussen 2011 en 2026?",
    answer="",
    key_facts=("prioriteit", "38 000"),
    docs=("gamm-2011", "strategy-2026"),
    sections=("a", "b"),
    evidence=(OLD, NEW),
    kind="over_time",
    split="test",
)
YEARS = {"gamm-2011": 2011, "pact-2020": 2020, "strategy-2026": 2026}


def _source(n: int, doc_id: str, year: int, text: str) -> Source:
    return Source(n, f"c{n}", doc_id, doc_id, doc_id, year, "1 Inleiding", "1 Inleiding", text, 0.9)


def _comparison(*entries: Entry, sources: tuple[Source, ...]) -> Comparison:
    return Comparison("terugkeer", "nl", EXTRACTIVE, entries, "In volgorde: 2011 [1] → 2026 [3].", sources)


def _entry(doc_id: str, year: int, *cited: Cited, sources: tuple[int, ...]) -> Entry:
    return Entry(doc_id, doc_id, doc_id, year, cited, sources)


SOURCES = (
    _source(1, "gamm-2011", 2011, f"Inleiding. {OLD} Verder."),
    _source(2, "pact-2020", 2020, "Een passage over iets anders."),
    _source(3, "strategy-2026", 2026, NEW),
)


def test_a_comparison_with_both_passages_and_both_entries_scores_full_marks() -> None:
    comparison = _comparison(
        _entry("gamm-2011", 2011, Cited(OLD, 1), sources=(1,)),
        _entry("pact-2020", 2020, sources=(2,)),  # not addressed: not an expected document
        _entry("strategy-2026", 2026, Cited(NEW, 3), sources=(3,)),
        sources=SOURCES,
    )
    scores = score_comparison(ITEM, comparison, detected=True, years=YEARS)
    assert scores["compare.both_passages"] is True and scores["compare.passage_recall"] == 1.0
    assert scores["compare.entries"] is True and scores["compare.years"] is True
    assert scores["compare.key_fact_recall"] == 1.0
    assert scores["compare.expected_years"] == {"gamm-2011": 2011, "strategy-2026": 2026}


def test_a_missing_passage_a_not_addressed_document_and_a_fact_in_the_wrong_entry_count_against_it() -> None:
    # 2011's evidence is not among the sources and its entry says nothing; 2026 quotes 2011's fact only.
    comparison = _comparison(
        _entry("gamm-2011", 2011, sources=(2,)),
        _entry("strategy-2026", 2026, Cited("Terugkeer blijft een prioriteit.", 3), sources=(3,)),
        sources=(SOURCES[1], _source(3, "strategy-2026", 2026, "Terugkeer blijft een prioriteit.")),
    )
    scores = score_comparison(ITEM, comparison, years=YEARS)
    assert scores["compare.both_passages"] is False and scores["compare.passage_recall"] == 0.0
    assert scores["compare.entries"] is False and scores["compare.entry_recall"] == 0.5
    # "prioriteit" is 2011's fact (its evidence holds it): said by 2026 it does not count.
    assert scores["compare.key_fact_recall"] == 0.0
    assert scores["compare.years"] is True  # the entries that are there are dated and in order


def test_entries_out_of_year_order_or_misdated_fail_the_years_score() -> None:
    entries = (
        _entry("strategy-2026", 2026, Cited(NEW, 3), sources=(3,)),
        _entry("gamm-2011", 2011, Cited(OLD, 1), sources=(1,)),
    )
    assert score_comparison(ITEM, _comparison(*entries, sources=SOURCES), years=YEARS)["compare.years"] is False
    misdated = (_entry("gamm-2011", 2011, Cited(OLD, 1), sources=(1,)), replace_year(entries[0], 2025))
    assert score_comparison(ITEM, _comparison(*misdated, sources=SOURCES), years=YEARS)["compare.years"] is False


def replace_year(entry: Entry, year: int) -> Entry:
    return Entry(entry.doc_id, entry.title, entry.short_title, year, entry.sentences, entry.sources)


def test_the_summary_groups_by_split_kind_and_split_and_kind() -> None:
    dev = GoldItem(**{**ITEM.__dict__, "id": "x-2", "split": "dev", "kind": "cross_doc"})
    full = _comparison(
        _entry("gamm-2011", 2011, Cited(OLD, 1), sources=(1,)),
        _entry("strategy-2026", 2026, Cited(NEW, 3), sources=(3,)),
        sources=SOURCES,
    )
    empty = _comparison(_entry("gamm-2011", 2011, sources=(2,)), sources=(SOURCES[1],))
    scores = [score_comparison(ITEM, full, years=YEARS), score_comparison(dev, empty, years=YEARS)]
    summary = summarise_comparisons([ITEM, dev], scores)
    assert summary["all"]["items"] == 2 and summary["all"]["compare.both_passages"] == 0.5
    assert summary["test.over_time"]["compare.entries"] == 1.0
    assert summary["dev.cross_doc"]["compare.entries"] == 0.0
    assert comparison_items([ITEM, dev]) == [ITEM, dev]


def test_an_evaluation_run_compares_the_items_that_span_documents(corpus_components: Parts, tmp_path: Path) -> None:
    gold = [i for i in load_gold() if i.kind == "over_time" and i.split == "dev"][:2]
    single = next(i for i in load_gold() if i.kind == "factoid" and i.split == "dev")
    path = tmp_path / "gold.jsonl"
    lines = []
    for item in (*gold, single):
        raw = {
            "id": item.id,
            "lang": item.lang,
            "kind": item.kind,
            "split": item.split,
            "question": item.question,
            "answer": item.answer,
            "key_facts": list(item.key_facts),
            "doc": list(item.docs),
            "section": list(item.sections),
            "evidence": list(item.evidence),
        }
        lines.append(json.dumps(raw, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = evaluate(
        corpus_components.assistant, load_gold([path]), mode="extractive", comparer=corpus_components.comparer
    )
    compared = [r for r in run.results if "compare.entries" in r.scores]
    assert [r.id for r in compared] == [i.id for i in gold]  # the factoid is not compared
    for result in compared:
        assert result.scores["compare.expected_years"].keys() == set(result.docs)
        assert result.scores["compare.latency_ms"] > 0
        assert failure_reasons(result) == result.failures
    overall = run.metrics["overall"]
    assert set(COMPARE_METRICS) <= set(overall) and overall["latency.compare_p50_ms"] is not None
    assert all(0.0 <= (overall[name] or 0.0) <= 1.0 for name in COMPARE_METRICS)
    assert "compare.entries.dev" in run.flat and "compare.entries.over_time" in run.flat
    report = markdown(run)
    assert "## Comparisons (items spanning documents)" in report
    assert "## Comparisons by split and kind" in report and "| over_time | 2 |" in report
    # Without a comparer the run builds one over the assistant's retriever: the same figures.
    again = evaluate(corpus_components.assistant, load_gold([path]), mode="extractive")
    assert {n: again.metrics["overall"][n] for n in COMPARE_METRICS} == {n: overall[n] for n in COMPARE_METRICS}
