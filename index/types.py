"""Domain types of the index: documents, their section tree, and chunks.

These are the only index objects other packages see; llama-index and Chroma objects stay
inside `index/store.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ParagraphKind = Literal["text", "list_item"]


@dataclass(frozen=True)
class DocumentInfo:
    """What a citation shows about a document."""

    id: str
    title: str
    short_title: str
    year: int | None = None
    doc_type: str = "document"
    reference: str | None = None
    file: str = ""
    aliases: tuple[str, ...] = ()  # how people refer to it ("het pact", "the 2022 report")


@dataclass(frozen=True)
class RawDocument:
    """Text as read from disk, before structure is recovered.

    `text` separates PDF pages with a form feed (``\\f``); `kind` selects the parser.
    """

    info: DocumentInfo
    text: str
    kind: Literal["text", "markdown"] = "text"


@dataclass(frozen=True)
class Paragraph:
    """One body paragraph or list item, with offsets into `ParsedDocument.text`."""

    text: str
    kind: ParagraphKind = "text"
    start: int = 0
    end: int = 0
    page: int | None = None
    footnotes: tuple[int, ...] = ()
    # Where each footnote marker stood in `text` before it was stripped: (footnote number, offset).
    marks: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Footnote:
    number: int
    text: str


@dataclass(frozen=True)
class Section:
    """A (sub)section: its heading, its own paragraphs (not its children's) and its footnotes."""

    number: str | None
    title: str
    level: int
    path: tuple[str, ...]
    paragraphs: tuple[Paragraph, ...] = ()
    footnotes: tuple[Footnote, ...] = ()

    @property
    def heading(self) -> str:
        """The heading as printed: `2. Title`, `2.5 Title`, or the title alone."""
        return self.path[-1] if self.path else self.title

    @property
    def path_label(self) -> str:
        return " > ".join(self.path)


@dataclass(frozen=True)
class ParsedDocument:
    """A document's section tree (flattened in reading order) and its normalised text."""

    info: DocumentInfo
    sections: tuple[Section, ...]
    text: str
    footnotes: tuple[Footnote, ...] = ()

    def top_level(self) -> list[Section]:
        return [s for s in self.sections if s.level == 1]


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of one section, with everything a citation needs."""

    id: str
    doc_id: str
    doc_title: str
    doc_short_title: str
    year: int | None
    section_number: str | None
    section_title: str
    section_path: str
    paragraph_start: int
    paragraph_end: int
    char_start: int
    char_end: int
    text: str
    token_count: int
    content_hash: str
    notes: str = ""  # the footnotes this chunk cites, as `[n] text` lines
    page: int | None = None
    footnotes: tuple[int, ...] = ()
    part: int = 0
    parts: int = 1
    embed_text: str = field(default="", repr=False)
    # A footnote passage: its number (the section is the one whose text cites it) and the citing sentence.
    footnote: int | None = None
    context: str = ""

    @property
    def section_label(self) -> str:
        """The section heading as printed (`2.5 Title`, `2. TITLE` or an unnumbered title)."""
        return self.section_path.split(" > ")[-1] if self.section_path else self.section_title


@dataclass(frozen=True)
class Hit:
    """A chunk found by dense search."""

    chunk: Chunk
    similarity: float  # cosine similarity to the query vector
