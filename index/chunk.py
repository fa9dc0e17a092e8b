"""Split parsed documents into retrievable chunks: one per (sub)section, split further only when too long.

A section over the token budget is cut at paragraph boundaries, and a paragraph over the budget at
sentence boundaries, never inside a sentence. Consecutive parts of one section overlap by the last
sentences of the previous part (up to `overlap_tokens`) so that a fact at a cut is whole in one chunk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from errors import ConfigError
from index.sentences import split_sentences
from index.types import Chunk, ParsedDocument, Section

CHUNKER_VERSION = "1"


@dataclass(frozen=True)
class _Unit:
    """A paragraph, or one sentence of a paragraph too long for the budget."""

    text: str
    start: int
    end: int
    paragraph: int
    tokens: int
    page: int | None
    footnotes: tuple[int, ...]
    joiner: str  # how it attaches to the previous unit: "\n\n" between paragraphs, " " within one


class Chunker:
    """Turns a `ParsedDocument` into `Chunk`s within a token budget."""

    def __init__(self, count_tokens: Callable[[str], int], max_tokens: int = 200, overlap_tokens: int = 30) -> None:
        # Settings bound each value alone; only here are they checked together, so name both settings.
        if max_tokens < 50:
            raise ConfigError(
                f"chunk budget {max_tokens} tokens is too small: set ASSISTANT_CHUNK_TOKENS to at least 50"
            )
        if not 0 <= overlap_tokens < max_tokens // 2:
            raise ConfigError(
                f"chunk overlap {overlap_tokens} tokens must be below half the chunk budget of {max_tokens}: "
                f"set ASSISTANT_CHUNK_OVERLAP to at most {max(max_tokens // 2 - 1, 0)} "
                "or raise ASSISTANT_CHUNK_TOKENS"
            )
        self.count = count_tokens
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens

    def chunk(self, doc: ParsedDocument) -> list[Chunk]:
        chunks: list[Chunk] = []
        for section in doc.sections:
            chunks.extend(self._section_chunks(doc, section))
        return chunks

    def _section_chunks(self, doc: ParsedDocument, section: Section) -> list[Chunk]:
        units = list(self._units(section))
        if not units:
            return []
        groups = self._pack(units)
        notes = {f.number: f.text for f in section.footnotes}
        built = []
        for part, group in enumerate(groups):
            text = "".join((u.joiner if i else "") + u.text for i, u in enumerate(group))
            cited = tuple(sorted({n for u in group for n in u.footnotes}))
            built.append((part, group, text, cited))
        out = []
        for part, group, text, cited in built:
            note_text = "\n".join(f"[{n}] {notes[n]}" for n in cited if n in notes)
            # Footnotes are references (regulation titles, URLs): they are kept with the chunk and found by
            # lexical search, but left out of the embedded text, which they would dilute and slow down.
            embed_text = f"{doc.info.short_title} — {section.path_label}\n\n{text}"
            digest = hashlib.sha256(f"{embed_text}\n\n{note_text}".encode()).hexdigest()
            out.append(
                Chunk(
                    id=f"{doc.info.id}:{digest[:16]}",
                    doc_id=doc.info.id,
                    doc_title=doc.info.title,
                    doc_short_title=doc.info.short_title,
                    year=doc.info.year,
                    section_number=section.number,
                    section_title=section.title,
                    section_path=section.path_label,
                    paragraph_start=group[0].paragraph,
                    paragraph_end=group[-1].paragraph,
                    char_start=group[0].start,
                    char_end=group[-1].end,
                    text=text,
                    notes=note_text,
                    token_count=self.count(text),
                    content_hash=digest,
                    page=group[0].page,
                    footnotes=cited,
                    part=part,
                    parts=len(built),
                    embed_text=embed_text,
                )
            )
        return out

    def _units(self, section: Section) -> Iterable[_Unit]:
        for index, para in enumerate(section.paragraphs):
            tokens = self.count(para.text)
            if tokens <= self.max_tokens:
                yield _Unit(para.text, para.start, para.end, index, tokens, para.page, para.footnotes, "\n\n")
                continue
            for n, (a, b) in enumerate(split_sentences(para.text)):
                sentence = para.text[a:b]
                yield _Unit(
                    sentence,
                    para.start + a,
                    para.start + b,
                    index,
                    self.count(sentence),
                    para.page,
                    para.footnotes,
                    "\n\n" if n == 0 else " ",
                )

    def _pack(self, units: list[_Unit]) -> list[list[_Unit]]:
        groups: list[list[_Unit]] = []
        current: list[_Unit] = []
        size = 0
        for unit in units:
            if current and size + unit.tokens > self.max_tokens:
                groups.append(current)
                current = self._overlap(current, unit.tokens)
                size = sum(u.tokens for u in current)
            current.append(unit)
            size += unit.tokens
        if current:
            groups.append(current)
        return groups

    def _overlap(self, previous: list[_Unit], next_tokens: int) -> list[_Unit]:
        """The last sentences of the previous part, as long as they fit the overlap and the budget."""
        if not self.overlap_tokens:
            return []
        last = previous[-1]
        spans = split_sentences(last.text)
        carried: list[_Unit] = []
        used = 0
        for a, b in reversed(spans):
            sentence = last.text[a:b]
            tokens = self.count(sentence)
            if used + tokens > self.overlap_tokens or used + tokens + next_tokens > self.max_tokens:
                break
            carried.insert(
                0, _Unit(sentence, last.start + a, last.start + b, last.paragraph, tokens, last.page, (), " ")
            )
            used += tokens
        if carried:
            carried[0] = _Unit(
                carried[0].text,
                carried[0].start,
                carried[0].end,
                carried[0].paragraph,
                carried[0].tokens,
                carried[0].page,
                (),
                "\n\n",
            )
        return carried
