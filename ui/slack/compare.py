"""Comparisons in Slack: "vergelijk terugkeer" / "compare return" gets one compact block per document in year
order, with its sources; an answer to a question that compares documents or years gets the same entries
under its text.

Plain functions over the parts' comparer and Block Kit dicts; the words come from `ui.i18n`, and document
text goes through `plain` (Slack shows it as written, never as markup), as in `blocks.py`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from assistant.compare import CHANGED, NOT_ADDRESSED, Comparison, Entry, attach, year_label
from assistant.types import Answer, Language
from errors import PolicyAssistantError
from ui.i18n import t
from ui.slack.blocks import (
    ANSWER_BLOCK_PREFIX,
    MAX_BLOCKS,
    MAX_FALLBACK_CHARS,
    MAX_SECTION_CHARS,
    answer_blocks,
    plain,
    shorten,
    to_mrkdwn,
)

if TYPE_CHECKING:
    from assistant.build import Parts

log = logging.getLogger("policy_assistant.slack")

Block = dict[str, Any]
COMPARE_BLOCK_PREFIX = "pa-compare"
# "vergelijk terugkeer", "Vergelijk: terugkeer", "compare return", "vergelijken over tijd: hervestiging".
_REQUEST = re.compile(r"^\s*(?:vergelijk(?:en)?|compare)(?:\s+over\s+(?:tijd|time))?\b\s*:?\s*(.*)$", re.I | re.S)
MAX_SENTENCE_CHARS = 600
MARKERS = re.compile(r"\[(\d{1,3})\]")


def compare_topic(text: str) -> str | None:
    """The topic of a "vergelijk …" / "compare …" message ("" when it names none); None for any other message."""
    match = _REQUEST.match(text or "")
    return " ".join(match.group(1).split()) if match else None


def _section(text: str, block_id: str) -> Block:
    return {"type": "section", "block_id": block_id, "text": {"type": "mrkdwn", "text": text[:MAX_SECTION_CHARS]}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:2000]}]}


def entry_text(entry: Entry, language: Language) -> str:
    """One entry as mrkdwn: `*2011* · title`, then its cited sentences quoted with their `[n]`."""
    head = f"*{year_label(entry.year, language)}* · {plain(shorten(entry.title, 200))}"
    if not entry.addressed:
        return f"{head}\n_{NOT_ADDRESSED[language]}_"
    said = " ".join(f"{plain(shorten(c.text, MAX_SENTENCE_CHARS))} [{c.source}]" for c in entry.sentences)
    return shorten(f"{head}\n> {said}", MAX_SECTION_CHARS)


def entry_blocks(comparison: Comparison, *, with_sources: bool = True) -> list[Block]:
    """One section per entry, in year order, each with the sources it cites (or looked at) under it."""
    lang = comparison.language
    out: list[Block] = []
    for i, entry in enumerate(comparison.entries):
        out.append(_section(entry_text(entry, lang), f"{COMPARE_BLOCK_PREFIX}-{i}"))
        if with_sources:
            lines = []
            for n in entry.sources[:3]:
                source = comparison.source(n)
                if source is not None:
                    page = f", p. {source.page}" if source.page else ""
                    lines.append(f"[{n}] {plain(shorten(source.label(lang), 150))}{page}")
            if lines:
                out.append(_context(" · ".join(lines)))
    return out


def _notes(comparison: Comparison) -> list[str]:
    lang = comparison.language
    notes = [f"⚠️ {t('compare.unverified', lang)}"] if comparison.unverified else []
    notes += [f"{t('slack.flagged', lang)} {plain(shorten(s, 400))}" for s in comparison.flagged]
    notes += [f"ℹ️ {plain(shorten(n, 400))}" for n in comparison.notices]
    return notes


def comparison_blocks(comparison: Comparison) -> tuple[list[Block], str]:
    """(blocks, fallback text) of a comparison: heading, one block per year with its sources, what changed."""
    lang = comparison.language
    heading = t("slack.compare_heading", lang, topic=plain(shorten(comparison.topic, 200)))
    head: list[Block] = [_section(heading, "pa-compare-head")]
    if t("compare.quoted", lang):
        head.append(_context(t("compare.quoted", lang)))
    tail: list[Block] = [_section(f"*{CHANGED[lang]}:* {to_mrkdwn(comparison.changed)}", "pa-compare-changed")]
    notes = _notes(comparison)
    if notes:
        tail.append(_section("\n".join(notes), "pa-compare-notes"))
    meta = f"{t('slack.mode', lang)}: `{plain(str(comparison.mode))}` · {comparison.latency_ms / 1000:.1f} s"
    tail.append(_context(meta))
    entries = entry_blocks(comparison)[: MAX_BLOCKS - len(head) - len(tail)]
    return head + entries + tail, shorten(to_mrkdwn(comparison.text), MAX_FALLBACK_CHARS)


def compare_reply(parts: Parts, topic: str, language: Language) -> tuple[list[Block], str]:
    """The reply to "vergelijk <topic>": the comparison's blocks, or a hint when no topic was given."""
    if not topic:
        text = t("slack.compare_empty", language)
        return [_section(text, "pa-compare-hint")], text
    return comparison_blocks(parts.comparer.compare(topic, language=language))


def answer_reply(parts: Parts, answer: Answer, feedback_value: str) -> tuple[list[Block], str]:
    """An answer's blocks (`answer_blocks`); for a question that compares documents or years, the entries
    follow its text and their sources join the answer's."""
    try:
        comparison = parts.comparer.for_answer(answer)
    except PolicyAssistantError as err:  # the answer itself stands; the entries are extra
        log.warning("no comparison for the answer: %s", err)
        comparison = None
    if comparison is None:
        return answer_blocks(answer, feedback_value)
    # The sources the answer's text or an entry cites (Slack lists ten at most): the answer's own first.
    cited = set(MARKERS.findall(answer.text)) | {str(c.source) for e in comparison.entries for c in e.sentences}
    shown = attach(answer, comparison)
    shown = replace(shown, sources=tuple(s for s in shown.sources if str(s.n) in cited) or answer.sources)
    blocks, text = answer_blocks(shown, feedback_value)
    ids = [str(b.get("block_id", "")) for b in blocks]
    after = max((i for i, block_id in enumerate(ids) if block_id.startswith(ANSWER_BLOCK_PREFIX)), default=-1)
    lang = comparison.language
    extra = [_context(f"*{t('compare.inline', lang)}*"), *entry_blocks(comparison, with_sources=False)]
    extra = extra[: max(0, MAX_BLOCKS - len(blocks))]
    return blocks[: after + 1] + extra + blocks[after + 1 :], text
