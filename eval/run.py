"""An evaluation run: every gold item through the assistant, scored, aggregated and checked against a baseline.

`evaluate` asks the same `Assistant` the interfaces use (a follow-up gets its item's history as a
`Conversation`), scores each answer with `eval.metrics`, and aggregates the scores overall, per language and
per kind. The items that span documents (over-time and two-document ones) are also asked as a comparison
(`assistant.compare`) and scored with `eval.compare`: both passages among its sources, an entry for each
expected document with its year, the key facts in their document's entry. `check_gate` compares aggregate
metrics with the floors, ceilings and baseline in `baseline.json`.
"""

from __future__ import annotations

import copy
import json
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.answer import source_block
from assistant.conversation import Conversation, turns_from_messages
from assistant.core import Assistant
from assistant.llm import LLM, complete
from assistant.types import EXTRACTIVE, Answer, Message, ModeKind
from errors import InputError, LLMError, PolicyAssistantError
from eval import metrics as m
from eval.compare import compare_item, comparison_items, document_years, score_comparison
from eval.gold import MULTI_DOCUMENT_KINDS, SPLITS, GoldItem
from index.corpus import DEFAULT_CORPUS_DIR
from prompts import render

if TYPE_CHECKING:
    from assistant.compare import Comparer

DEFAULT_BASELINE = Path(__file__).resolve().parent / "baseline.json"
LANGUAGES = ("nl", "en")
# Metrics where a lower value is better: the gate checks them against ceilings, not floors.
LOWER_IS_BETTER = ("refusal.false_rate", "latency.p50_ms", "latency.p95_ms")
# The comparison's figures, over the items that span documents (`eval.compare.score_comparison`).
COMPARE_METRICS = (
    "compare.both_passages",
    "compare.entries",
    "compare.years",
    "compare.key_fact_recall",
    "compare.detected",
)
# Metrics that vary from run to run (timings) or need an external model: never part of the baseline.
NOT_GATED = ("latency.", "judge.")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Judged:
    """An LLM judge's verdict on one answer."""

    score: float | None
    reason: str


class Judge:
    """Faithfulness and relevance scored by an OpenAI-compatible model with the `judge_*` prompts."""

    def __init__(self, llm: LLM) -> None:
        self.llm = llm

    @property
    def model(self) -> str:
        return self.llm.model

    def faithfulness(self, answer: Answer) -> Judged:
        prompt = render(
            "judge_faithfulness",
            question=answer.standalone_question or answer.question,
            answer=answer.text,
            sources=source_block(answer.sources),
        )
        return self._ask(prompt)

    def relevance(self, answer: Answer) -> Judged:
        prompt = render("judge_relevance", question=answer.standalone_question or answer.question, answer=answer.text)
        return self._ask(prompt)

    def _ask(self, prompt: str) -> Judged:
        try:
            score, reason = m.parse_judge_reply(complete(self.llm, [Message("user", prompt)]))
        except (LLMError, ValueError) as err:
            return Judged(None, f"not judged: {err}")
        return Judged(score, reason)


@dataclass
class ItemResult:
    """One gold item's answer and scores, as written to results.jsonl."""

    id: str
    lang: str
    kind: str
    split: str
    answerable: bool
    question: str
    standalone_question: str
    answer: str
    answer_language: str
    mode: str
    refused: bool
    unverified: bool
    coverage: str  # the verdict given
    missing: list[str]  # what the answer says the documents lack
    expected_coverage: str  # the verdict the gold item expects
    sources: list[dict[str, Any]]
    latency_ms: float
    expected_answer: str
    key_facts: list[str]
    docs: list[str]
    evidence: list[str]
    scores: dict[str, Any]
    failures: list[str] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EvalRun:
    """Per-item results and the aggregate metrics of one evaluation run."""

    results: list[ItemResult]
    metrics: dict[str, Any]

    @property
    def flat(self) -> dict[str, float | None]:
        return flat_metrics(self.metrics)


def history_conversation(item: GoldItem) -> Conversation | None:
    """The item's earlier turns as a conversation, as the assistant would have recorded them."""
    turns = turns_from_messages([(str(t.get("role")), str(t.get("content", ""))) for t in item.history])
    return Conversation(turns=turns) if turns else None


def evaluate(
    assistant: Assistant,
    items: Sequence[GoldItem],
    *,
    mode: ModeKind = "extractive",
    k: int | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    judge: Judge | None = None,
    comparer: Comparer | None = None,
) -> EvalRun:
    """Ask every item (the first `limit`) in `mode` with `k` sources, score it and aggregate the scores; an
    item that spans documents is also compared (extractive) with `comparer` (default: one over the
    assistant's retriever, with the bundled corpus' document names)."""
    if mode not in ("extractive", "openai"):
        raise InputError(f"unknown mode {mode!r}; use extractive or openai")
    if limit is not None and limit < 1:
        raise InputError(f"--limit {limit} must be at least 1")
    chosen = list(items)[:limit] if limit else list(items)
    # Evaluation turns are not the users' conversations: keep them out of the conversation database.
    asker = copy.copy(assistant)
    asker.conversations = None
    comparer = comparer or default_comparer(assistant)
    years = document_years(comparer) if comparison_items(chosen) else {}
    results: list[ItemResult] = []
    for done, item in enumerate(chosen, start=1):
        result = _run_item(asker, item, mode, k, judge)
        if comparison_items([item]):
            result.scores.update(_compare_scores(comparer, item, years))
            result.failures = failure_reasons(result)
        results.append(result)
        if progress:
            progress(done, len(chosen))
    summary = summarise(results)
    summary["meta"] = {
        "mode": mode,
        # what actually answered: "openai:<model>", or "extractive" when the endpoint failed and it fell back
        "answered_by": dict(Counter(r.mode for r in results)),
        "k": k or assistant.policy.k,
        "items": len(results),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "judge": judge.model if judge else None,
    }
    return EvalRun(results=results, metrics=summary)


def default_comparer(assistant: Assistant) -> Comparer:
    """A comparer over the assistant's retriever and extractive answerer, knowing the bundled corpus'
    document names (`Parts.comparer` knows the configured corpus' names: pass that one where there are parts)."""
    from assistant.compare import Comparer
    from index.corpus import read_manifest

    documents = read_manifest(DEFAULT_CORPUS_DIR) if DEFAULT_CORPUS_DIR.exists() else []
    return Comparer(assistant.retriever, assistant.extractive, documents=documents)


def _compare_scores(comparer: Comparer, item: GoldItem, years: Mapping[str, int | None]) -> dict[str, Any]:
    """The `compare.*` scores of an item that spans documents (its question asked as a comparison)."""
    try:
        comparison = compare_item(comparer, item)
    except PolicyAssistantError as err:
        return {"compare.error": str(err), "compare.both_passages": False, "compare.entries": False}
    return score_comparison(item, comparison, detected=comparer.comparative(item.question), years=years)


def _run_item(assistant: Assistant, item: GoldItem, mode: ModeKind, k: int | None, judge: Judge | None) -> ItemResult:
    started = time.perf_counter()
    error = None
    try:
        answer = assistant.ask(item.question, history_conversation(item), mode=mode, k=k, remember=False)
    except LLMError as err:  # the endpoint failed and the assistant was set not to fall back
        error = str(err)
        answer = Answer(
            question=item.question,
            standalone_question=item.question,
            language="en" if item.lang == "en" else "nl",  # unknown: keep the error from reading as a mismatch
            mode=assistant.generative.mode if mode == "openai" and assistant.generative else EXTRACTIVE,
            text="",
            sources=(),
            latency_ms=(time.perf_counter() - started) * 1000,
        )
    scores = score(item, answer)
    if judge is not None and error is None:
        faithful, relevant = judge.faithfulness(answer), judge.relevance(answer)
        scores.update(
            {
                "judge.faithfulness": faithful.score,
                "judge.faithfulness_reason": faithful.reason,
                "judge.relevance": relevant.score,
                "judge.relevance_reason": relevant.reason,
            }
        )
    result = ItemResult(
        id=item.id,
        lang=item.lang,
        kind=item.kind,
        split=item.split,
        answerable=item.answerable,
        question=item.question,
        standalone_question=answer.standalone_question,
        answer=answer.text,
        answer_language=answer.language,
        mode=str(answer.mode),
        refused=answer.refused,
        unverified=answer.unverified,
        coverage=answer.coverage,
        missing=list(answer.missing),
        expected_coverage=item.coverage,
        sources=[
            {
                "n": s.n,
                "doc_id": s.doc_id,
                "year": s.year,
                "section": s.label("en"),
                "text": s.text,
                "score": round(s.similarity, 4),
            }
            for s in answer.sources
        ],
        latency_ms=round(answer.latency_ms, 1),
        expected_answer=item.answer,
        key_facts=list(item.key_facts),
        docs=list(item.docs),
        evidence=list(item.evidence),
        scores=scores,
        error=error,
    )
    result.failures = failure_reasons(result)
    return result


def score(item: GoldItem, answer: Answer) -> dict[str, Any]:
    """Every per-item score of `answer` to gold `item` (None where a score does not apply)."""
    texts = [s.text for s in answer.sources]
    answerable = item.answerable
    rank = m.first_hit_rank(item.evidence, texts) if answerable else None
    scores: dict[str, Any] = {"retrieval.rank": rank}
    for cutoff in (1, 3, 5):
        scores[f"retrieval.hit@{cutoff}"] = (rank is not None and rank <= cutoff) if answerable else None
    scores["retrieval.reciprocal_rank"] = (1 / rank if rank else 0.0) if answerable else None

    # A refusal lists the nearest passages as [n] markers: those are pointers, not citations of claims.
    answered = not answer.refused and bool(answer.text)
    scores["citations.cited"] = sorted(set(m.cited_numbers(answer.text))) if answered else []
    scores["citations.valid"] = m.citations_valid(answer.text, answer.sources) if answered else None
    scores["citations.has_citation"] = bool(scores["citations.cited"]) if answered else None
    scores["citations.precision"] = (
        m.citation_precision(answer.text, answer.sources, item.evidence, item.key_facts) if answered else None
    )

    found, missing = m.key_facts_found(item.key_facts, answer.text) if answered else ([], list(item.key_facts))
    scores["answer.key_fact_recall"] = len(found) / len(item.key_facts) if answerable and item.key_facts else None
    scores["answer.facts_found"] = found
    scores["answer.facts_missing"] = missing

    detected = m.answer_language(answer.text, answer.refused or not answer.text, answer.language)
    scores["language.detected"] = detected
    scores["language.match"] = detected == item.lang
    scores["refusal.refused"] = answer.refused
    scores["refusal.correct"] = answer.refused != answerable
    scores["coverage.correct"] = answer.coverage == item.coverage
    if item.kind in MULTI_DOCUMENT_KINDS and answerable:
        # Each document's passage on its own, for "both passages" and for the documents an answer reached.
        located = [any(m.evidence_in(e, t) for t in texts[:5]) for e in item.evidence]
        scores["retrieval.documents_found"] = sum(located) / len(located) if located else None
    return scores


def failure_reasons(result: ItemResult) -> list[str]:
    """Plain reasons why an item counts as a failure in the report (empty when it passed)."""
    s = result.scores
    reasons = []
    if result.error:
        reasons.append(f"error: {result.error}")
    if result.answerable and result.coverage == "not_covered":
        reasons.append("refused an answerable question")
    if s.get("compare.error"):
        reasons.append(f"comparison failed: {s['compare.error']}")
    elif s.get("compare.both_passages") is False:
        reasons.append("comparison: a document's evidence not among its sources")
    if s.get("compare.entries") is False and not s.get("compare.error"):
        missing = [d for d, year in (s.get("compare.expected_years") or {}).items() if year is None]
        reasons.append(
            "comparison: an expected document has no entry that addresses the topic"
            + (f" ({', '.join(missing)} not compared)" if missing else "")
        )
    if not result.answerable and result.coverage == "answered":
        reasons.append("answered an unanswerable question")
    elif not result.answerable and result.coverage == "partial" and not result.missing:
        reasons.append("partial answer to an unanswerable question without naming what is missing")
    if result.answerable and result.expected_coverage == "answered" and result.coverage == "partial":
        reasons.append("called partial, though the documents answer it: " + "; ".join(result.missing))
    if result.answerable and not s["retrieval.hit@5"]:
        reasons.append("evidence not among the sources")
    if result.answerable and not result.refused and s["answer.facts_missing"]:
        reasons.append("key facts missing: " + ", ".join(s["answer.facts_missing"]))
    if s["citations.valid"] is False:
        reasons.append("a citation marker points at no source")
    if s["citations.has_citation"] is False:
        reasons.append("no citation")
    if not s["language.match"]:
        reasons.append(f"answered in {s['language.detected']}, asked in {result.lang}")
    return reasons


# ------------------------------------------------------------------------------------------- aggregation


def aggregate(results: Sequence[ItemResult]) -> dict[str, float | None]:
    """The aggregate metrics of `results` (None where no item applies)."""
    answerable = [r for r in results if r.answerable]
    scores = [r.scores for r in results]
    rates = m.verdict_rates(
        [r.expected_coverage for r in results], [r.coverage for r in results], [bool(r.missing) for r in results]
    )
    latencies = [r.latency_ms for r in results]
    out: dict[str, float | None] = {
        "retrieval.hit@1": m.mean(r.scores["retrieval.hit@1"] for r in answerable),
        "retrieval.hit@3": m.mean(r.scores["retrieval.hit@3"] for r in answerable),
        "retrieval.hit@5": m.mean(r.scores["retrieval.hit@5"] for r in answerable),
        "retrieval.mrr": m.mean(r.scores["retrieval.reciprocal_rank"] for r in answerable),
        "citations.validity": m.mean(s["citations.valid"] for s in scores),
        "citations.precision": m.mean(s["citations.precision"] for s in scores),
        "citations.with_citation": m.mean(s["citations.has_citation"] for s in scores),
        "answer.key_fact_recall": m.mean(r.scores["answer.key_fact_recall"] for r in answerable),
        "language.match": m.mean(s["language.match"] for s in scores),
        "refusal.recall": rates["recall"],
        "refusal.false_rate": rates["false_rate"],
        "coverage.partial_rate": rates["partial_rate"],
        "coverage.partial_recall": rates["partial_recall"],
        "coverage.accuracy": m.mean(s["coverage.correct"] for s in scores),
        "latency.p50_ms": m.percentile(latencies, 50),
        "latency.p95_ms": m.percentile(latencies, 95),
    }
    multi = [s["retrieval.documents_found"] for s in scores if "retrieval.documents_found" in s]
    if multi:
        out["retrieval.documents_found"] = m.mean(multi)
    compared = [s for s in scores if "compare.entries" in s]
    if compared:
        # The comparison of the items that span documents (issue 15's targets: both passages >= 0.75, and
        # each expected document its own entry).
        for name in COMPARE_METRICS:
            out[name] = m.mean(s.get(name) for s in compared)
        out["latency.compare_p50_ms"] = m.percentile(
            [s["compare.latency_ms"] for s in compared if "compare.latency_ms" in s], 50
        )
    if any("judge.faithfulness" in s for s in scores):
        out["judge.faithfulness"] = m.mean(s.get("judge.faithfulness") for s in scores)
        out["judge.relevance"] = m.mean(s.get("judge.relevance") for s in scores)
    return out


def counts(results: Sequence[ItemResult]) -> dict[str, int]:
    answerable = sum(r.answerable for r in results)
    return {"items": len(results), "answerable": answerable, "unanswerable": len(results) - answerable}


def summarise(results: Sequence[ItemResult]) -> dict[str, Any]:
    """Aggregates overall, per language, per kind and per split (and split and language), with the item
    counts behind each, and the coverage verdicts' confusion tables."""
    kinds = sorted({r.kind for r in results})
    splits = [s for s in SPLITS if any(r.split == s for r in results)]
    groups: dict[str, list[ItemResult]] = {
        "overall": list(results),
        **{f"lang:{lang}": [r for r in results if r.lang == lang] for lang in LANGUAGES},
        **{f"kind:{kind}": [r for r in results if r.kind == kind] for kind in kinds},
    }
    for split in splits:
        groups[f"split:{split}"] = [r for r in results if r.split == split]
        for lang in LANGUAGES:
            groups[f"split:{split}.{lang}"] = [r for r in groups[f"split:{split}"] if r.lang == lang]
    split_groups = [g.removeprefix("split:") for g in groups if g.startswith("split:") and groups[g]]
    confusion_groups = {"overall": list(results), **{lang: groups[f"lang:{lang}"] for lang in LANGUAGES}}
    confusion_groups.update({name: groups[f"split:{name}"] for name in split_groups})
    return {
        "overall": aggregate(groups["overall"]),
        "by_language": {lang: aggregate(groups[f"lang:{lang}"]) for lang in LANGUAGES if groups[f"lang:{lang}"]},
        "by_kind": {kind: aggregate(groups[f"kind:{kind}"]) for kind in kinds},
        "by_split": {name: aggregate(groups[f"split:{name}"]) for name in split_groups},
        "confusion": {
            name: m.confusion([r.expected_coverage for r in rs], [r.coverage for r in rs])
            for name, rs in confusion_groups.items()
            if rs
        },
        "counts": {
            "overall": counts(results),
            **{lang: counts(groups[f"lang:{lang}"]) for lang in LANGUAGES},
            **{kind: counts(groups[f"kind:{kind}"]) for kind in kinds},
            **{f"split:{name}": counts(groups[f"split:{name}"]) for name in split_groups},
        },
    }


def flat_metrics(summary: dict[str, Any]) -> dict[str, float | None]:
    """One name per figure: `retrieval.hit@5` overall, `retrieval.hit@5.nl`, `retrieval.hit@5.cross_doc`."""
    flat = dict(summary["overall"])
    for section in ("by_language", "by_kind", "by_split"):
        for group, values in summary.get(section, {}).items():
            flat.update({f"{name}.{group}": value for name, value in values.items()})
    return flat


# ------------------------------------------------------------------------------------------- writers


def write_results(results: Sequence[ItemResult], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for result in results:
            out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")


def write_metrics(summary: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_rounded(summary), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


# ------------------------------------------------------------------------------------------- gate


def load_baseline(path: Path) -> dict[str, Any]:
    """The baseline file: floors, ceilings, tolerance and the committed metrics."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InputError(f"cannot read the baseline {path}: {err.strerror}; check --baseline") from err
    except json.JSONDecodeError as err:
        raise InputError(f"the baseline {path} is not valid JSON ({err}); restore it from git") from err
    if not isinstance(data, dict) or not isinstance(data.get("metrics", {}), dict):
        raise InputError(f"the baseline {path} has no metrics object; restore it from git")
    return data


def check_gate(metrics: Mapping[str, float | None], baseline: Mapping[str, Any]) -> list[str]:
    """One plain line per metric below its floor, above its ceiling, or further than the tolerance from
    the baseline in the wrong direction; empty when the run passes."""
    problems = []
    pending = baseline.get("pending", {})
    for name, floor in baseline.get("floors", {}).items():
        if name in pending:
            continue  # a floor not reached yet: reported by `pending_floors`, still held to the baseline
        value = metrics.get(name)
        if value is None:
            problems.append(f"{name} was not measured (floor {floor:.2f})")
        elif value < floor - 1e-9:
            problems.append(f"{name} = {value:.3f} is below its floor {floor:.2f}")
    for name, ceiling in baseline.get("ceilings", {}).items():
        value = metrics.get(name)
        if value is None:
            problems.append(f"{name} was not measured (ceiling {ceiling:.2f})")
        elif value > ceiling + 1e-9:
            problems.append(f"{name} = {value:.3f} is above its ceiling {ceiling:.2f}")
    tolerance = float(baseline.get("tolerance", 0.03))
    for name, base in baseline.get("metrics", {}).items():
        value = metrics.get(name)
        if value is None or base is None:
            continue
        if _lower_is_better(name) or name in baseline.get("ceilings", {}):
            if value > base + tolerance + 1e-9:
                problems.append(f"{name} = {value:.3f} rose more than {tolerance:.2f} above the baseline {base:.3f}")
        elif value < base - tolerance - 1e-9:
            problems.append(f"{name} = {value:.3f} dropped more than {tolerance:.2f} below the baseline {base:.3f}")
    return problems


def pending_floors(metrics: Mapping[str, float | None], baseline: Mapping[str, Any]) -> list[str]:
    """One line per floor the assistant has not reached yet (listed under "pending" with the reason).

    A pending floor keeps its value: it is not lowered, only not enforced until it is met; the metric is
    still held to its recorded baseline by the tolerance check, so it cannot get worse."""
    lines = []
    for name, reason in baseline.get("pending", {}).items():
        floor = baseline.get("floors", {}).get(name)
        value = metrics.get(name)
        shown = "not measured" if value is None else f"{value:.3f}"
        lines.append(f"{name} = {shown}, floor {floor} not yet reached: {reason}")
    return lines


def _lower_is_better(name: str) -> bool:
    return any(name == metric or name.startswith(metric + ".") for metric in LOWER_IS_BETTER)


def baseline_metrics(summary: dict[str, Any]) -> dict[str, float]:
    """The figures a baseline records: overall and per language (per kind there are too few items to hold
    each to a tolerance), without timings and judge scores."""
    named = dict(summary["overall"])
    for lang, values in summary.get("by_language", {}).items():
        named.update({f"{name}.{lang}": value for name, value in values.items()})
    kept = {
        name: round(value, 4) for name, value in named.items() if value is not None and not name.startswith(NOT_GATED)
    }
    return dict(sorted(kept.items()))


def write_baseline(summary: dict[str, Any], path: Path, mode: str) -> dict[str, Any]:
    """Record this run's metrics as the baseline, keeping the floors, ceilings and tolerance already there."""
    previous = load_baseline(path) if path.exists() else {}
    data = {
        "note": previous.get(
            "note",
            "Regression gate of `make test`: extractive mode, whole gold set. "
            "Rewrite with `policy-assistant eval --update-baseline`; raise floors, "
            "never lower one to pass.",
        ),
        "mode": mode,
        "tolerance": previous.get("tolerance", 0.03),
        "floors": previous.get("floors", {}),
        "ceilings": previous.get("ceilings", {}),
        "pending": previous.get("pending", {}),
        "metrics": baseline_metrics(summary),
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return data
