"""A section's whole text, rebuilt from its chunks: the parts in reading order, the chunker's overlap removed.
Footnote chunks are not part of it (they are shown as footnotes)."""

from __future__ import annotations

from collections.abc import Iterable

from index.types import Chunk

# The longest overlap looked for between consecutive parts, and the shortest one taken for an overlap
# (characters): the chunker overlaps by whole sentences, far below the first and far above the second.
MAX_OVERLAP_CHARS = 3000
MIN_OVERLAP_CHARS = 21


def section_text(chunks: Iterable[Chunk], doc_id: str, section_path: str) -> str:
    """The whole text of the section `section_path` of document `doc_id`; "" when no chunk belongs to it."""
    if not section_path:
        return ""
    return _join([c for c in chunks if c.doc_id == doc_id and c.section_path == section_path and c.footnote is None])


def section_texts(chunks: Iterable[Chunk]) -> dict[tuple[str, str], str]:
    """The whole text of every section, by (doc_id, section_path): one pass for callers that show many."""
    by_section: dict[tuple[str, str], list[Chunk]] = {}
    for chunk in chunks:
        if chunk.section_path and chunk.footnote is None:
            by_section.setdefault((chunk.doc_id, chunk.section_path), []).append(chunk)
    return {key: _join(parts) for key, parts in by_section.items()}


def _join(parts: list[Chunk]) -> str:
    """Join the parts of one section, dropping the text each part repeats from the one before (chunk overlap)."""
    ordered = sorted(parts, key=lambda c: (c.char_start, c.part))
    text = ordered[0].text if ordered else ""
    for chunk in ordered[1:]:
        part = chunk.text
        overlap = next(
            (
                k
                for k in range(min(len(text), len(part), MAX_OVERLAP_CHARS), MIN_OVERLAP_CHARS - 1, -1)
                if text.endswith(part[:k])
            ),
            0,
        )
        text = text + part[overlap:] if overlap else f"{text}\n\n{part}"
    return text
