"""Retrieval benchmark: hit@1/3/5 and MRR on the gold set per language and kind, warm latency p50/p95, and
with `--compare` this project against three peer systems (issue 13) in the same run.

Run with `.venv/bin/python bench/retrieval.py [--gold FILE ...] [--compare] [--json]` (needs an index:
`make index`). Prints figures; asserts nothing. The hit rule is the evaluation's (`eval.metrics`): an item
is found at the rank where the last of its evidence quotes appears in the texts returned (each quote
verbatim or a run of at least half its words), so a two-document item needs both passages; the project's
texts are its sources' passages, as the assistant shows them. Latency is a new question's: the question
vector cache is off.

`--compare` adds the peers of `bench/peers.py`: BM25 alone (Dutch stemming, 512-token windows), llama-index
defaults (1024-token chunks, dense, top 5) and dense over 256-token windows, all over the same parsed
documents and with the project's embedder. Their passage vectors are kept under
`<data_dir>/cache/bench-peers/`, so only the first run embeds (minutes on 2 cores). Tables group the items
by language, kind and split (whichever fields the gold items carry); `--json` prints the figures as JSON.
Targets (issue 13): hit@5 >= 0.85 Dutch and English, both passages >= 0.70, Dutch above BM25 alone;
retrieval p50 <= 30 ms warm.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.build import Parts, build_assistant  # noqa: E402
from assistant.conversation import condense  # noqa: E402
from assistant.language import detect_language  # noqa: E402
from assistant.retrieve import Retriever  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from assistant.types import Language  # noqa: E402
from bench.peers import (  # noqa: E402
    BM25Peer,
    DensePeer,
    Ranker,
    VectorCache,
    cache_path,
    document_texts,
    llama_index_chunks,
    token_windows,
)
from eval.gold import MULTI_DOCUMENT_KINDS, GoldItem, load_gold  # noqa: E402
from eval.metrics import first_hit_rank, percentile  # noqa: E402
from eval.run import history_conversation  # noqa: E402

K = 5
PROJECT = "project"
# Fields the tables group by, when the gold items carry them; values in this order, others sorted after.
GROUPINGS = {"lang": ("nl", "en"), "kind": (), "split": ("dev", "test")}
FOLLOWUPS = (
    "follow-ups: the peers get the question with the history's last user question prepended; "
    "this project gets its own standalone question (assistant.conversation.condense)"
)


class ProjectRanker:
    """This project's retriever, as the assistant uses it: the passages of its sources, in rank order."""

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    def rank(self, question: str, language: Language, k: int) -> list[str]:
        return [hit.passage for hit in self.retriever.retrieve(question, language, k=k).hits]


@dataclass(frozen=True)
class System:
    """A ranker under test, and how it is asked a gold item (follow-ups differ)."""

    key: str
    description: str
    ranker: Ranker
    question: Callable[[GoldItem], str]


@dataclass
class Row:
    """One gold item, the values of its grouping fields, and each system's evidence rank (None: not found)."""

    item: GoldItem
    fields: dict[str, str]
    ranks: dict[str, int | None] = field(default_factory=dict)

    def hit(self, system: str) -> bool:
        rank = self.ranks[system]
        return rank is not None and rank <= K


def standalone(item: GoldItem) -> str:
    """The item's question made standalone by the rules (no LLM), as the assistant would retrieve it."""
    conversation = history_conversation(item)
    return condense(item.question, conversation.turns if conversation else [])


def with_previous_question(item: GoldItem) -> str:
    """The question with the history's last user question before it: how a plain pipeline keeps a topic."""
    previous = [str(t.get("content", "")) for t in item.history if t.get("role") == "user"]
    return f"{previous[-1]} {item.question}" if previous else item.question


def grouping_fields(item: GoldItem) -> dict[str, str]:
    """The values the tables group `item` by; a field the item leaves empty (no split) is left out."""
    values = {"lang": item.lang, "kind": item.kind, "split": item.split}
    return {name: value for name, value in values.items() if value}


def project_system(parts: Parts) -> System:
    return System(
        PROJECT, "this project: the assistant's retriever (build_assistant)", ProjectRanker(parts.retriever), standalone
    )


def peer_systems(parts: Parts, log: Callable[[str], None]) -> list[System]:
    """The three peers of issue 13 over the documents the index reads, their vectors from the cache."""
    raws, _, warnings, _ = parts.indexer.collect()
    for warning in warnings:
        log(f"warning: {warning}")
    texts = document_texts(raws)
    count, encode = parts.tokens.count, parts.tokens.encoding.encode_ordinary

    def windows(size: int) -> list[str]:
        return [w for text in texts for w in token_windows(text, count, size)]

    embedder = parts.embedder  # plain: the peers' question vectors are not cached either
    cache_dir = parts.settings.data_dir / "cache"
    model = embedder.name
    bm25_texts, llama_texts, dense_texts = (
        windows(512),
        [c for t in texts for c in llama_index_chunks(t, encode)],
        windows(256),
    )
    log(
        f"peer texts from {len(texts)} documents: {len(bm25_texts)} windows of 512 tokens, "
        f"{len(llama_texts)} llama-index chunks, {len(dense_texts)} windows of 256 tokens"
    )
    caches = {g: VectorCache(cache_path(cache_dir, model, g)) for g in ("llama-index-1024", "window-256")}
    started = time.perf_counter()
    log(
        f"peer passage vectors: kept in {caches['window-256'].path.parent}; those not there yet are embedded now "
        "(the first run: minutes on 2 cores)"
    )
    llama = DensePeer(llama_texts, embedder, caches["llama-index-1024"])
    dense = DensePeer(dense_texts, embedder, caches["window-256"])
    embedded = sum(c.embedded for c in caches.values())
    log(f"peer vectors ready in {time.perf_counter() - started:.1f} s ({embedded} passages embedded, the rest cached)")
    return [
        System("bm25", "BM25 alone, Dutch stemming, 512-token windows", BM25Peer(bm25_texts), with_previous_question),
        System(
            "llama-index",
            f"llama-index defaults: SentenceSplitter 1024/200-token chunks, {model} dense, top {K}",
            llama,
            with_previous_question,
        ),
        System("dense-256", f"dense over 256-token windows, {model}", dense, with_previous_question),
    ]


def measure(systems: Sequence[System], rows: Sequence[Row]) -> dict[str, list[float]]:
    """Fill every row's rank per system; each system's retrieval milliseconds."""
    latencies: dict[str, list[float]] = {}
    for system in systems:
        system.ranker.rank("warm-up", "nl", K)
        times = latencies.setdefault(system.key, [])
        for row in rows:
            question = system.question(row.item)
            started = time.perf_counter()
            texts = system.ranker.rank(question, detect_language(question), K)
            times.append((time.perf_counter() - started) * 1000)
            row.ranks[system.key] = first_hit_rank(row.item.evidence, texts)
    return latencies


# ------------------------------------------------------------------------------------------- figures


def share(rows: Sequence[Row], system: str) -> float | None:
    return round(sum(r.hit(system) for r in rows) / len(rows), 4) if rows else None


def groups(rows: Sequence[Row], name: str) -> dict[str, list[Row]]:
    """The rows by the values of field `name`, in the grouping's order; empty when no row carries it."""
    found: dict[str, list[Row]] = {}
    for row in rows:
        if name in row.fields:
            found.setdefault(row.fields[name], []).append(row)
    preferred = GROUPINGS[name]
    order = [v for v in preferred if v in found] + sorted(v for v in found if v not in preferred)
    return {value: found[value] for value in order}


def figures(systems: Sequence[System], rows: Sequence[Row], latencies: dict[str, list[float]]) -> dict[str, Any]:
    """Everything the tables show, as plain data (what `--json` prints)."""

    def cell(group: Sequence[Row]) -> dict[str, Any]:
        multi = [r for r in group if r.item.kind in MULTI_DOCUMENT_KINDS]
        return {
            "n": len(group),
            "hit@5": {s.key: share(group, s.key) for s in systems},
            "both_passages": {"n": len(multi), **{s.key: share(multi, s.key) for s in systems}},
        }

    return {
        "k": K,
        "systems": {s.key: s.description for s in systems},
        "followups": FOLLOWUPS,
        "overall": cell(rows),
        "groups": {name: {v: cell(g) for v, g in groups(rows, name).items()} for name in GROUPINGS},
        "latency_ms": {
            key: {"p50": round(statistics.median(ms), 2), "p95": round(percentile(ms, 95) or 0.0, 2)}
            for key, ms in latencies.items()
        },
        "missed": {s.key: [r.item.id for r in rows if not r.hit(s.key)] for s in systems},
        "items": [{"id": r.item.id, **r.fields, "rank": r.ranks} for r in rows],
    }


def table(data: dict[str, Any], name: str) -> list[str]:
    """One grouping's table: a row per system, hit@5 per group value, then both passages where they apply."""
    cells = data["groups"][name]
    if not cells:
        return []
    columns = [(f"{value} n={c['n']}", c["hit@5"]) for value, c in cells.items()]
    if name == "lang":
        columns.insert(0, (f"all n={data['overall']['n']}", data["overall"]["hit@5"]))
        both = {"all": data["overall"], **cells}
    else:
        both = cells
    if name != "kind":  # there the multi-document kinds' own columns are their both-passages figures
        columns += [
            (f"both {v} n={c['both_passages']['n']}", c["both_passages"])
            for v, c in both.items()
            if c["both_passages"]["n"]
        ]
    width = max(len(k) for k in data["systems"]) + 2
    lines = [f"{'hit@5 by ' + name:<{width}}" + "".join(f"{label:>{max(11, len(label) + 2)}}" for label, _ in columns)]
    for key in data["systems"]:
        line = f"{key:<{width}}"
        for label, values in columns:
            value = values.get(key)
            line += f"{'-' if value is None else f'{value:.2f}':>{max(11, len(label) + 2)}}"
        lines.append(line)
    return lines


def summarise(rows: Sequence[Row], label: str, system: str = PROJECT) -> str:
    if not rows:
        return f"{label:<14} n=0"
    n = len(rows)
    ranks = [r.ranks[system] for r in rows]
    hit = {k: sum(1 for r in ranks if r is not None and r <= k) / n for k in (1, 3, 5)}
    mrr = sum(1 / r for r in ranks if r) / n
    return f"{label:<14} n={n:<3} hit@1 {hit[1]:.2f}  hit@3 {hit[3]:.2f}  hit@5 {hit[5]:.2f}  MRR {mrr:.2f}"


def print_project(rows: Sequence[Row], data: dict[str, Any]) -> None:
    """The figures of the project alone, as this benchmark has always printed them."""
    print("== this project (the assistant's retriever)")
    for name in ("lang", "kind", "split"):
        for value, group in groups(rows, name).items():
            print(summarise(group, f"  {value}"))
    latency = data["latency_ms"][PROJECT]
    print(
        f"  latency p50 {latency['p50']:.1f} ms  p95 {latency['p95']:.1f} ms "
        "(embedding the question included, no vector cache)"
    )
    print(f"  missed@5: {' '.join(data['missed'][PROJECT])}")


def print_compare(data: dict[str, Any]) -> None:
    print(f"== retrieval on the gold set, hit@{K}: every evidence quote of an item among the first {K} texts")
    for key, description in data["systems"].items():
        print(f"  {key:<12} {description}")
    print(f"  {data['followups']}")
    print("  both: items of the multi-document kinds (cross_doc, over_time) with every document's passage found")
    for name in GROUPINGS:
        lines = table(data, name)
        if lines:
            print()
            print("\n".join(lines))
    print()
    for key, latency in data["latency_ms"].items():
        print(f"latency {key:<12} p50 {latency['p50']:7.1f} ms  p95 {latency['p95']:7.1f} ms")
    for key, missed in data["missed"].items():
        print(f"missed@5 {key:<11} ({len(missed)}) {' '.join(missed)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", type=Path, action="append", help="gold JSONL file (repeatable)")
    parser.add_argument("--compare", action="store_true", help="also run the peer systems of issue 13")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    def log(line: str) -> None:
        print(line, file=sys.stderr if args.json else sys.stdout, flush=True)

    # No question vector cache: every question is embedded, as a new one would be.
    parts = build_assistant(load_settings(embed_cache_size=0))
    rows = [Row(item, grouping_fields(item)) for item in load_gold(args.gold) if item.answerable]
    systems = [project_system(parts)]
    if args.compare:
        started = time.perf_counter()
        systems += peer_systems(parts, log)
        log(f"peers built in {time.perf_counter() - started:.1f} s")
    latencies = measure(systems, rows)
    data = figures(systems, rows, latencies)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if args.compare:
        print_compare(data)
    else:
        print_project(rows, data)


if __name__ == "__main__":
    main()
