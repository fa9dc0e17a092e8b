"""The evaluation report: Markdown and a self-contained HTML page with one bar chart per metric group.

The HTML has its styles inline and draws its charts as inline SVG: it loads nothing, so it opens offline
and reaches no server.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.run import COMPARE_METRICS, EvalRun, ItemResult

# (group title, metrics, unit): a unit of "" means a share between 0 and 1.
GROUPS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Retrieval", ("retrieval.hit@1", "retrieval.hit@3", "retrieval.hit@5", "retrieval.mrr"), ""),
    ("Citations", ("citations.validity", "citations.precision", "citations.with_citation"), ""),
    ("Answers", ("answer.key_fact_recall",), ""),
    ("Language", ("language.match",), ""),
    ("Refusal", ("refusal.recall", "refusal.false_rate", "coverage.partial_rate", "coverage.partial_recall"), ""),
    ("Comparisons (items spanning documents)", COMPARE_METRICS, ""),
    ("Latency", ("latency.p50_ms", "latency.p95_ms", "latency.compare_p50_ms"), "ms"),
    ("LLM judge", ("judge.faithfulness", "judge.relevance"), ""),
)
SERIES = ("overall", "nl", "en")
COLOURS = {"overall": "#4c6a92", "nl": "#e07b39", "en": "#3f9b6b"}
KIND_METRICS = ("retrieval.hit@5", "answer.key_fact_recall", "citations.precision", "language.match")
# The figures per split: a gap of more than 0.05 between dev and test means a choice was tuned to dev.
SPLIT_METRICS = (
    "retrieval.hit@5",
    "retrieval.mrr",
    "answer.key_fact_recall",
    "refusal.recall",
    "refusal.false_rate",
    "coverage.partial_rate",
)
VERDICTS = ("answered", "partial", "not_covered")
SNIPPET = 400


def write_report(
    run: EvalRun, out_dir: Path, gate: Sequence[str] | None = None, baseline: dict[str, Any] | None = None
) -> tuple[Path, Path]:
    """Write report.md and report.html to `out_dir`; `gate` is the gate's verdict when it was checked."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path, html_path = out_dir / "report.md", out_dir / "report.html"
    md_path.write_text(markdown(run, gate, baseline), encoding="utf-8")
    html_path.write_text(html_page(run, gate, baseline), encoding="utf-8")
    return md_path, html_path


def _series(run: EvalRun) -> dict[str, dict[str, float | None]]:
    values = {"overall": run.metrics["overall"]}
    values.update(run.metrics.get("by_language", {}))
    return values


def _groups(run: EvalRun) -> list[tuple[str, tuple[str, ...], str]]:
    present = run.metrics["overall"]
    return [(title, names, unit) for title, names, unit in GROUPS if any(n in present for n in names)]


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:.0f} ms" if unit == "ms" else f"{value:.3f}"


def _limits(name: str, baseline: dict[str, Any] | None) -> str:
    if not baseline:
        return ""
    if name in baseline.get("floors", {}):
        return f"≥ {baseline['floors'][name]:.2f}"
    if name in baseline.get("ceilings", {}):
        return f"≤ {baseline['ceilings'][name]:.2f}"
    return ""


def _title(run: EvalRun) -> str:
    meta = run.metrics.get("meta", {})
    return f"Evaluation report — {meta.get('mode', '?')} mode, k = {meta.get('k', '?')}"


def _meta_line(run: EvalRun) -> str:
    meta, c = run.metrics.get("meta", {}), run.metrics["counts"]["overall"]
    line = (
        f"{c['items']} items ({c['answerable']} answerable, {c['unanswerable']} unanswerable); "
        f"run {meta.get('created', '')}."
    )
    if meta.get("judge"):
        line += f" LLM judge: {meta['judge']}."
    elif meta.get("judge_notice"):
        line += f" {meta['judge_notice']}"
    return line


def _split_rows(run: EvalRun) -> list[tuple[str, int, dict[str, float | None]]]:
    """(group, items, metrics) for each split and each split's languages, from the flat metrics."""
    flat = run.flat
    rows = []
    for split in run.metrics.get("by_split", {}):
        if "." in split:
            continue
        for group in (split, f"{split}.nl", f"{split}.en"):
            values = {name: flat.get(f"{name}.{group}") for name in SPLIT_METRICS}
            n = run.metrics["counts"].get(f"split:{group}", {}).get("items", 0)
            if n:
                rows.append((group, n, values))
    return rows


def _compare_rows(run: EvalRun) -> list[tuple[str, int, dict[str, float | None]]]:
    """(group, items compared, metrics) of the comparisons per split (and its languages) and per kind."""
    flat = run.flat
    groups = [g for s in run.metrics.get("by_split", {}) if "." not in s for g in (s, f"{s}.nl", f"{s}.en")]
    groups += [k for k in run.metrics.get("by_kind", {}) if any(f"{m}.{k}" in flat for m in COMPARE_METRICS)]
    rows = []
    for group in groups:
        split, _, lang = group.partition(".")
        n = sum(
            "compare.entries" in r.scores and (r.split == split or r.kind == split) and (not lang or r.lang == lang)
            for r in run.results
        )
        if n:
            rows.append((group, n, {name: flat.get(f"{name}.{group}") for name in COMPARE_METRICS}))
    return rows


def _confusions(run: EvalRun) -> list[tuple[str, dict[str, dict[str, int]]]]:
    """The verdict confusion tables that hold items, overall first."""
    return [(name, table) for name, table in run.metrics.get("confusion", {}).items() if _total(table)]


def _total(table: dict[str, dict[str, int]]) -> int:
    return sum(sum(row.values()) for row in table.values())


# ------------------------------------------------------------------------------------------- Markdown


def markdown(run: EvalRun, gate: Sequence[str] | None = None, baseline: dict[str, Any] | None = None) -> str:
    series = _series(run)
    names = [s for s in SERIES if s in series]
    lines = [f"# {_title(run)}", "", _meta_line(run), ""]
    lines += _gate_lines(gate)
    for title, metrics, unit in _groups(run):
        lines += [
            f"## {title}",
            "",
            "| metric | " + " | ".join(names) + " | gate |",
            "|---|" + "---:|" * len(names) + "---|",
        ]
        for name in metrics:
            if name not in series["overall"]:
                continue
            cells = " | ".join(_fmt(series[s].get(name), unit) for s in names)
            lines.append(f"| {name} | {cells} | {_limits(name, baseline)} |")
        lines += ["", "```", *_text_chart(series, names, metrics, unit), "```", ""]
    kind_rows = [
        (kind, run.metrics["counts"][kind]["items"], values) for kind, values in run.metrics.get("by_kind", {}).items()
    ]
    lines += ["## By kind", "", *_md_table(("kind", "items"), KIND_METRICS, kind_rows)]
    split_rows = _split_rows(run)
    if split_rows:
        lines += ["", "## By split (tuned on dev, never on test)", ""]
        lines += _md_table(("split", "items"), SPLIT_METRICS, split_rows)
    compare_rows = _compare_rows(run)
    if compare_rows:
        lines += ["", "## Comparisons by split and kind", ""]
        lines += _md_table(("group", "compared"), COMPARE_METRICS, compare_rows)
    confusions = _confusions(run)
    if confusions:
        lines += ["", "## Coverage verdict (rows: expected, columns: given)", ""]
        for name, table in confusions:
            lines += [f"**{name}**", "", "| expected | " + " | ".join(VERDICTS) + " |", "|---|" + "---:|" * 3]
            lines += [f"| {e} | " + " | ".join(str(table[e][g]) for g in VERDICTS) + " |" for e in VERDICTS]
            lines.append("")
    failures = [r for r in run.results if r.failures]
    lines += ["", f"## Failures ({len(failures)} of {len(run.results)} items)", ""]
    for result in failures:
        lines += _failure_markdown(result)
    return "\n".join(lines).rstrip() + "\n"


def _gate_lines(gate: Sequence[str] | None) -> list[str]:
    if gate is None:
        return []
    if not gate:
        return ["**Regression gate: passed.**", ""]
    return ["**Regression gate: failed.**", "", *(f"- {line}" for line in gate), ""]


def _text_chart(
    series: dict[str, dict[str, float | None]], names: list[str], metrics: Sequence[str], unit: str
) -> list[str]:
    width = 30
    top = _scale_max(series, names, metrics, unit)
    rows = []
    for metric in metrics:
        if metric not in series["overall"]:
            continue
        for i, s in enumerate(names):
            value = series[s].get(metric)
            bar = "█" * round(width * (value or 0) / top) if value is not None else ""
            label = metric.split(".", 1)[1] if i == 0 else ""
            rows.append(f"{label:<16} {s:<8} {bar:<{width}} {_fmt(value, unit)}")
    return rows


def _scale_max(
    series: dict[str, dict[str, float | None]], names: Sequence[str], metrics: Sequence[str], unit: str
) -> float:
    if unit != "ms":
        return 1.0
    values = [series[s].get(m) or 0.0 for s in names for m in metrics]
    return max([*values, 1.0])


def _cited_sources(result: ItemResult) -> list[dict[str, Any]]:
    cited = set(result.scores.get("citations.cited") or ())
    sources = [s for s in result.sources if s["n"] in cited]
    return sources or result.sources[:3]


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat[:SNIPPET] + ("…" if len(flat) > SNIPPET else "")


def _failure_markdown(result: ItemResult) -> list[str]:
    facts = ", ".join(result.key_facts) or "— (unanswerable)"
    lines = [
        f"### {result.id} ({result.lang}, {result.kind})",
        "",
        *(f"- {reason}" for reason in result.failures),
        "",
        f"**Question:** {result.question}",
        "",
    ]
    if result.standalone_question != result.question:
        lines += [f"**Standalone question:** {result.standalone_question}", ""]
    lines += [
        f"**Expected key facts:** {facts}",
        "",
        f"**Expected answer:** {result.expected_answer}",
        "",
        "**Answer:**",
        "",
        *(f"> {line}" for line in (result.answer or "(empty)").splitlines()),
        "",
        "**Cited sources:**" if result.scores.get("citations.cited") else "**Nearest sources:**",
        "",
    ]
    for s in _cited_sources(result):
        lines.append(f"- [{s['n']}] `{s['doc_id']}` — {s['section']}: {_snippet(s['text'])}")
    return [*lines, ""]


# ------------------------------------------------------------------------------------------- HTML

_STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 60rem;
       padding: 0 1rem; color: #1d232b; }
h1 { font-size: 1.5rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #d8dde3; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #e4e7eb; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.pass { color: #23764a; font-weight: 600; } .fail { color: #b3261e; font-weight: 600; }
details { border: 1px solid #e4e7eb; border-radius: 6px; padding: .4rem .8rem; margin: .5rem 0; }
summary { cursor: pointer; font-weight: 600; }
blockquote { margin: .4rem 0; padding: .3rem .8rem; background: #f5f7f9; border-left: 3px solid #9aa7b4; }
.source { font-size: .9rem; color: #45505c; margin: .3rem 0; }
.meta { color: #5b6672; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", sans-serif; fill: #1d232b; }
"""


def _md_table(
    labels: tuple[str, str], metrics: Sequence[str], rows: Sequence[tuple[str, int, dict[str, Any]]]
) -> list[str]:
    """The lines of a Markdown table of `rows` (name, count, values), laid out as `_html_table`'s."""
    lines = [f"| {labels[0]} | {labels[1]} | " + " | ".join(metrics) + " |", "|---|---:|" + "---:|" * len(metrics)]
    for name, n, values in rows:
        lines.append(f"| {name} | {n} | " + " | ".join(_fmt(values.get(m)) for m in metrics) + " |")
    return lines


def _html_table(
    labels: tuple[str, str], metrics: Sequence[str], rows: Sequence[tuple[str, int, dict[str, Any]]]
) -> str:
    """An HTML table of `rows` (name, count, values): the two label columns, then one column per metric."""
    e = html.escape
    head = "".join(f"<th>{e(m)}</th>" for m in metrics)
    body = "".join(
        f"<tr><td>{e(name)}</td><td>{n}</td>" + "".join(f"<td>{e(_fmt(values.get(m)))}</td>" for m in metrics) + "</tr>"
        for name, n, values in rows
    )
    return f"<table><tr><th>{e(labels[0])}</th><th>{e(labels[1])}</th>{head}</tr>{body}</table>"


def html_page(run: EvalRun, gate: Sequence[str] | None = None, baseline: dict[str, Any] | None = None) -> str:
    e = html.escape
    series = _series(run)
    names = [s for s in SERIES if s in series]
    body = [f"<h1>{e(_title(run))}</h1>", f'<p class="meta">{e(_meta_line(run))}</p>']
    if gate is not None:
        if gate:
            body.append(
                '<p class="fail">Regression gate: failed.</p><ul>'
                + "".join(f"<li>{e(line)}</li>" for line in gate)
                + "</ul>"
            )
        else:
            body.append('<p class="pass">Regression gate: passed.</p>')
    for title, metrics, unit in _groups(run):
        present = [m for m in metrics if m in series["overall"]]
        body.append(f"<h2>{e(title)}</h2>")
        body.append(_svg_chart(series, names, present, unit, baseline))
        rows = "".join(
            f"<tr><td>{e(m)}</td>"
            + "".join(f"<td>{e(_fmt(series[s].get(m), unit))}</td>" for s in names)
            + f"<td>{e(_limits(m, baseline))}</td></tr>"
            for m in present
        )
        head = "".join(f"<th>{e(s)}</th>" for s in names)
        body.append(f"<table><tr><th>metric</th>{head}<th>gate</th></tr>{rows}</table>")
    body.append("<h2>By kind</h2>")
    kinds = [
        (kind, run.metrics["counts"][kind]["items"], values) for kind, values in run.metrics.get("by_kind", {}).items()
    ]
    body.append(_html_table(("kind", "items"), KIND_METRICS, kinds))
    split_rows = _split_rows(run)
    if split_rows:
        body.append("<h2>By split (tuned on dev, never on test)</h2>")
        body.append(_html_table(("split", "items"), SPLIT_METRICS, split_rows))
    compare_rows = _compare_rows(run)
    if compare_rows:
        body.append("<h2>Comparisons by split and kind</h2>")
        body.append(_html_table(("group", "compared"), COMPARE_METRICS, compare_rows))
    confusions = _confusions(run)
    if confusions:
        body.append("<h2>Coverage verdict (rows: expected, columns: given)</h2>")
        head = "".join(f"<th>{g}</th>" for g in VERDICTS)
        for name, table in confusions:
            rows = "".join(
                f"<tr><td>{ex}</td>" + "".join(f"<td>{table[ex][g]}</td>" for g in VERDICTS) + "</tr>"
                for ex in VERDICTS
            )
            body.append(f"<h3>{e(name)}</h3><table><tr><th>expected</th>{head}</tr>{rows}</table>")
    failures = [r for r in run.results if r.failures]
    body.append(f"<h2>Failures ({len(failures)} of {len(run.results)} items)</h2>")
    body += [_failure_html(r) for r in failures]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(_title(run))}</title><style>{_STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _svg_chart(
    series: dict[str, dict[str, float | None]],
    names: Sequence[str],
    metrics: Sequence[str],
    unit: str,
    baseline: dict[str, Any] | None,
) -> str:
    """Horizontal grouped bars, one group per metric and one bar per series, with floors and ceilings."""
    label_w, bar_w, value_w, bar_h, gap = 170, 380, 80, 14, 12
    top = _scale_max(series, names, metrics, unit)
    legend_h = 24
    height = legend_h + len(metrics) * (len(names) * bar_h + gap) + 4
    width = label_w + bar_w + value_w
    parts = [f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">']
    for i, s in enumerate(names):
        x = label_w + i * 90
        parts.append(
            f'<rect x="{x}" y="4" width="12" height="12" fill="{COLOURS[s]}"/>'
            f'<text x="{x + 16}" y="14">{html.escape(s)}</text>'
        )
    y = legend_h
    for metric in metrics:
        group_top = y
        parts.append(f'<text x="0" y="{y + bar_h * len(names) / 2 + 4:.0f}">{html.escape(metric)}</text>')
        for s in names:
            value = series[s].get(metric)
            length = bar_w * (value or 0.0) / top
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{length:.1f}" height="{bar_h - 2}" '
                f'fill="{COLOURS[s]}"><title>{html.escape(f"{metric} {s}: {_fmt(value, unit)}")}</title>'
                "</rect>"
            )
            parts.append(f'<text x="{label_w + length + 4:.1f}" y="{y + bar_h - 3}">{_fmt(value, unit)}</text>')
            y += bar_h
        limit = None
        if baseline:
            limit = baseline.get("floors", {}).get(metric, baseline.get("ceilings", {}).get(metric))
        if limit is not None and unit != "ms":
            x = label_w + bar_w * limit / top
            parts.append(
                f'<line x1="{x:.1f}" y1="{group_top - 2}" x2="{x:.1f}" y2="{y}" stroke="#b3261e" '
                f'stroke-dasharray="3,2"><title>gate {limit:.2f}</title></line>'
            )
        y += gap
    parts.append("</svg>")
    return "".join(parts)


def _failure_html(result: ItemResult) -> str:
    e = html.escape
    facts = ", ".join(result.key_facts) or "— (unanswerable)"
    reasons = "; ".join(result.failures)
    parts = [
        f"<details><summary>{e(result.id)} ({e(result.lang)}, {e(result.kind)}) — {e(reasons)}</summary>",
        f"<p><b>Question:</b> {e(result.question)}</p>",
    ]
    if result.standalone_question != result.question:
        parts.append(f"<p><b>Standalone question:</b> {e(result.standalone_question)}</p>")
    parts += [
        f"<p><b>Expected key facts:</b> {e(facts)}</p>",
        f"<p><b>Expected answer:</b> {e(result.expected_answer)}</p>",
        f"<p><b>Answer:</b></p><blockquote>{e(result.answer or '(empty)')}</blockquote>",
        "<p><b>" + ("Cited sources" if result.scores.get("citations.cited") else "Nearest sources") + ":</b></p>",
    ]
    for s in _cited_sources(result):
        parts.append(
            f'<p class="source">[{s["n"]}] <code>{e(s["doc_id"])}</code> — {e(s["section"])}: '
            f"{e(_snippet(s['text']))}</p>"
        )
    parts.append("</details>")
    return "".join(parts)
