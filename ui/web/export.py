"""The conversation as a Markdown file to download: each question, its answer and the sources it cites."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from ui.i18n import t
from ui.web.render import marks, shown_sources
from ui.web.state import Exchange

KEEP_SECONDS = 3600  # an export stays this long for its download (Gradio copies it into its own cache at once)
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def conversation_markdown(exchanges: Sequence[Exchange], conversation_id: str | None, ui: str = "nl") -> str:
    """The conversation as Markdown, each answer followed by its sources."""
    lines = [f"# {t('web.export_heading', ui)} {conversation_id or ''}".rstrip(), ""]
    lines.append(f"_{dt.datetime.now().strftime('%Y-%m-%d %H:%M')}_")
    for i, exchange in enumerate(exchanges, start=1):
        lines += [
            "",
            f"## {t('web.turn', ui, n=i)}",
            "",
            f"**{t('web.export_question', ui)}:** {exchange.question}",
            "",
        ]
        answer = exchange.answer
        if answer is None:
            lines.append(f"**{t('web.error', ui)}:** {exchange.error or ''}")
            continue
        lines += [f"**{t('web.export_answer', ui)}** (`{answer.mode}`):", "", answer.text]
        lines += [f"> {m}" for m in marks(answer, ui)]
        lines += ["", f"### {t('sources', ui)}", ""]
        for s in shown_sources(answer):
            year = f" ({s.year})" if s.year else ""
            lines.append(f"[{s.n}] **{s.doc_title}**{year} — {s.label('en' if ui == 'en' else 'nl')}")
            lines.append("")
            lines += [f"> {line}" if line else ">" for line in s.text.splitlines()]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def export_file(
    exchanges: Sequence[Exchange], conversation_id: str | None, folder: Path, ui: str = "nl"
) -> Path | None:
    """The Markdown export written to a new file in `folder` for download; None when there is nothing yet.
    Exports older than `KEEP_SECONDS` in `folder` are removed; the file name keeps only the id's letters,
    digits, `-` and `_` (an id is the client's to send)."""
    if not exchanges:
        return None
    _remove_old(folder)
    name = _UNSAFE.sub("", conversation_id or "")[:12] or "new"
    path = folder / f"{t('web.conversation', ui)}-{name}-{uuid.uuid4().hex[:8]}.md"
    path.write_text(conversation_markdown(exchanges, conversation_id, ui), encoding="utf-8")
    return path


def _remove_old(folder: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for old in folder.glob("*.md"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:  # another process removed it first
            pass
