"""The web UI's comparisons: the "Vergelijken over tijd" / "Compare over time" view and the entries a
comparative chat question gets inline. Pure rendering and `CompareView`'s callbacks, without Gradio (the tab
itself is laid out in `layout.py`).

Text from documents and topics is escaped (`html.escape`, `render.plain`); only the markup written here
(links, marks, the table) is HTML. Every cited sentence and `[n]` links to its source (`#src-cmp-<n>` in the
view's sources panel, `#src-<turn>-<n>` in the chat's): `static/cite.js` opens and marks it.
"""

from __future__ import annotations

import csv
import html
import io
import re
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from assistant.cite import MARKER
from assistant.compare import Comparison, Entry, quote_sentences, year_label
from assistant.types import Language, Source
from errors import InputError, PolicyAssistantError
from ui.i18n import t
from ui.web.render import plain

if TYPE_CHECKING:
    from assistant.build import Parts

VIEW = "cmp"  # the anchor prefix of the view's sources: `src-cmp-<n>`
KEEP_SECONDS = 3600  # an export stays this long for its download
ExportKind = Literal["md", "csv"]


def _lang(ui: str) -> Language:
    return "en" if ui == "en" else "nl"


# ------------------------------------------------------------------------------------------- rendering


def _link(prefix: str, n: int, label: str, css: str = "pa-cite") -> str:
    return f'<a href="#src-{prefix}-{n}" class="{css}" title="{t("sources")} {n}">{label}</a>'


def _linked_markers(escaped: str, prefix: str, known: set[int]) -> str:
    """Escaped text whose `[n]` markers (of known sources) become links to the sources panel."""

    def link(match: re.Match[str]) -> str:
        numbers = [int(x) for x in re.split(r"\s*[,;]\s*", match.group(1))]
        return "".join(_link(prefix, n, f"[{n}]") if n in known else f"[{n}]" for n in numbers)

    return MARKER.sub(link, escaped)


def _said_html(entry: Entry, language: Language, prefix: str) -> str:
    """An entry's cited sentences, each highlighted and a link to its source, with its `[n]`."""
    pieces = []
    for c in entry.sentences:
        text = html.escape(c.text if language == "nl" else f"“{c.text}”")
        sentence = _link(prefix, c.source, f"<mark>{text}</mark>", "pa-cite pa-cmp-said")
        pieces.append(f"{sentence} {_link(prefix, c.source, f'[{c.source}]')}")
    return " ".join(pieces)


def table_html(comparison: Comparison | None, ui: str = "nl", prefix: str = VIEW) -> str:
    """The comparison as a table of the documents by year: the cited sentences highlighted and linked to their
    sources, "not addressed" rows marked as such, then what changed."""
    if comparison is None:
        return f'<div class="pa-cmp pa-empty">{t("compare.empty", ui)}</div>'
    lang = comparison.language
    known = {s.n for s in comparison.sources}
    rows = []
    for e in comparison.entries:
        if e.addressed:
            said = _said_html(e, lang, prefix)
        else:
            nearest = "".join(_link(prefix, n, f"{t('compare.nearest', ui)} [{n}]") for n in e.sources[:1])
            said = f"<em>{t('compare.not_addressed', ui)}</em>" + (f" ({nearest})" if nearest else "")
        css = "pa-cmp-entry" if e.addressed else "pa-cmp-entry pa-cmp-none"
        rows.append(
            f'<tr class="{css}" data-year="{html.escape(str(e.year or ""))}" data-doc="{html.escape(e.doc_id)}">'
            f'<td class="pa-cmp-year">{html.escape(year_label(e.year, lang))}</td>'
            f'<td class="pa-cmp-doc">{html.escape(e.title)}</td><td class="pa-cmp-says">{said}</td></tr>'
        )
    head = "".join(f"<th>{t(k, ui)}</th>" for k in ("compare.year", "compare.document", "compare.says"))
    changed = _linked_markers(html.escape(comparison.changed), prefix, known)
    notes = [f"⚠️ {t('compare.unverified', ui)}"] if comparison.unverified else []
    notes += [f"⚠️ {t('web.check', ui)}: {html.escape(s)}" for s in comparison.flagged]
    notes += [f"ℹ️ {html.escape(n)}" for n in comparison.notices]
    quoted = t("compare.quoted", lang)
    return (
        '<div class="pa-cmp">'
        f'<p class="pa-cmp-topic"><strong>{html.escape(comparison.topic)}</strong> — {t("compare.inline", ui)}'
        f"{f' <em>{quoted}</em>' if quoted else ''}</p>"
        f'<table class="pa-cmp-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        f'<p class="pa-cmp-changed"><strong>{t("compare.changed", ui)}:</strong> {changed}</p>'
        + "".join(f'<p class="pa-cmp-note">{n}</p>' for n in notes)
        + f'<p class="pa-cmp-meta"><sub>{html.escape(str(comparison.mode))} · {comparison.latency_ms:.0f} ms</sub></p>'
        "</div>"
    )


def sources_html(comparison: Comparison | None, ui: str = "nl", prefix: str = VIEW) -> str:
    """The comparison's sources, grouped by entry (folded; a link opens its group), the cited sentences marked."""
    if comparison is None:
        return f'<div class="pa-sources pa-empty">{t("compare.sources_empty", ui)}</div>'
    lang = comparison.language
    groups = []
    for i, e in enumerate(comparison.entries):
        items = []
        for n in e.sources:
            source = comparison.source(n)
            if source is not None:
                said = [c.text for c in e.sentences if c.source == n]
                items.append(_source_html(source, said, lang, prefix))
        summary = html.escape(f"{year_label(e.year, lang)} · {e.short_title}")
        groups.append(
            f'<details class="pa-turn pa-cmp-group" id="{prefix}-entry-{i}"><summary>{summary}</summary>'
            f"{''.join(items)}</details>"
        )
    return f'<div class="pa-sources pa-cmp-sources">{"".join(groups)}</div>'


def _source_html(s: Source, said: Sequence[str], language: Language, prefix: str) -> str:
    year = f" ({s.year})" if s.year else ""
    page = f", p. {s.page}" if s.page else ""
    path = " › ".join(p.strip() for p in (s.section_path or s.section).split(" > "))
    label = html.escape(s.label(language)) if s.footnote is not None else html.escape(path)
    return (
        f'<div class="pa-source" id="src-{prefix}-{s.n}" data-n="{s.n}">'
        f'<div class="pa-head"><span class="pa-n">[{s.n}]</span> <strong>{html.escape(s.doc_title)}</strong>'
        f"{year}{page}</div>"
        f'<div class="pa-section">{label}</div>'
        f'<blockquote class="pa-passage">{marked(s.text, said)}</blockquote></div>'
    )


def marked(text: str, sentences: Sequence[str]) -> str:
    """`text` as HTML with each of `sentences` wrapped in <mark> (whitespace may differ)."""
    spans = []
    for sentence in sentences:
        words = sentence.split()
        match = re.search(r"\s+".join(map(re.escape, words)), text) if words else None
        if match:
            spans.append((match.start(), match.end()))
    out, at = [], 0
    for start, end in sorted(spans):
        if start < at:
            continue
        out += [html.escape(text[at:start]), f"<mark>{html.escape(text[start:end])}</mark>"]
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out).replace("\n\n", "<br><br>").replace("\n", " ")


def inline_markdown(comparison: Comparison, turn_no: int, ui: str = "nl") -> str:
    """The entries of a comparative chat question, to follow its answer: one line per document in year order,
    its cited sentences with `[n]` linked to the chat's sources panel (turn `turn_no`)."""
    lang = comparison.language
    prefix = str(turn_no)
    lines = [f"**{t('compare.inline', ui)}**", ""]
    for e in comparison.entries:
        head = f"**{plain(year_label(e.year, lang))}** · {plain(e.short_title)}"
        if e.addressed:
            said = " ".join(
                f"{plain(c.text if lang == 'nl' else f'“{c.text}”')} {_link(prefix, c.source, f'[{c.source}]')}"
                for c in e.sentences
            )
        else:
            said = f"_{t('compare.not_addressed', ui)}_"
        lines.append(f"- {head}: {said}")
    return "\n".join(lines)


def markdown(comparison: Comparison, ui: str = "nl") -> str:
    """The comparison as a Markdown file: a table of the entries, what changed, the sources."""
    lang = comparison.language

    def cell(text: str) -> str:
        return " ".join(text.split()).replace("|", "\\|")

    lines = [f"# {cell(comparison.topic)}", "", f"_{time.strftime('%Y-%m-%d %H:%M')} · {comparison.mode}_", ""]
    if t("compare.quoted", lang):
        lines += [f"_{t('compare.quoted', lang)}_", ""]
    lines += [f"| {t('compare.year', ui)} | {t('compare.document', ui)} | {t('compare.says', ui)} |"]
    lines.append("| --- | --- | --- |")
    for e in comparison.entries:
        said = quote_sentences(e.sentences, lang) if e.addressed else f"_{t('compare.not_addressed', ui)}_"
        lines.append(f"| {year_label(e.year, lang)} | {cell(e.title)} | {cell(said)} |")
    lines += ["", f"**{t('compare.changed', ui)}:** {comparison.changed}", "", f"## {t('sources', ui)}", ""]
    for s in comparison.sources:
        year = f" ({s.year})" if s.year else ""
        lines += [f"[{s.n}] **{s.doc_title}**{year} — {s.label(lang)}", ""]
        lines += [f"> {line}" if line else ">" for line in s.text.splitlines()]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


CSV_COLUMNS = ("year", "doc_id", "title", "addressed", "sentences", "sources", "source_sections")


def csv_text(comparison: Comparison) -> str:
    """The entries as CSV, one row per document in year order (sentences joined by a blank line, each with
    its `[n]`; the sources as numbers and as `[n] section` labels)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in comparison.entries:
        labels = [f"[{n}] {s.label(comparison.language)}" for n in e.sources if (s := comparison.source(n))]
        writer.writerow(
            [
                e.year if e.year is not None else "",
                e.doc_id,
                e.title,
                "yes" if e.addressed else "no",
                "\n\n".join(f"{c.text} [{c.source}]" for c in e.sentences),
                " ".join(str(n) for n in e.sources),
                "\n".join(labels),
            ]
        )
    return out.getvalue()


# ------------------------------------------------------------------------------------------- the view


def parse_year(value: object, ui: str = "nl") -> int | None:
    """A year box's value (a number, text or empty) as a year; `InputError` naming anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        raise InputError(t("compare.year_invalid", ui, value=value)) from None
    if number != int(number):
        raise InputError(t("compare.year_invalid", ui, value=value))
    return int(number)


class CompareView:
    """The compare view's callbacks over one `Parts`."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self._exports = tempfile.TemporaryDirectory(prefix="policy-assistant-compare-")

    def run(
        self, topic: str, doc_ids: Sequence[str] | None, year_from: object, year_to: object, ui: str = "nl"
    ) -> tuple[str, str, Comparison | None, str]:
        """(table, sources panel, the comparison, status Markdown) for `topic` within the documents and years
        chosen. Errors become the status text; the app keeps running."""
        if not str(topic or "").strip():
            return table_html(None, ui), sources_html(None, ui), None, ""
        try:
            comparison = self.parts.comparer.compare(
                str(topic),
                doc_ids=list(doc_ids) if doc_ids else None,
                year_from=parse_year(year_from, ui),
                year_to=parse_year(year_to, ui),
            )
        except PolicyAssistantError as err:
            return table_html(None, ui), sources_html(None, ui), None, f"⚠️ {plain(str(err))}"
        except Exception as err:  # noqa: BLE001 - a bug or a library failure must not take the app down
            error = t("web.error_internal", ui, error=f"{type(err).__name__}: {err}")
            return table_html(None, ui), sources_html(None, ui), None, f"⚠️ {plain(error)}"
        return table_html(comparison, ui), sources_html(comparison, ui), comparison, ""

    def relabel(self, comparison: Comparison | None, ui: str) -> tuple[str, str]:
        """The table and sources panel again, in interface language `ui`."""
        return table_html(comparison, ui), sources_html(comparison, ui)

    def export_file(self, comparison: Comparison | None, kind: ExportKind, ui: str = "nl") -> Path | None:
        """The comparison as a Markdown or CSV file to download; None when there is none yet."""
        if comparison is None:
            return None
        folder = Path(self._exports.name)
        cutoff = time.time() - KEEP_SECONDS
        for old in folder.iterdir():
            try:
                if old.stat().st_mtime < cutoff:
                    old.unlink()
            except OSError:  # another request removed it first
                pass
        path = folder / f"{t('compare.file', ui)}-{uuid.uuid4().hex[:8]}.{kind}"
        text = markdown(comparison, ui) if kind == "md" else csv_text(comparison)
        path.write_text(text, encoding="utf-8-sig" if kind == "csv" else "utf-8")  # BOM: spreadsheets read UTF-8
        return path
