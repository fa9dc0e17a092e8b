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
from assistant.settings import load_settings  # noqa: E402
from assistant.types import Language  # noqa: E402
from eval import metrics as m  # noqa: E402
from eval.compare import compare_item, comparison_items, score_comparison, summarise_comparisons  # noqa: E402
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
    scores = [score_comparison(i, compare_item(comparer, i), detected=comparer.comparative(i.question)) for i in chosen]
    summary = summarise_comparisons(chosen, scores)
    keys = ("compare.both_passages", "compare.entries", "compare.key_fact_recall", "compare.detected")
    print(f"{'items':<10} {'n':>3}  " + "  ".join(f"{k.removeprefix('compare.'):>15}" for k in keys))
    for name in ("all", "dev", "test", "nl", "en", "cross_doc", "over_time"):
        if name in summary:
            row = summary[name]
            cells = "  ".join(f"{row.get(k) if row.get(k) is None else f'{row[k]:.2f}':>15}" for k in keys)
            print(f"{name:<10} {row['items']:>3}  {cells}")
    for item, score in zip(chosen, scores, strict=True):
        if not (score["compare.both_passages"] and score["compare.entries"]):
            print(f"  {item.id} ({item.split}): passages {score['compare.passage_recall']:.2f}, entries for "
                  f"{score['compare.expected_years']}, missing facts {score['compare.facts_missing']}")  # fmt: skip


def calibrate(comparer: Comparer, items: list[GoldItem]) -> None:
    """Signals of whether a document addresses a dev question, as `compare` sees its passages: the similarity
    of its best passage, and its gap to the best document's. Pairs that address it: the item's gold
    documents; pairs that do not: documents whose whole text holds none of the item's key facts nor the
    question's rarest term. For each signal and language: how well it separates them (AUC) and the threshold
    that keeps 95% of the addressing pairs."""
    texts: dict[str, str] = {}
    for chunk in comparer.retriever.chunks():
        texts[chunk.doc_id] = texts.get(chunk.doc_id, "") + "\n" + chunk.text
    vocabulary = {d: set(terms(t)) for d, t in texts.items()}
    signals = ("passage", "gap", "coverage")
    pairs: dict[tuple[str, str, str], list[float]] = {
        (lang, sig, label): [] for lang in ("nl", "en") for sig in signals for label in ("pos", "neg")
    }
    reader = comparer._reader()
    for item in items:
        if item.split != "dev" or not item.answerable or item.history:
            continue
        lang: Language = "en" if item.lang == "en" else "nl"
        # As `compare` searches: every document, the question without its documents' names and years.
        retrieval = comparer._retrieve(reader, item.question, lang, None, None)
        rare = max(retrieval.term_weights, key=lambda t: retrieval.term_weights[t], default="")
        groups = _per_document(retrieval)
        best = {d: max(h.similarity for h in hits[: comparer.candidates]) for d, hits in groups.items()}
        top = max(best.values(), default=0.0)
        for doc_id in groups:
            if doc_id in item.docs:
                label = "pos"
            elif not any(m.fact_in(f, texts[doc_id]) for f in item.key_facts) and rare not in vocabulary[doc_id]:
                label = "neg"
            else:
                continue
            pairs[(lang, "passage", label)].append(best[doc_id])
            pairs[(lang, "gap", label)].append(best[doc_id] - top)
            # The share of the question's (idf-weighted) terms in the document's best sentence; no re-ranking.
            sources = tuple(_source(n, h) for n, h in enumerate(groups[doc_id][: comparer.candidates], start=1))
            request = AnswerRequest(retrieval.question, lang, sources, term_weights=retrieval.term_weights)
            pairs[(lang, "coverage", label)].append(
                max((c.coverage for c in comparer.extractive.rank(request)), default=0)
            )
    for lang in ("nl", "en"):
        pos = list(zip(*(pairs[(lang, sig, "pos")] for sig in signals), strict=True))
        neg = list(zip(*(pairs[(lang, sig, "neg")] for sig in signals), strict=True))
        for cover in (1.01, 0.8, 0.6, 0.5):

            def rule(p: float, g: float, c: float, cover: float = cover) -> bool:
                return p >= SimilarityCheck.min_similarity and (g >= -SimilarityCheck.max_gap or c >= cover)

            kept = sum(rule(*x) for x in pos) / max(1, len(pos))
            marked = sum(not rule(*x) for x in neg) / max(1, len(neg))
            print(
                f"{lang} similarity >= {SimilarityCheck.min_similarity} and (gap >= -{SimilarityCheck.max_gap} or "
                f"coverage >= {cover}): keeps {kept:.2f} of the addressing, marks {marked:.2f} of the others"
            )
        for sig in signals:
            pos, neg = sorted(pairs[(lang, sig, "pos")]), sorted(pairs[(lang, sig, "neg")])
            if not pos or not neg:
                continue
            auc = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))
            threshold = pos[int(0.05 * len(pos))]
            marked = sum(n < threshold for n in neg) / len(neg)
            print(
                f"{lang} {sig:<8}: {len(pos)} addressing (median {statistics.median(pos):.3f}), {len(neg)} not "
                f"(median {statistics.median(neg):.3f}); AUC {auc:.2f}; threshold {threshold:.3f} keeps 0.95 of "
                f"the addressing, marks {marked:.2f} of the others"
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
