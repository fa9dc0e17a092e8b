"""`policy-assistant eval`: run the gold set through the assistant, write the report, check the gate.

`ui/cli.py` adds the subcommand with `add_parser(subparsers)` (cheap: nothing heavy is imported until the
command runs) and runs it with `run(parts, args)`. The optional LLM judge is configured with the
`judge_base_url`, `judge_model` and `judge_api_key` settings (ASSISTANT_JUDGE_BASE_URL, ...).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from assistant.build import Parts
    from assistant.settings import Settings
    from assistant.types import ModeKind
    from eval.gold import GoldItem
    from eval.run import EvalRun, Judge

JUDGE_SKIPPED = (
    "LLM judge skipped: set ASSISTANT_JUDGE_BASE_URL and ASSISTANT_JUDGE_MODEL (and ASSISTANT_JUDGE_API_KEY if "
    "the endpoint needs a key) to score faithfulness and relevance."
)
# The figures of the summary table, in order.
SUMMARY = (
    "retrieval.hit@1",
    "retrieval.hit@3",
    "retrieval.hit@5",
    "retrieval.mrr",
    "citations.validity",
    "citations.precision",
    "citations.with_citation",
    "answer.key_fact_recall",
    "language.match",
    "refusal.recall",
    "refusal.false_rate",
    "coverage.partial_rate",
    "coverage.accuracy",
    "retrieval.documents_found",
    "latency.p50_ms",
    "latency.p95_ms",
    "judge.faithfulness",
    "judge.relevance",
)


def add_parser(subparsers: Any) -> None:
    """Add the `eval` subcommand and its options to `subparsers` (from `ArgumentParser.add_subparsers`)."""
    p = subparsers.add_parser(
        "eval",
        help="score the assistant on the gold questions and write a report",
        description="Runs every gold item through the assistant and writes results.jsonl, metrics.json, "
        "report.md and report.html. In extractive mode on the whole gold set it also checks the "
        "regression gate (eval/baseline.json) and exits with 1 when a metric fails it.",
    )
    p.add_argument(
        "--gold",
        type=Path,
        action="append",
        default=None,
        metavar="PATH",
        help="gold JSONL file (repeatable; default: eval/gold/gold.jsonl)",
    )
    p.add_argument(
        "--mode", choices=["extractive", "openai"], default=None, help="answer mode (default: ASSISTANT_ANSWER_MODE)"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder for the results and the report (default: <ASSISTANT_DATA_DIR>/eval)",
    )
    p.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="FILE",
        help="gate against this baseline (default: eval/baseline.json, whole gold set only)",
    )
    p.add_argument(
        "--update-baseline",
        action="store_true",
        help="record this run's metrics in the baseline file, keeping its floors",
    )
    p.add_argument("--k", type=int, default=None, metavar="N", help="sources per answer (default: ASSISTANT_SEARCH_K)")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N items")
    p.add_argument(
        "--split",
        choices=["dev", "test"],
        default=None,
        help="only the items of this split (default: all; tune on dev, report test)",
    )
    p.add_argument("--no-judge", action="store_true", help="skip the LLM judge even when one is configured")


def judge_from_settings(settings: Settings) -> tuple[Judge | None, str | None]:
    """The LLM judge of `settings`, or None and a notice saying how to configure one."""
    from assistant.llm import PLACEHOLDER_KEY, OpenAIChat
    from errors import ConfigError
    from eval.run import Judge

    # getattr: the judge fields are still to be added to `Settings` (judge_base_url, judge_model,
    # judge_api_key); until then a Settings object without them means "no judge".
    base_url = (getattr(settings, "judge_base_url", None) or "").strip()
    model = (getattr(settings, "judge_model", None) or "").strip()
    secret = getattr(settings, "judge_api_key", None)
    key = secret.get_secret_value().strip() if secret is not None else ""
    if not base_url and not model:
        return None, JUDGE_SKIPPED
    if not (base_url and model):
        missing = "ASSISTANT_JUDGE_MODEL" if base_url else "ASSISTANT_JUDGE_BASE_URL"
        raise ConfigError(f"the LLM judge needs {missing} as well; set it, or unset the other judge variable")
    # An explicit placeholder keeps OPENAI_API_KEY, meant for the answering model, away from the judge.
    llm = OpenAIChat(base_url=base_url, model=model, api_key=key or PLACEHOLDER_KEY, max_tokens=300)
    return Judge(llm), None


def run(parts: Parts, args: argparse.Namespace) -> int:
    """Execute `policy-assistant eval`; 1 when the regression gate fails, else 0."""
    from rich.console import Console

    from assistant.limits import MAX_SOURCES, check_k
    from errors import InputError
    from eval.gold import DEFAULT_GOLD, load_gold
    from eval.report import write_report
    from eval.run import (
        DEFAULT_BASELINE,
        check_gate,
        load_baseline,
        pending_floors,
        write_baseline,
        write_metrics,
        write_results,
    )

    settings = parts.settings
    check_k(args.k, most=MAX_SOURCES)
    if args.limit is not None and args.limit < 1:
        raise InputError(f"--limit {args.limit} must be at least 1")
    mode = args.mode or settings.answer_mode
    whole_set = (
        args.limit is None
        and args.split is None
        and (not args.gold or [p.resolve() for p in args.gold] == [DEFAULT_GOLD])
    )
    if args.update_baseline and (mode != "extractive" or not whole_set):
        raise InputError(
            "--update-baseline records the extractive mode on the whole gold set: "
            "drop --mode openai, --gold, --split and --limit"
        )
    out_dir = args.out or settings.data_dir / "eval"
    judge, notice = (None, "LLM judge skipped (--no-judge).") if args.no_judge else judge_from_settings(settings)
    items = load_gold(args.gold, corpus_dir=settings.corpus_dir)
    if args.split:
        items = [i for i in items if i.split == args.split]
        if not items:
            raise InputError(f"no gold item is in the {args.split} split; check the files' `split` fields")

    console = Console(stderr=True)
    if notice:
        console.print(f"[yellow]{notice}[/yellow]")
    evaluation = _evaluate_with_progress(console, parts, items, mode, args, judge)
    if notice:
        evaluation.metrics["meta"]["judge_notice"] = notice

    baseline_path = args.baseline or DEFAULT_BASELINE
    gate: list[str] | None = None
    baseline = None
    if args.update_baseline:
        baseline = write_baseline(evaluation.metrics, baseline_path, mode)
        console.print(f"baseline written to {baseline_path}")
    if mode == "extractive" and (args.baseline is not None or (whole_set and baseline_path.exists())):
        baseline = baseline or load_baseline(baseline_path)
        gate = check_gate(evaluation.flat, baseline)
    write_results(evaluation.results, out_dir / "results.jsonl")
    write_metrics(evaluation.metrics, out_dir / "metrics.json")
    write_report(evaluation, out_dir, gate, baseline)

    _print_summary(evaluation.metrics)
    print(f"results and report in {out_dir}/ (report.html, report.md, metrics.json, results.jsonl)")
    if gate is None:
        reason = (
            "the baseline holds the extractive mode"
            if mode != "extractive"
            else (
                "the baseline covers the whole gold set; pass --baseline to gate this run anyway"
                if not whole_set
                else f"no baseline at {baseline_path}"
            )
        )
        print(f"regression gate not checked: {reason}")
        return 0
    if gate:
        print(f"regression gate FAILED ({baseline_path}):")
        for line in gate:
            print(f"  - {line}")
        return 1
    print(f"regression gate passed ({baseline_path})")
    for line in pending_floors(evaluation.flat, baseline or {}):
        print(f"  pending: {line}")
    return 0


def _evaluate_with_progress(
    console: Console,
    parts: Parts,
    items: list[GoldItem],
    mode: ModeKind,
    args: argparse.Namespace,
    judge: Judge | None,
) -> EvalRun:
    from eval.run import evaluate

    if not console.is_terminal:  # no bar in logs and pipes: it would only leave blank lines behind
        return evaluate(
            parts.assistant, items, mode=mode, k=args.k, limit=args.limit, judge=judge, comparer=parts.comparer
        )
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    total = min(len(items), args.limit or len(items))
    with Progress(
        TextColumn("[bold]evaluating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("eval", total=total)
        return evaluate(
            parts.assistant,
            items,
            comparer=parts.comparer,
            mode=mode,
            k=args.k,
            limit=args.limit,
            judge=judge,
            progress=lambda done, _: progress.update(task, completed=done),
        )


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    languages = list(summary.get("by_language", {}))
    splits = [s for s in summary.get("by_split", {}) if "." not in s]
    table = Table(
        "metric",
        "overall",
        *languages,
        *splits,
        title=f"{summary['meta']['items']} items, {summary['meta']['mode']} mode",
    )
    for name in SUMMARY:
        if name not in summary["overall"]:
            continue
        values = [
            summary["overall"].get(name),
            *(summary["by_language"][lang].get(name) for lang in languages),
            *(summary["by_split"][split].get(name) for split in splits),
        ]
        table.add_row(name, *(_cell(name, v) for v in values))
    Console(file=sys.stdout).print(table)


def _cell(name: str, value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.0f} ms" if name.startswith("latency.") else f"{value:.3f}"
