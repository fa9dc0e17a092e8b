"""Block Kit for the Slack bot: an `Answer` as Slack blocks within Slack's limits, and the bot's short messages.

Plain functions without Slack I/O, so they are tested directly; the words come from `ui.i18n`. Limits
(api.slack.com/reference/block-kit): 50 blocks per message, 3000 characters of text per section, 10 elements
per context block, 2000 characters of a button value; the top-level `text` (notification and screen-reader
fallback) is kept under 3000 characters.

Slack parses the fallback `text` like the blocks, so both carry the same safe text: answer and document text
goes through `plain` (escaped, and Slack's formatting, links and `@channel` made inert), never as markup.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.types import Answer, Source
from ui.i18n import t

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_FALLBACK_CHARS = 3000
MAX_SNIPPET_CHARS = 280
ANSWER_BLOCK_PREFIX = "pa-answer"  # block_id of the answer's text blocks: how the bot recognises its answers
FEEDBACK_UP = "feedback_up"
FEEDBACK_DOWN = "feedback_down"

Block = dict[str, Any]

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
# Slack's mrkdwn has no escape for its formatting characters: in document text they become look-alikes
# that Slack does not parse (bold, italic, strike, code and code fences).
_LOOKALIKES = str.maketrans({"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"})
_QUOTE = re.compile(r"^([ \t]*)>", re.M)  # a line starting with ">" is a block quote
# What Slack makes a link by itself: scheme://…, www.…, and bare domain names.
_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.\-]*://[^\s<>]*|\bwww\.[^\s<>]*|\b(?:[a-z0-9\-]+\.)+[a-z]{2,24}\b")
_BROADCAST = re.compile(r"(?i)@(channel|here|everyone)\b")
ONE_DOT_LEADER, DIVISION_SLASH = "\u2024", "\u2215"


def escape(text: str) -> str:
    """Slack's three control characters escaped: `<!channel>`, `<@U…>` and `<url|label>` stay text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _inert_url(match: re.Match[str]) -> str:
    return match.group().replace("/", DIVISION_SLASH).replace(".", ONE_DOT_LEADER)


def neutralise(text: str) -> str:
    """Document text that Slack shows as written: no bold, italics, strike-through, code, quotes, links or
    `@channel` (look-alike characters take the place of the markup); still to be `escape`d."""
    text = _URL.sub(_inert_url, text.translate(_LOOKALIKES))
    text = _QUOTE.sub("\\1\u203a", text)
    return _BROADCAST.sub("\uff20\\1", text)


def plain(text: str) -> str:
    """Text from documents, questions or errors, safe in any text Slack parses (mrkdwn and fallback text)."""
    return escape(neutralise(text))


def to_mrkdwn(text: str) -> str:
    """Answer text (Markdown-ish) as Slack mrkdwn: the answer's `**bold**` as `*bold*`, everything else as text
    (`plain`: no mentions, links or other formatting from the documents it quotes); `[n]` markers stay."""
    pieces = _BOLD.split(text)  # outside, bold, outside, bold, ...
    return "".join(plain(p) if i % 2 == 0 else f"*{plain(p)}*" for i, p in enumerate(pieces))


def strip_mentions(text: str) -> str:
    """The message text without `<@U…>` mentions (the bot's and anyone else's), whitespace normalised."""
    return " ".join(_MENTION.sub(" ", text or "").split())


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut at a paragraph, line, sentence or word if possible."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for sep in ("\n\n", "\n", ". ", " "):
            cut = window.rfind(sep)
            if cut >= limit // 2:
                cut += len(sep)
                break
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _section(text: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_SECTION_CHARS]}}
    if block_id:
        block["block_id"] = block_id
    return block


def _context(*texts: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": s[:2000]} for s in texts[:10]]}


_BADGES = {"answered": "✅", "partial": "◐", "not_covered": "🚫"}


def _notes(answer: Answer) -> list[str]:
    lang = answer.language
    notes = []
    if answer.refused:
        notes.append(t("slack.refused", lang))
    elif answer.coverage == "partial":
        notes.append(t("slack.partial", lang))
    if answer.missing:
        notes.append(plain(t("coverage.missing", lang, missing="; ".join(shorten(m, 200) for m in answer.missing))))
    if answer.unverified:
        notes.append(t("slack.unverified", lang))
    notes += [f"{t('slack.flagged', lang)} {plain(shorten(s, 400))}" for s in answer.flagged]
    notes += [f"ℹ️ {plain(shorten(n, 400))}" for n in answer.notices]
    return notes


def source_line(source: Source) -> str:
    """One source: `[n] *title* (year) — section`, then the supporting sentence (or the passage's start)."""
    year = f" ({source.year})" if source.year else ""
    page = f", p. {source.page}" if source.page else ""
    head = f"*[{source.n}] {plain(shorten(source.doc_title, 200))}*{year}{page} — {plain(shorten(source.section, 200))}"
    snippet = shorten(source.highlight or source.text, MAX_SNIPPET_CHARS)
    return f"{head}\n> {plain(snippet)}" if snippet else head


def answer_blocks(answer: Answer, feedback_value: str) -> tuple[list[Block], str]:
    """(blocks, fallback text) of an answer: text with `[n]` markers, notes, sources, mode, 👍 / 👎 buttons."""
    lang = answer.language
    notes = _notes(answer)
    note_blocks = [_section(p) for p in split_text("\n".join(notes))][:3] if notes else []

    source_blocks = [_section(f"*{t('sources', lang)}*")]
    lines = [source_line(s) for s in answer.sources]
    source_blocks += [_section(line) for line in lines[:10]]
    if len(lines) > 10:
        source_blocks.append(_context(t("slack.more_sources", lang, n=len(lines) - 10)))
    if not lines:
        source_blocks.append(_context(t("slack.no_sources", lang)))

    badge = f"{_BADGES[answer.coverage]} {t(f'coverage.{answer.coverage}', lang)}"
    meta = f"{badge} · {t('slack.mode', lang)}: `{plain(str(answer.mode))}` · {answer.latency_ms / 1000:.1f} s"
    tail: list[Block] = [
        {"type": "divider"},
        *source_blocks,
        _context(meta),
        {
            "type": "actions",
            "block_id": "pa-feedback",
            "elements": [
                {
                    "type": "button",
                    "action_id": FEEDBACK_UP,
                    "text": {"type": "plain_text", "text": "👍", "emoji": True},
                    "value": feedback_value[:2000],
                    "accessibility_label": t("slack.helpful", lang),
                },
                {
                    "type": "button",
                    "action_id": FEEDBACK_DOWN,
                    "text": {"type": "plain_text", "text": "👎", "emoji": True},
                    "value": feedback_value[:2000],
                    "accessibility_label": t("slack.helpful", lang),
                },
            ],
        },
    ]

    budget = MAX_BLOCKS - len(note_blocks) - len(tail)
    pieces = split_text(to_mrkdwn(answer.text)) or ["…"]
    if len(pieces) > budget:
        pieces = pieces[:budget]
        marker = "\n" + t("slack.truncated", lang)
        last = pieces[-1]
        pieces[-1] = last[: MAX_SECTION_CHARS - len(marker)] + marker
    text_blocks = [_section(p, f"{ANSWER_BLOCK_PREFIX}-{i}") for i, p in enumerate(pieces)]

    blocks = text_blocks + note_blocks + tail
    prefix = "⚠️ " if answer.refused or answer.unverified or answer.coverage == "partial" else ""
    # The fallback text is parsed like the blocks (mentions, links, formatting): the same safe text.
    return blocks, shorten(prefix + to_mrkdwn(answer.text), MAX_FALLBACK_CHARS)


def is_answer_message(message: dict[str, Any]) -> bool:
    """Whether a message from `conversations.replies` is one of the bot's answers (not a placeholder or error)."""
    return any(str(b.get("block_id", "")).startswith(ANSWER_BLOCK_PREFIX) for b in message.get("blocks") or [])


def note_blocks(text: str) -> list[Block]:
    """A short bot message (error, notice) as one section."""
    return [_section(text)]
