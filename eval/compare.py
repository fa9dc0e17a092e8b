"""Scoring comparison answers against the gold items that span documents (kinds `over_time`, `cross_doc`).

An over-time item names two or more documents of different years, a verbatim evidence quote of each and
one to three key facts. A comparison of the item's question scores on: every evidence quote among its
sources (both passages), an entry that addresses the topic for every expected document, the entries in year
order with the documents' years, and each key fact in the entry of the document whose evidence holds it.

`compare_item` asks the comparer as the compare view would; `score_comparison` scores one comparison (pure);
`summarise_comparisons` aggregates the scores overall, per split and per language. `eval/run.py` calls these
for the items of `MULTI_DOCUMENT_KINDS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from eval import metrics as m
from eval.gold import MULTI_DOCUMENT_KINDS, GoldItem

if TYPE_CHECKING:
    from assistant.compare import Comparer, Comparison


def compare_item(comparer: Comparer, item: GoldItem) -> Comparison:
    """The comparison of the item's question (extractive), in the item's language."""
    return comparer.compare(item.question, mode="extractive", language="en" if item.lang == "en" else "nl")


def score_comparison(
    item: GoldItem,
    comparison: Comparison,
    *,
    detected: bool | None = None,
    years: Mapping[str, int | None] | None = None,
) -> dict[str, Any]:
    """The scores of `comparison` for gold `item`; `detected`: whether the question, asked in the chat, was
    read as comparative (None: not measured); `years`: the indexed documents' years (`document_years`), which
    each expected document's entry must carry (None: only the order is checked)."""
    texts = [s.text for s in comparison.sources]
    passages = [any(m.evidence_in(quote, t) for t in texts) for quote in item.evidence]
    entries = {e.doc_id: e for e in comparison.entries}
    addressed = [d for d in item.docs if d in entries and entries[d].addressed]
    order = [e.year for e in comparison.entries]
    dated = [y for y in order if y is not None]
    in_order = dated == sorted(dated) and order[: len(dated)] == dated
    dated_right = all(d in entries and entries[d].year == years.get(d) for d in item.docs) if years else True

    found: list[str] = []
    missing: list[str] = []
    for fact in item.key_facts:
        doc = _fact_document(item, fact)
        pool = [entries[doc]] if doc in entries else list(entries.values())
        said = " ".join(c.text for e in pool for c in e.sentences)
        (found if m.fact_in(fact, said) else missing).append(fact)

    return {
        "compare.detected": detected,
        "compare.both_passages": all(passages) if passages else None,
        "compare.passage_recall": sum(passages) / len(passages) if passages else None,
        "compare.entries": len(addressed) == len(item.docs) if item.docs else None,
        "compare.entry_recall": len(addressed) / len(item.docs) if item.docs else None,
        "compare.years_in_order": in_order,
        # The entries in year order, and each expected document's entry dated with that document's year.
        "compare.years": in_order and dated_right,
        "compare.expected_years": {d: entries[d].year if d in entries else None for d in item.docs},
        "compare.key_fact_recall": len(found) / len(item.key_facts) if item.key_facts else None,
        "compare.facts_found": found,
        "compare.facts_missing": missing,
        "compare.latency_ms": round(comparison.latency_ms, 1),
    }


def document_years(comparer: Comparer) -> dict[str, int | None]:
    """Each indexed document's year, as its chunks give it."""
    return {c.doc_id: c.year for c in comparer.retriever.chunks()}


def _fact_document(item: GoldItem, fact: str) -> str | None:
    """The document whose evidence quote holds `fact` (None when no single one does)."""
    holders = [d for d, quote in zip(item.docs, item.evidence, strict=False) if m.fact_in(fact, quote)]
    return holders[0] if len(holders) == 1 else None


def comparison_items(items: Sequence[GoldItem]) -> list[GoldItem]:
    """The items a comparison answers: answerable, spanning two or more documents."""
    return [i for i in items if i.kind in MULTI_DOCUMENT_KINDS and len(i.docs) >= 2]


def summarise_comparisons(items: Sequence[GoldItem], scores: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean of every numeric or yes/no score, overall (`all`), per split, language, kind and split and kind
    (`test.over_time`), with the count."""
    groups: dict[str, list[dict[str, Any]]] = {"all": list(scores)}
    for item, score in zip(items, scores, strict=True):
        for key in (item.split, item.lang, item.kind, item.split and f"{item.split}.{item.kind}"):
            if key:
                groups.setdefault(key, []).append(score)
    out: dict[str, Any] = {}
    for name, group in groups.items():
        keys = [k for k, v in group[0].items() if isinstance(v, (bool, int, float)) or v is None] if group else []
        summary: dict[str, Any] = {"items": len(group)}
        for key in keys:
            summary[key] = m.mean(s.get(key) for s in group)
        out[name] = summary
    return out
