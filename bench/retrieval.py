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

from assistant.build import build_components  # noqa: E402
from assistant.condense import condense  # noqa: E402
from assistant.language import detect_language  # noqa: E402
from assistant.retrieve import RetrievalConfig, Retriever  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from assistant.types import Turn  # noqa: E402
from eval.gold import load_gold  # noqa: E402
from eval.metrics import first_hit_rank  # noqa: E402


def standalone(item) -> str:  # type: ignore[no-untyped-def]
    history = [
        Turn(question=u["content"], answer=a["content"])
        for u, a in zip(item.history[0::2], item.history[1::2], strict=False)
    ]
    return condense(item.question, history)


def run(retriever: Retriever, items, embedder) -> dict[str, object]:  # type: ignore[no-untyped-def]
    rows = []
    latencies = []
    for item in items:
        question = standalone(item)
        lang = detect_language(question)
        started = time.perf_counter()
        hits = retriever.retrieve(question, lang, k=5)
        latencies.append((time.perf_counter() - started) * 1000)
        rank = first_hit_rank(item.evidence, [h.chunk.text + "\n" + h.chunk.notes for h in hits])
        rows.append((item, rank))
    return {"rows": rows, "latencies": latencies}


def summarise(rows, label: str) -> str:  # type: ignore[no-untyped-def]
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
    components = build_components(load_settings())
    items = [i for i in load_gold(args.gold) if i.answerable]
    configs = {"hybrid": RetrievalConfig()}
    if args.compare:
        plain = replace(RetrievalConfig(), decompose=False, mention_weight=0.0)
        configs["dense only"] = replace(plain, lexical_weight_nl=0.0, lexical_weight_en=0.0)
        configs["bm25 only"] = replace(plain, dense_weight=0.0)
        configs["plain RRF"] = replace(plain, lexical_weight_en=1.0)
    for name, config in configs.items():
        retriever = Retriever(components.store, components.embedder, config, documents=components.documents)
        retriever.retrieve("warm-up", "nl")
        result = run(retriever, items, components.embedder)
        rows = result["rows"]
        print(f"== {name}")
        for lang in ("nl", "en"):
            print(summarise([r for r in rows if r[0].lang == lang], f"  {lang}"))
        print(summarise([r for r in rows if r[0].kind == "cross_doc"], "  cross_doc"))
        print(summarise([r for r in rows if r[0].kind == "followup"], "  followup"))
        lat = sorted(result["latencies"])
        p95 = lat[int(len(lat) * 0.95) - 1]
        print(f"  latency p50 {statistics.median(lat):.1f} ms  p95 {p95:.1f} ms (embedding the question included)")
        missed = [r[0].id for r in rows if r[1] is None or r[1] > 5]
        print(f"  missed@5: {' '.join(missed)}")


if __name__ == "__main__":
    main()
