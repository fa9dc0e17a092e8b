"""The web chat as its user sees it: answers as chat Markdown with linked `[n]` markers, and the sources panel
as HTML (passages with the supporting sentence marked, the whole section folded). Pure functions: no Gradio.

Text from documents, questions and answers is shown as text: every Markdown and HTML character in it is
escaped (`plain`), so a document's `![x](http://host/p.png)` or link never becomes live in a reader's browser;
only the markup this module writes itself (the `[n]` links, the marks) is Markdown."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence

from assistant.types import Answer, Source
from ui.i18n import t
from ui.web.state import Exchange

CITATION = re.compile(r"\[(\d{1,3})\]")

ChatMessage = dict[str, str]  # Gradio's chat message: {"role": "user" | "assistant", "content": Markdown}
SectionTexts = Mapping[tuple[str, str], str]  # whole section text by (doc_id, section_path)
# Every ASCII punctuation character can be backslash-escaped in (CommonMark) Markdown; `<`, `>`, `&` and `"`
# become entities instead, so neither Markdown nor HTML survives. Escaping `:` and `.` also keeps bare
# `http://` and `www.` text from being turned into links.
_PLAIN = {c: "\\" + c for c in "!#$%'()*+,-./:;=?@[\\]^_`{|}~"} | {
    "<": "&lt;",
    ">": "&gt;",
    "&": "&amp;",
    '"': "&quot;",
}
_PLAIN_TABLE = str.maketrans(_PLAIN)


def plain(text: str) -> str:
    """`text` as Markdown that shows exactly `text`: no links, images, emphasis or HTML of its own."""
    return text.translate(_PLAIN_TABLE)


def messages(exchanges: Sequence[Exchange], ui: str = "nl") -> list[ChatMessage]:
    """The chat as Gradio messages; `[n]` markers become links to the sources panel."""
    out: list[ChatMessage] = []
    for i, exchange in enumerate(exchanges, start=1):
        out.append({"role": "user", "content": plain(exchange.question)})
        if exchange.error:
            content = f"⚠️ **{t('web.error', ui)}:** {plain(exchange.error)}"
        elif exchange.answer:
            content = answer_markdown(exchange.answer, i, ui)
        else:
            content = plain(exchange.partial) or "…"
        out.append({"role": "assistant", "content": content})
    return out


def sources_html(exchanges: Sequence[Exchange], sections: SectionTexts, ui: str = "nl") -> str:
    """The sources of every answer, newest first (older answers folded)."""
    turns = []
    answered = [(i, e.question, e.answer) for i, e in enumerate(exchanges, start=1) if e.answer]
    for i, question, answer in reversed(answered):
        items = "".join(_source_html(i, s, sections, ui) for s in shown_sources(answer))
        is_open = " open" if i == answered[-1][0] else ""
        summary = html.escape(_shorten(question, 90))
        turns.append(
            f'<details class="pa-turn" id="turn-{i}"{is_open}><summary>{t("web.turn", ui, n=i)}: {summary}</summary>'
            f"{items}</details>"
        )
    if not turns:
        return f'<div class="pa-sources pa-empty">{t("web.no_sources", ui)}</div>'
    return f'<div class="pa-sources">{"".join(turns)}</div>'


def shown_sources(answer: Answer) -> list[Source]:
    """The sources the answer cites; all of them when it cites none (a refusal lists the nearest passages)."""
    cited = {int(n) for n in CITATION.findall(answer.text)}
    shown = [s for s in answer.sources if s.n in cited]
    return sorted(shown or answer.sources, key=lambda s: s.n)


_BADGES = {"answered": "✅", "partial": "◐", "not_covered": "🚫"}


def coverage_badge(answer: Answer, ui: str = "nl") -> str:
    """The verdict as a badge: covered, partly covered or not covered by the documents."""
    label = html.escape(t(f"coverage.{answer.coverage}", ui))
    return f'<span class="pa-coverage pa-coverage-{answer.coverage}">{_BADGES[answer.coverage]} {label}</span>'


def marks(answer: Answer, ui: str = "nl") -> list[str]:
    """What the user should know about an answer beyond its text: the coverage verdict (a badge, and what the
    documents lack), refused, unverified, flagged, notices."""
    out = [coverage_badge(answer, ui)]
    if answer.missing:
        out.append(f"**{plain(t('coverage.missing', ui, missing='; '.join(answer.missing)))}**")
    if answer.refused:
        out.append(f"🚫 **{t('web.refused', ui)}**")
    if answer.unverified:
        out.append(f"⚠️ **{t('web.unverified', ui)}**")
    out += [f"⚠️ {t('web.check', ui)}: {plain(sentence)}" for sentence in answer.flagged]
    out += [f"ℹ️ {plain(notice)}" for notice in answer.notices]
    return out


def answer_markdown(answer: Answer, turn_no: int, ui: str = "nl") -> str:
    """One answer as chat Markdown: its text with `[n]` linked to source n of turn `turn_no`, marks, mode."""
    numbers = {s.n for s in answer.sources}

    def link(n: int, digits: str) -> str:
        if n not in numbers:
            return plain(f"[{digits}]")
        return f'<a href="#src-{turn_no}-{n}" class="pa-cite" title="{t("sources", ui)} {n}">[{n}]</a>'

    # The text between the `[n]` markers is escaped; the markers themselves become this module's links.
    pieces = CITATION.split(answer.text)  # text, n, text, n, ..., text
    text = "".join(plain(piece) if i % 2 == 0 else link(int(piece), piece) for i, piece in enumerate(pieces))
    notes = marks(answer, ui)
    if notes:
        text += "\n\n" + "\n".join(f"> {m}  " for m in notes)
    return text + f"\n\n<sub>{plain(str(answer.mode))}</sub>"


def _source_html(turn_no: int, s: Source, sections: SectionTexts, ui: str) -> str:
    year = f" ({s.year})" if s.year else ""
    page = f", p. {s.page}" if s.page else ""
    path = " › ".join(p.strip() for p in (s.section_path or s.section).split(" > "))
    whole = sections.get((s.doc_id, s.section_path), "") if s.section_path else ""
    whole_html = (
        f'<details class="pa-whole"><summary>{t("web.whole_section", ui)}</summary>'
        f'<div class="pa-section-text">{_paragraphs(html.escape(whole))}</div></details>'
        if whole
        else ""
    )
    return (
        f'<div class="pa-source" id="src-{turn_no}-{s.n}" data-n="{s.n}">'
        f'<div class="pa-head"><span class="pa-n">[{s.n}]</span> <strong>{html.escape(s.doc_title)}'
        f"</strong>{year}{page}</div>"
        f'<div class="pa-section">{html.escape(path)}</div>'
        f'<blockquote class="pa-passage">{_highlighted(s.text, s.highlight)}</blockquote>'
        f"{whole_html}</div>"
    )


def _highlighted(text: str, highlight: str) -> str:
    """`text` as HTML with the supporting sentence wrapped in <mark> (whitespace may differ)."""
    words = highlight.split()
    match = re.search(r"\s+".join(map(re.escape, words)), text) if words else None
    if match is None:
        return _paragraphs(html.escape(text))
    before, found, after = text[: match.start()], match.group(0), text[match.end() :]
    return _paragraphs(f"{html.escape(before)}<mark>{html.escape(found)}</mark>{html.escape(after)}")


def _paragraphs(escaped: str) -> str:
    return escaped.replace("\n\n", "<br><br>").replace("\n", " ")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
