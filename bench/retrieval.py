"""Retrieval benchmark: hit@1/3/5 and MRR on the gold set per language, and warm latency p50/p95.

Run with `.venv/bin/python bench/retrieval.py [--gold FILE ...] [--compare]`. Prints figures; asserts nothing.
A hit is a retrieved chunk holding the evidence (or at least half its words in one run); a cross-document
item counts as a hit at the rank where its last evidence passage appears.
Targets (issue 3): hit@5 >= 0.90 for Dutch and for English questions, p50 <= 50 ms warm.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.build import build_assistant  # noqa: E402
from assistant.conversation import condense  # noqa: E402
from assistant.language import detect_language  # noqa: E402
from assistant.retrieve import RetrievalWeights, Retriever  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from eval.gold import GoldItem, load_gold  # noqa: E402
from eval.metrics import first_hit_rank, percentile  # noqa: E402
from eval.run import history_conversation  # noqa: E402

Row = tuple[GoldItem, int | None]  # an item and the rank at which its evidence was found (None: never)


def standalone(item: GoldItem) -> str:
    """The item's question made standalone by the rules (no LLM), as the assistant would retrieve it."""
    conversation = history_conversation(item)
    return condense(item.question, conversation.turns if conversation else [])


def run(retriever: Retriever, items: list[GoldItem]) -> tuple[list[Row], list[float]]:
    """Each item's evidence rank among the top 5, and each retrieval's milliseconds."""
    rows: list[Row] = []
    latencies = []
    for item in items:
        question = standalone(item)
        lang = detect_language(question)
        started = time.perf_counter()
        retrieval = retriever.retrieve(question, lang, k=5)
        latencies.append((time.perf_counter() - started) * 1000)
        rank = first_hit_rank(item.evidence, [h.chunk.text + "\n" + h.chunk.notes for h in retrieval.hits])
        rows.append((item, rank))
    return rows, latencies


def summarise(rows: list[Row], label: str) -> str:
    if not rows:
        return f"{label:<14} n=0"
    n = len(rows)
    hit = {k: sum(1 for _, r in rows if r is not None and r <= k) / n for k in (1, 3, 5)}
    mrr = sum(1 / r for _, r in rows if r) / n
    return f"{label:<14} n={n:<3} hit@1 {hit[1]:.2f}  hit@3 {hit[3]:.2f}  hit@5 {hit[5]:.2f}  MRR {mrr:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gold", type=Path, action="append")
    parser.add_argument("--compare", action="store_true", help="also run dense-only and BM25-only")
    args = parser.parse_args()
    parts = build_assistant(load_settings())
    items = [i for i in load_gold(args.gold) if i.answerable]
    configs = {"hybrid": RetrievalWeights()}
    if args.compare:
        plain = replace(RetrievalWeights(), decompose=False, mention=0.0)
        configs["dense only"] = replace(plain, lexical_nl=0.0, lexical_en=0.0)
        configs["bm25 only"] = replace(plain, dense=0.0)
        configs["plain RRF"] = replace(plain, lexical_en=1.0)
    for name, weights in configs.items():
        retriever = Retriever(parts.store, parts.embedder, weights, documents=parts.documents)
        retriever.retrieve("warm-up", "nl")
        rows, latencies = run(retriever, items)
        print(f"== {name}")
        for lang in ("nl", "en"):
            print(summarise([r for r in rows if r[0].lang == lang], f"  {lang}"))
        print(summarise([r for r in rows if r[0].kind == "cross_doc"], "  cross_doc"))
        print(summarise([r for r in rows if r[0].kind == "followup"], "  followup"))
        print(
            f"  latency p50 {statistics.median(latencies):.1f} ms  p95 {percentile(latencies, 95):.1f} ms "
            "(embedding the question included)"
        )
        missed = [r[0].id for r in rows if r[1] is None or r[1] > 5]
        print(f"  missed@5: {' '.join(missed)}")


if __name__ == "__main__":
    main()
