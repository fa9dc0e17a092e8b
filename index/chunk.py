"""Split parsed documents into retrievable chunks: one per (sub)section, split further only when too long.

A section over the token budget is cut at paragraph boundaries, and a paragraph over the budget at
sentence boundaries, never inside a sentence. Consecutive parts of one section overlap by the last
sentences of the previous part (up to `overlap_tokens`) so that a fact at a cut is whole in one chunk.

Each footnote is a chunk of its own, in the section whose text cites it, carrying the citing sentence:
the communications keep many figures (rates, arrivals, dates of adoption) in footnotes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from errors import ConfigError
from index.sentences import split_sentences
from index.types import Chunk, ParsedDocument, Section

CHUNKER_VERSION = "2"  # 2: footnotes are chunks of their own


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
            chunks.extend(self._footnote_chunks(doc, section))
        return chunks

    def _footnote_chunks(self, doc: ParsedDocument, section: Section) -> list[Chunk]:
        """Chunks of each footnote the section cites (or defines without citing), with its citing sentence; a
        footnote over the budget is cut at sentence boundaries like a paragraph."""
        out = []
        for note in section.footnotes:
            text = note.text.strip()
            if not text:
                continue
            paragraph, context = _citing_sentence(section, note.number)
            # The footnote's own place in the document text, where the parser appends it after the body.
            found = doc.text.find(f"[{note.number}] {text}")
            base = found + len(f"[{note.number}] ") if found >= 0 else 0
            pieces = [(0, len(text))]
            if self.count(text) > self.max_tokens:
                units = [
                    _Unit(text[a:b], a, b, 0, self.count(text[a:b]), None, (), " ") for a, b in split_sentences(text)
                ]
                pieces = [(g[0].start, g[-1].end) for g in self._pack(units)] if units else pieces
            for part, (a, b) in enumerate(pieces):
                piece = text[a:b]
                embed_text = f"{doc.info.short_title} — {section.path_label}\n\n{context}\n\n[{note.number}] {piece}"
                digest = hashlib.sha256(f"footnote {note.number}\0{embed_text}".encode()).hexdigest()
                out.append(
                    Chunk(
                        **_placed(doc, section, digest),
                        paragraph_start=paragraph,
                        paragraph_end=paragraph,
                        char_start=base + a,
                        char_end=base + b,
                        text=piece,
                        token_count=self.count(piece),
                        content_hash=digest,
                        page=section.paragraphs[paragraph].page if section.paragraphs else None,
                        footnotes=(note.number,),
                        part=part,
                        parts=len(pieces),
                        embed_text=embed_text,
                        footnote=note.number,
                        context=context,
                    )
                )
        return out

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
            # The footnotes a part cites are listed with it (and change its id when edited), but stay out of
            # its embedded and searched text: each footnote is searched as a chunk of its own.
            embed_text = f"{doc.info.short_title} — {section.path_label}\n\n{text}"
            digest = hashlib.sha256(f"{embed_text}\n\n{note_text}".encode()).hexdigest()
            out.append(
                Chunk(
                    **_placed(doc, section, digest),
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


def _placed(doc: ParsedDocument, section: Section, digest: str) -> dict[str, Any]:
    """The fields every chunk of `section` shares: its id (from the content digest), document and section."""
    return {
        "id": f"{doc.info.id}:{digest[:16]}",
        "doc_id": doc.info.id,
        "doc_title": doc.info.title,
        "doc_short_title": doc.info.short_title,
        "year": doc.info.year,
        "section_number": section.number,
        "section_title": section.title,
        "section_path": section.path_label,
    }


def _citing_sentence(section: Section, number: int) -> tuple[int, str]:
    """The index of the paragraph citing footnote `number` and the sentence its marker ends (the
    paragraph's first sentence when the marker's place is unknown; "" when no paragraph cites it)."""
    for index, para in enumerate(section.paragraphs):
        offsets = [offset for n, offset in para.marks if n == number]
        if not offsets and number not in para.footnotes:
            continue
        spans = split_sentences(para.text) or [(0, len(para.text))]
        at = offsets[0] if offsets else spans[0][1]
        a, b = next(((a, b) for a, b in spans if a < at <= b), spans[-1] if at > spans[-1][1] else spans[0])
        return index, para.text[a:b].strip()
    return 0, ""
