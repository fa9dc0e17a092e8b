"""Comparison benchmark: `compare` over the five documents, warm, in extractive mode; the comparison's
quality on the gold items that span documents; and (`--calibrate`) the figures behind the "not addressed"
threshold (`assistant.compare.SimilarityCheck`).

Run with `.venv/bin/python bench/compare.py` (needs an index: `make index`). Prints figures; asserts nothing.
Targets (issue 15): `compare` <= 1 s warm; unseen over-time and two-document questions: both passages in
the sources >= 0.75, and an entry for each expected document.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.answer import AnswerRequest  # noqa: E402
from assistant.build import build_assistant  # noqa: E402
from assistant.compare import Comparer, SimilarityCheck, _per_document, _source  # noqa: E402
from assistant.lexical import terms  # noqa: E402
from assistant.retrieve import Retrieval  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from assistant.types import Language  # noqa: E402
from eval import metrics as m  # noqa: E402
from eval.compare import (  # noqa: E402
    compare_item,
    comparison_items,
    document_years,
    score_comparison,
    summarise_comparisons,
)
from eval.gold import GoldItem, load_gold  # noqa: E402
from eval.metrics import percentile  # noqa: E402

TOPICS = (
    "terugkeer",
    "hervestiging",
    "legale migratie",
    "solidariteit",
    "samenwerking met derde landen",
    "grensbeheer",
    "mensensmokkel",
    "return",
    "talent partnerships",
    "Hoe veranderde de aanpak van terugkeer tussen 2011 en 2026?",
)


def timing(comparer: Comparer, rounds: int) -> None:
    comparer.compare(TOPICS[0])  # warm: model loaded, lexical index built
    for topic in TOPICS:
        comparer.compare(topic)  # each topic's sentence vectors in the cache, as a repeated topic has them
    latencies: list[float] = []
    entries = []
    for _ in range(rounds):
        for topic in TOPICS:
            started = time.perf_counter()
            comparison = comparer.compare(topic)
            latencies.append((time.perf_counter() - started) * 1000)
            entries.append(len(comparison.entries))
    print(
        f"compare, warm, extractive   p50 {statistics.median(latencies):.0f} ms"
        f"   p95 {percentile(latencies, 95):.0f} ms"
        f"   max {max(latencies):.0f} ms   ({len(latencies)} comparisons of {len(TOPICS)} topics, "
        f"{statistics.mean(entries):.1f} entries each)"
    )


def quality(comparer: Comparer, items: list[GoldItem]) -> None:
    chosen = comparison_items(items)
    years = document_years(comparer)
    scores = [
        score_comparison(i, compare_item(comparer, i), detected=comparer.comparative(i.question), years=years)
        for i in chosen
    ]
    summary = summarise_comparisons(chosen, scores)
    keys = ("compare.both_passages", "compare.entries", "compare.years", "compare.key_fact_recall", "compare.detected")
    print(f"{'items':<15} {'n':>3}  " + "  ".join(f"{k.removeprefix('compare.'):>15}" for k in keys))
    groups = ("all", "dev", "test", "nl", "en", "cross_doc", "over_time")
    for name in groups + tuple(f"{s}.{k}" for s in ("dev", "test") for k in ("over_time", "cross_doc")):
        if name in summary:
            row = summary[name]
            cells = "  ".join(f"{row.get(k) if row.get(k) is None else f'{row[k]:.2f}':>15}" for k in keys)
            print(f"{name:<15} {row['items']:>3}  {cells}")
    for item, score in zip(chosen, scores, strict=True):
        if not (score["compare.both_passages"] and score["compare.entries"]):
            print(f"  {item.id} ({item.split}): passages {score['compare.passage_recall']:.2f}, expected documents "
                  f"addressed {score['compare.entry_recall']:.2f} (years {score['compare.expected_years']}), "
                  f"missing facts {score['compare.facts_missing']}")  # fmt: skip


Signal = tuple[float, float, float]  # (best passage similarity, gap to the closest document, word coverage)


def _signals(comparer: Comparer, retrieval: Retrieval) -> dict[str, Signal]:
    """Each document's signals of addressing the question, as `compare` sees its passages."""
    groups = _per_document(retrieval)
    best = {d: max(h.similarity for h in hits[: comparer.candidates]) for d, hits in groups.items()}
    closest = max(best.values(), default=0.0)
    out = {}
    for doc_id, hits in groups.items():
        sources = tuple(_source(n, h) for n, h in enumerate(hits[: comparer.candidates], start=1))
        request = AnswerRequest(retrieval.question, retrieval.language, sources, term_weights=retrieval.term_weights)
        coverage = max((c.coverage for c in comparer.extractive.rank(request)), default=0.0)  # no re-ranking
        out[doc_id] = (best[doc_id], best[doc_id] - closest, coverage)
    return out


def calibrate(comparer: Comparer, items: list[GoldItem]) -> None:
    """The figures behind `SimilarityCheck`, on the dev split. (1) Every dev question compared over all
    documents: pairs that address it (the item's gold documents) and pairs that do not (documents whose
    whole text holds none of the item's key facts nor the question's rarest term); how well each signal
    separates them (AUC). (2) The dev questions that span documents, compared as `compare` does (over the
    documents they name or date): the share of their gold documents kept. For each rule: what it keeps and
    marks "not addressed"."""
    texts: dict[str, str] = {}
    for chunk in comparer.retriever.chunks():
        texts[chunk.doc_id] = texts.get(chunk.doc_id, "") + "\n" + chunk.text
    vocabulary = {d: set(terms(t)) for d, t in texts.items()}
    reader = comparer._reader()
    pairs: dict[tuple[str, str], list[Signal]] = {
        (lang, label): [] for lang in ("nl", "en") for label in ("pos", "neg", "cmp")
    }
    for item in items:
        if item.split != "dev" or not item.answerable or item.history:
            continue
        lang: Language = "en" if item.lang == "en" else "nl"
        retrieval = comparer._retrieve(reader, item.question, lang, None, None)
        rare = max(retrieval.term_weights, key=lambda t: retrieval.term_weights[t], default="")
        for doc_id, signal in _signals(comparer, retrieval).items():
            if doc_id in item.docs:
                pairs[(lang, "pos")].append(signal)
            elif not any(m.fact_in(f, texts[doc_id]) for f in item.key_facts) and rare not in vocabulary[doc_id]:
                pairs[(lang, "neg")].append(signal)
        if item in comparison_items([item]):
            named = reader.scoper.named(item.question) | reader.scoper.by_year(item.question)
            scope = [d for d in reader.scoper.document_ids if d in named] if len(named) >= 2 else None
            spanned = _signals(comparer, comparer._retrieve(reader, item.question, lang, scope, None))
            pairs[(lang, "cmp")] += [spanned[d] for d in item.docs if d in spanned]
    check = SimilarityCheck()
    for lang in ("nl", "en"):
        pos, neg, cmp = pairs[(lang, "pos")], pairs[(lang, "neg")], pairs[(lang, "cmp")]
        print(f"{lang}: {len(pos)} addressing and {len(neg)} not addressing pairs; {len(cmp)} in comparisons")
        for i, name in enumerate(("similarity", "gap", "coverage")):
            a, b = [x[i] for x in pos], [x[i] for x in neg]
            auc = sum((p > n) + 0.5 * (p == n) for p in a for n in b) / max(1, len(a) * len(b))
            print(
                f"    {name:<10} AUC {auc:.2f} (median {statistics.median(a):.3f} against {statistics.median(b):.3f})"
            )
        for gap in (0.023, 0.03, 0.04, 0.05):
            for cover, floored in ((1.01, True), (0.6, True), (0.6, False), (0.8, False)):

                def rule(x: Signal, gap: float = gap, cover: float = cover, floored: bool = floored) -> bool:
                    if not floored and x[2] >= cover:  # the words alone, whatever the similarity
                        return True
                    return x[0] >= check.min_similarity and (x[1] >= -gap or x[2] >= cover)

                kept, marked = sum(map(rule, pos)) / len(pos), sum(not rule(x) for x in neg) / len(neg)
                in_comparisons = sum(map(rule, cmp)) / len(cmp) if cmp else float("nan")
                print(
                    f"    similarity >= {check.min_similarity}, gap <= {gap}"
                    + (f" or coverage >= {cover}" if cover <= 1 else "")
                    + ("" if floored else " (the coverage without the similarity floor)")
                    + f": keeps {kept:.2f}, marks {marked:.2f}; keeps {in_comparisons:.2f} in comparisons"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds over the topics")
    parser.add_argument("--calibrate", action="store_true", help="print the not-addressed threshold's figures")
    args = parser.parse_args()
    parts = build_assistant(load_settings())
    comparer = parts.comparer
    items = load_gold()
    if args.calibrate:
        calibrate(comparer, items)
        return
    timing(comparer, args.rounds)
    quality(comparer, items)


if __name__ == "__main__":
    main()
