"""The regression gate: the extractive assistant on the whole gold set against eval/baseline.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.settings import Settings
from errors import InputError
from eval.gold import load_gold
from eval.report import write_report
from eval.run import (
    DEFAULT_BASELINE,
    check_gate,
    evaluate,
    load_baseline,
    pending_floors,
    write_baseline,
    write_metrics,
)

BASELINE = {
    "tolerance": 0.03,
    "floors": {"retrieval.hit@5.nl": 0.90, "citations.validity": 1.0},
    "ceilings": {"refusal.false_rate": 0.10},
    "metrics": {"retrieval.hit@5.nl": 0.95, "answer.key_fact_recall": 0.80, "refusal.false_rate.en": 0.05},
}
PASSING = {
    "retrieval.hit@5.nl": 0.94,
    "citations.validity": 1.0,
    "refusal.false_rate": 0.08,
    "answer.key_fact_recall": 0.78,
    "refusal.false_rate.en": 0.07,
}


def test_a_run_within_floors_ceilings_and_tolerance_passes() -> None:
    assert check_gate(PASSING, BASELINE) == []


def test_a_metric_below_its_floor_is_named_with_value_and_floor() -> None:
    problems = check_gate({**PASSING, "citations.validity": 0.98}, BASELINE)
    assert problems == ["citations.validity = 0.980 is below its floor 1.00"]


def test_a_metric_above_its_ceiling_fails() -> None:
    problems = check_gate({**PASSING, "refusal.false_rate": 0.12}, BASELINE)
    assert problems == ["refusal.false_rate = 0.120 is above its ceiling 0.10"]


def test_a_drop_beyond_the_tolerance_below_the_baseline_fails() -> None:
    problems = check_gate({**PASSING, "answer.key_fact_recall": 0.76}, BASELINE)
    assert problems == ["answer.key_fact_recall = 0.760 dropped more than 0.03 below the baseline 0.800"]


def test_a_lower_is_better_metric_fails_when_it_rises_beyond_the_tolerance() -> None:
    problems = check_gate({**PASSING, "refusal.false_rate.en": 0.09}, BASELINE)
    assert problems == ["refusal.false_rate.en = 0.090 rose more than 0.03 above the baseline 0.050"]


def test_every_violation_gets_its_own_line() -> None:
    problems = check_gate({"retrieval.hit@5.nl": 0.80, "refusal.false_rate": 0.5}, BASELINE)
    assert len(problems) == 4
    assert any(p.startswith("citations.validity was not measured") for p in problems)
    assert any(p == "retrieval.hit@5.nl = 0.800 is below its floor 0.90" for p in problems)
    assert any("retrieval.hit@5.nl = 0.800 dropped more than" in p for p in problems)


def test_a_pending_floor_is_reported_not_enforced_but_still_held_to_the_baseline() -> None:
    baseline = {
        **BASELINE,
        "floors": {**BASELINE["floors"], "refusal.recall": 0.75},
        "pending": {"refusal.recall": "not reached yet"},
        "metrics": {**BASELINE["metrics"], "refusal.recall": 0.4},
    }
    assert check_gate({**PASSING, "refusal.recall": 0.42}, baseline) == []
    assert pending_floors({"refusal.recall": 0.42}, baseline) == [
        "refusal.recall = 0.420, floor 0.75 not yet reached: not reached yet"
    ]
    assert check_gate({**PASSING, "refusal.recall": 0.30}, baseline) == [
        "refusal.recall = 0.300 dropped more than 0.03 below the baseline 0.400"
    ]


def test_an_improvement_passes() -> None:
    assert check_gate({**PASSING, "answer.key_fact_recall": 0.95, "refusal.false_rate.en": 0.0}, BASELINE) == []


def test_updating_the_baseline_keeps_floors_ceilings_and_tolerance(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({**BASELINE, "tolerance": 0.05}), encoding="utf-8")
    summary = {
        "overall": {"retrieval.hit@5": 0.9, "latency.p50_ms": 300.0, "refusal.recall": None},
        "by_language": {"nl": {"retrieval.hit@5": 0.92}, "en": {"retrieval.hit@5": 0.88}},
        "by_kind": {"factoid": {"retrieval.hit@5": 1.0}},
    }
    write_baseline(summary, path, "extractive")
    data = load_baseline(path)
    assert data["floors"] == BASELINE["floors"] and data["ceilings"] == BASELINE["ceilings"]
    assert data["tolerance"] == 0.05
    # timings vary between runs and per-kind groups are small: neither is held to the baseline
    assert data["metrics"] == {"retrieval.hit@5": 0.9, "retrieval.hit@5.en": 0.88, "retrieval.hit@5.nl": 0.92}


def test_a_broken_baseline_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        load_baseline(path)


def test_the_committed_baseline_keeps_the_issues_floors() -> None:
    baseline = load_baseline(DEFAULT_BASELINE)
    floors, ceilings = baseline["floors"], baseline["ceilings"]
    assert floors["retrieval.hit@5.nl"] >= 0.90 and floors["retrieval.hit@5.en"] >= 0.90
    assert floors["citations.validity"] == 1.0
    assert floors["answer.key_fact_recall.nl"] >= 0.70
    assert floors["refusal.recall"] >= 0.75
    assert ceilings["refusal.false_rate"] <= 0.10
    assert baseline["metrics"], "record the metrics with `policy-assistant eval --update-baseline`"


def test_extractive_mode_on_the_whole_gold_set_passes_the_gate(corpus_settings: Settings, tmp_path: Path) -> None:
    from assistant.build import build_assistant

    assistant = build_assistant(corpus_settings).assistant
    run = evaluate(assistant, load_gold(corpus_dir=corpus_settings.corpus_dir), mode="extractive")
    baseline = load_baseline(DEFAULT_BASELINE)
    problems = check_gate(run.flat, baseline)
    write_metrics(run.metrics, tmp_path / "metrics.json")
    md, _ = write_report(run, tmp_path, problems, baseline)
    assert problems == [], f"the regression gate failed (report: {md}):\n" + "\n".join(problems)
    # A pending floor is only tolerated while it is truly unmet: once reached, move it back into force.
    for name in baseline.get("pending", {}):
        assert run.flat[name] is not None and run.flat[name] < baseline["floors"][name], (
            f"{name} now reaches its floor: remove it from `pending` in eval/baseline.json"
        )
