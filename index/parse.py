"""Recover the structure of PDF-extracted policy texts: paragraphs, headings, footnotes, lists.

The extracted texts mix two layouts (a blank line after every line, or single newlines with blank lines
between paragraphs), put footnotes between body paragraphs at former page ends, glue footnote markers to
the preceding word or number, wrap headings over two lines and drop bullet glyphs. `parse` turns such a
text into a `ParsedDocument`: a flat, reading-order list of sections (each with number, title, level and
path), whose paragraphs are clean body text and whose footnotes sit apart, attached where they are cited.

Markdown files take a simpler path (`#` headings) in `parse_markdown`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.types import DocumentInfo, Footnote, Paragraph, ParsedDocument, RawDocument, Section

PARSER_VERSION = "2"  # 2: paragraphs record where their footnote markers stood

# Private-use characters mark a footnote reference inside paragraph text until it is resolved.
_MARK_OPEN, _MARK_CLOSE = "\ue000", "\ue001"
# A resolved marker, kept in the text until whitespace is normalised, then recorded by offset and removed.
_RESOLVED_RE = re.compile("\ue002(\\d+)\ue003")
_BULLET_GLYPHS = "\uf0b7\uf0a7\uf0d8\uf0fc\u25cf\u2022\u25aa\u25a0\u2023\u25e6"
_BULLET_RE = re.compile(rf"^(?:[{_BULLET_GLYPHS}]+|[–-](?=\s))\s*")
_NUMBERED_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)(\.?)\s+(\S.*)$")
_FOOTNOTE_RE = re.compile(r"^(\d{1,3})\s+(\S.*)$")
_DIGITS_RE = re.compile(r"^\d{1,3}$")
_URL_ONLY_RE = re.compile(r"^(?:https?://|www\.)\S+$")
_SENTENCE_END = tuple('.:;!?”"’)')
# Words a heading does not end on: a line that ends on one of them continues on the next line.
_FUNCTION_WORDS = frozenset(
    [
        "de",
        "het",
        "een",
        "van",
        "en",
        "of",
        "op",
        "in",
        "te",
        "om",
        "met",
        "voor",
        "die",
        "dat",
        "aan",
        "tot",
        "bij",
        "door",
        "naar",
        "als",
        "uit",
        "over",
        "onder",
        "tegen",
        "tussen",
        "zoals",
        "dan",
        "maar",
        "ook",
        "nog",
        "niet",
        "waar",
        "wat",
        "deze",
        "dit",
        "hun",
        "haar",
        "zich",
        "waarover",
        "waarin",
        "waarmee",
        "waarop",
        "waarvan",
        "waardoor",
        "welke",
        "wie",
        "hoe",
        "omdat",
        "zodat",
        "terwijl",
        "indien",
        "wanneer",
        "alsook",
        "alsmede",
        "noch",
        "zowel",
        "dus",
        "the",
        "a",
        "an",
        "of",
        "and",
        "or",
        "to",
        "in",
        "on",
        "for",
        "with",
        "by",
        "from",
        "at",
        "as",
    ]
)
# An attributive adjective (`gemeenschappelijk`, `Europees`, `Middellandse`) needs a noun after it, so a
# line ending on one continues a sentence rather than closing a heading.
_ADJECTIVE_END_RE = re.compile(r"(?:lijke?|ische?|ieve|ese|ees|[^aeiou]se|ele)$")
_PAGE_FURNITURE_RE = re.compile(r"^(?:[A-Z]{2}\s+\d{1,3}\s+[A-Z]{2}|\d{1,3}|[A-Z]{2}\s+\d{1,3}|\d{1,3}\s+[A-Z]{2})$")
_CONJUNCTIONS_AFTER_HYPHEN = frozenset(["en", "of", "tot", "als", "noch", "dan", "and", "or", "to"])


@dataclass
class _Line:
    text: str  # stripped
    lead: int  # leading spaces
    trail: int  # trailing spaces
    page: int | None
    blank_before: bool = False  # a blank line separates it from the previous line
    hard_break_before: bool = False  # that blank line separates paragraphs (single-newline layout)


@dataclass
class _Block:
    kind: str  # "para" | "item" | "heading" | "footnote"
    lines: list[str] = field(default_factory=list)
    page: int | None = None
    number: str | None = None  # heading number or footnote number
    caps: bool = False
    section_index: int = -1  # for footnotes: the section being read when the footnote was defined


def parse(raw: RawDocument) -> ParsedDocument:
    """Parse a document; markdown goes to `parse_markdown`."""
    if raw.kind == "markdown":
        return parse_markdown(raw)
    lines = _read_lines(raw.text)
    width = _typical_width(lines)
    blocks = _Segmenter(lines, width).run()
    return _assemble(raw.info, blocks, has_pages="\f" in raw.text)


# --------------------------------------------------------------------------------------------- lines


def _read_lines(text: str) -> list[_Line]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").replace("\u2011", "-")
    pages = text.split("\f")
    out: list[_Line] = []
    for page_no, page in enumerate(pages, start=1):
        blank_run = 0
        for raw_line in page.split("\n"):
            if raw_line == "":
                blank_run += 1
                continue
            stripped = raw_line.strip()
            line = _Line(
                text=stripped,
                lead=len(raw_line) - len(raw_line.lstrip(" ")),
                trail=len(raw_line) - len(raw_line.rstrip(" ")),
                page=page_no if len(pages) > 1 else None,
                blank_before=blank_run > 0,
            )
            out.append(line)
            blank_run = 0
        if len(pages) > 1 and out:
            out.append(_Line(text="", lead=1, trail=0, page=page_no))  # page break marker
    _mark_hard_breaks(out)
    return _merge_marker_lines(out)


def _mark_hard_breaks(lines: list[_Line]) -> None:
    text_lines = [ln for ln in lines if ln.text]
    blank_separated = [ln for ln in text_lines[1:] if ln.blank_before]
    # In the double-spaced layout most blank-separated lines continue a sentence; one-line paragraphs
    # separated by blank lines mostly end one.
    preceding = [text_lines[i - 1] for i in range(1, len(text_lines)) if text_lines[i].blank_before]
    ending = sum(p.text.endswith(_SENTENCE_END) for p in preceding)
    double_spaced = len(blank_separated) > 0.4 * max(1, len(text_lines)) and ending < 0.5 * max(1, len(preceding))
    if not double_spaced:
        # Single-newline layout throughout (most user files): every blank line ends a paragraph.
        for line in text_lines:
            line.hard_break_before = line.blank_before
        return
    _mark_mixed_breaks(lines)


def _mark_mixed_breaks(lines: list[_Line]) -> None:
    """A blank line separates paragraphs only where lines are otherwise not blank-separated.

    In the double-spaced layout every line is followed by a blank line, so a blank says nothing; in the
    single-newline layout it ends a paragraph. Decide per position from the neighbourhood.
    """
    for i, line in enumerate(lines):
        if not line.blank_before:
            continue
        window = lines[max(0, i - 3) : i] + lines[i + 1 : i + 4]
        single = sum(1 for w in window if w.text and not w.blank_before)
        prev = lines[i - 1] if i else None
        can_end = prev is None or not prev.text or prev.text.endswith(_SENTENCE_END) or prev.trail >= 2
        line.hard_break_before = single >= 2 and can_end


def _merge_marker_lines(lines: list[_Line]) -> list[_Line]:
    """Join `word` / `12` / `. rest` (a footnote marker extracted onto its own line) into one line."""
    out: list[_Line] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if (
            out
            and _DIGITS_RE.match(line.text)
            and line.trail == 0
            and out[-1].text
            and out[-1].trail == 0  # the superscript followed the word with no space
            and i + 1 < len(lines)
            and lines[i + 1].text
            and (lines[i + 1].lead == 1 or (lines[i + 1].lead == 0 and lines[i + 1].text[0] in ".,;:)"))
        ):
            prev, nxt = out[-1], lines[i + 1]
            sep = " " if nxt.lead > 0 else ""
            prev.text = f"{prev.text}{_MARK_OPEN}{line.text}{_MARK_CLOSE}{sep}{nxt.text}"
            prev.trail = nxt.trail
            i += 2
            continue
        out.append(line)
        i += 1
    return out


def _is_pagebreak(line: _Line) -> bool:
    return line.text == "" and line.lead > 0


def _is_separator(line: _Line) -> bool:
    return line.text == "" and line.lead >= 10


def _typical_width(lines: list[_Line]) -> int:
    lengths = sorted(len(line.text) for line in lines if len(line.text) > 20)
    if len(lengths) < 20:
        return 80  # too few lines to measure: assume an ordinary page width
    return int(lengths[int(len(lengths) * 0.9) - 1])


def _is_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and sum(c.isupper() for c in letters) / len(letters) >= 0.9


# ----------------------------------------------------------------------------------------- segmenting


class _Segmenter:
    """Walks the lines once and cuts them into paragraphs, list items, headings and footnotes."""

    def __init__(self, lines: list[_Line], width: int) -> None:
        self.lines = lines
        self.width = width
        self.blocks: list[_Block] = []
        self.current: _Block | None = None  # the open body block (para or item)
        self.footnote: _Block | None = None  # the open footnote, while in a footnote zone
        self.next_def = 1  # number of the next footnote definition expected
        self.top = 0  # last top-level section number seen
        self.sub = 0  # last subsection number seen under `top`
        self.after_pagebreak = False
        self.sections_seen = 0

    # -- driver

    def run(self) -> list[_Block]:
        i = 0
        while i < len(self.lines):
            i = self._step(i)
        self._close()
        return self.blocks

    def _step(self, i: int) -> int:
        line = self.lines[i]
        if _is_separator(line):
            self.footnote = _Block(kind="footnote")  # zone opens; first footnote follows
            return i + 1
        if _is_pagebreak(line):
            self._end_footnote_zone()
            self.after_pagebreak = True
            return i + 1
        if self.footnote is not None:
            consumed = self._footnote_line(i)
            if consumed:
                return i + consumed
        if self._footnote_starts_here(i):
            return i + self._footnote_line(i)
        if self._unnumbered_footnote(i):
            self._start_footnote(self.next_def, line.text, line.page)
            return i + 1
        if self.footnote is not None and self.footnote.number is not None:
            return i + self._footnote_line(i)
        if (self.after_pagebreak and _DIGITS_RE.match(line.text)) or (
            _PAGE_FURNITURE_RE.match(line.text) and not _DIGITS_RE.match(line.text)
        ):
            return i + 1  # page number, or a `NL 10 NL` page footer
        if _URL_ONLY_RE.match(line.text) and line.trail == 0 and self._url_is_duplicate(line.text):
            return i + 1  # link annotation repeated at the page end
        page_start = self.after_pagebreak
        self.after_pagebreak = False
        consumed = self._heading(i)
        if consumed:
            return i + consumed
        self._body_line(line, page_start)
        return i + 1

    # -- footnotes

    def _footnote_starts_here(self, i: int) -> bool:
        """A footnote definition outside an open zone (no separator line before it)."""
        line = self.lines[i]
        m = _FOOTNOTE_RE.match(line.text) or (_DIGITS_RE.match(line.text) and re.match(r"(\d+)", line.text))
        if not m or self._definition_number(int(m.group(1))) is None:
            return False
        prev = self._prev_nonblank(i)
        if prev is not None and not (_is_pagebreak(prev) or prev.lead > 0 or self._ends_paragraph(prev)):
            return False
        return self._marker_seen(int(m.group(1)))

    def _definition_number(self, number: int) -> int | None:
        """`number` if it can be the next footnote definition (extraction sometimes loses one)."""
        return number if self.next_def <= number <= self.next_def + 2 else None

    def _unnumbered_footnote(self, i: int) -> bool:
        """Footnote text indented by three or more spaces whose number was lost in extraction.

        Body text is never indented that deep in these layouts; such a line is the next footnote.
        """
        return self.lines[i].lead >= 3 and self.next_def > 1

    def _marker_seen(self, number: int) -> bool:
        """True when the body read so far cites footnote `number` (glued or on its own line)."""
        needle = str(number)
        pattern = re.compile(rf"(?:[^\W\d_]|[”’)\]%]|\d{{4}}){re.escape(needle)}(?!\d)|{_MARK_OPEN}{needle}")
        for block in reversed(self.blocks[-40:] + ([self.current] if self.current else [])):
            if block.kind in ("para", "item", "heading") and any(pattern.search(t) for t in block.lines):
                return True
        return False

    def _footnote_line(self, i: int) -> int:
        """Consume a line inside a footnote zone; 0 means the zone has ended at this line."""
        line = self.lines[i]
        m = _FOOTNOTE_RE.match(line.text) or (_DIGITS_RE.match(line.text) and re.match(r"(\d+)()", line.text))
        # Right after a separator rule a number starts a footnote even if the count drifted.
        if (
            m
            and self.footnote is not None
            and self.footnote.number is None
            and 0 <= int(m.group(1)) - self.next_def <= 5
        ):
            self._start_footnote(int(m.group(1)), m.group(2), line.page)
            return 1
        if m and self._definition_number(int(m.group(1))) is not None:
            self._start_footnote(int(m.group(1)), m.group(2), line.page)
            return 1
        if _DIGITS_RE.match(line.text) and self._definition_number(int(line.text)) is not None:
            self._start_footnote(int(line.text), "", line.page)
            return 1
        if self.footnote is None:
            return 0
        if self.footnote.lines and self._unnumbered_footnote(i):
            self._start_footnote(self.next_def, line.text, line.page)
            return 1
        if line.lead >= 1 and self.footnote.number is not None and self.footnote.lines:
            # Footnote lines start at the margin; an indented line after them begins the next page.
            self._end_footnote_zone()
            self.after_pagebreak = True
            return 0
        if _URL_ONLY_RE.match(line.text) and line.trail == 0 and self._url_is_duplicate(line.text):
            return 1
        if self.footnote.number is None:
            # Zone opened by a separator, but no numbered footnote follows: not a footnote zone.
            self.footnote = None
            return 0
        if self._box_title_after_footnotes(i):
            # A text box (title, then paragraphs) printed below the footnotes: body text, not a footnote.
            self._end_footnote_zone()
            self._close()
            return 0
        self.footnote.lines.append(line.text)
        return 1

    def _box_title_after_footnotes(self, i: int) -> bool:
        assert self.footnote is not None
        line = self.lines[i]
        done = bool(self.footnote.lines) and self.footnote.lines[-1].rstrip().endswith(_SENTENCE_END)
        nxt = self._next_nonblank(i)
        return (
            done
            and line.lead == 0
            and line.text[:1].isupper()
            and len(line.text.split()) <= 6
            and len(line.text) < self.width * 0.5
            and not line.text.endswith(_SENTENCE_END + (",",))
            and not _URL_ONLY_RE.match(line.text)
            and nxt is not None
            and self.lines[nxt].text[:1].isupper()
            and len(self.lines[nxt].text) > self.width * 0.6
        )

    def _start_footnote(self, number: int, text: str, page: int | None) -> None:
        # The open paragraph stays open: footnotes interrupt it at a page end and it resumes after them.
        if self.footnote is not None and self.footnote.number is not None:
            self.blocks.append(self.footnote)
        self.footnote = _Block(kind="footnote", number=str(number), page=page)
        self.footnote.section_index = self.sections_seen
        if text:
            self.footnote.lines.append(text)
        self.next_def = number + 1

    def _end_footnote_zone(self) -> None:
        if self.footnote is not None and self.footnote.number is not None:
            self.blocks.append(self.footnote)
        self.footnote = None

    def _url_is_duplicate(self, url: str) -> bool:
        compact = url.replace(" ", "")
        for block in reversed(self.blocks[-30:] + ([self.footnote] if self.footnote else [])):
            if block.kind == "footnote" and compact in "".join(block.lines).replace(" ", ""):
                return True
        return False

    # -- headings

    def _heading(self, i: int) -> int:
        """Consume a heading starting at line i; return the number of lines used (0: not a heading)."""
        line = self.lines[i]
        m = _NUMBERED_RE.match(line.text)
        if m and self._numbered_in_sequence(m.group(1), m.group(2)):
            title, last = self._wrapped(m.group(3).strip(), i)
            if title[:1].isupper() or title[:1].isdigit():
                self._accept_numbered(m.group(1))
                self._emit_heading(m.group(1), title, line.page, _is_caps(title))
                return last - i + 1
        if not self._may_start_heading(i):
            return 0
        text = line.text
        if _is_caps(text) and not _FOOTNOTE_RE.match(text) and not text.endswith((".", ";", ",")):
            title, last = self._wrapped(text, i)
            self._emit_heading(None, title, line.page, True)
            return last - i + 1
        return self._sentence_case_heading(i)

    def _wrapped(self, title: str, i: int, max_lines: int = 3) -> tuple[str, int]:
        """Extend a heading over the short lines it wraps onto; return the title and its last line index."""
        last = i
        for _ in range(max_lines - 1):
            nxt = self._next_nonblank(last)
            if nxt is None or not self._heading_continues(title, self.lines[nxt]):
                break
            title, last = _join_lines([title, self.lines[nxt].text]), nxt
        return title, last

    def _numbered_in_sequence(self, number: str, dot: str) -> bool:
        parts = [int(p) for p in number.split(".")]
        if len(parts) == 1:
            return dot == "." and parts[0] == self.top + 1
        if len(parts) == 2:
            return parts[0] == self.top and parts[1] == self.sub + 1
        return False

    def _accept_numbered(self, number: str) -> None:
        parts = [int(p) for p in number.split(".")]
        if len(parts) == 1:
            self.top, self.sub = parts[0], 0
        else:
            self.sub = parts[1]

    def _heading_continues(self, title: str, nxt: _Line) -> bool:
        """A heading wrapped onto a following line."""
        t = nxt.text
        if not t or _NUMBERED_RE.match(t) or _BULLET_RE.match(t) or _FOOTNOTE_RE.match(t) or _DIGITS_RE.match(t):
            return False
        if t.endswith((".", ";", ",", ":")):
            return False
        if _is_caps(title):
            return _is_caps(t)
        last = title.split()[-1].lower()
        short = len(t) < self.width * 0.6
        return short and (last in _FUNCTION_WORDS or t[:1].islower())

    def _may_start_heading(self, i: int) -> bool:
        """Headings start where the body text so far has ended a paragraph."""
        if self.current is None:
            return True
        last = self.current.lines[-1]
        if self._block_ended or last.endswith((".", "!", "?")):
            return not last.endswith((":", "”", '"', "’"))  # a list or a quotation's attribution follows
        # A short line (a caption or attribution) followed by an indented line whose icon was lost.
        return self.lines[i].lead == 1 and len(last) < self.width * 0.6

    def _sentence_case_heading(self, i: int) -> int:
        """Unnumbered sub-heading in sentence case, on one line or wrapped onto short following lines."""
        line = self.lines[i]
        text = line.text
        if _BULLET_RE.match(text) or _FOOTNOTE_RE.match(text) or not text[:1].isupper():
            return 0
        title, last = self._wrapped(text, i)
        words = title.split()
        if re.search(r"[.!?;] ", title) or title.endswith(_SENTENCE_END + ("-", ",")):
            return 0
        if len(words) == 1 and not (last == i and len(title) >= 5 and title.isalpha() and title[1:].islower()):
            return 0  # one word only as a box title such as `Kernacties` or `Aanbevelingen`
        final = words[-1].lower()
        if final in _FUNCTION_WORDS or _ADJECTIVE_END_RE.search(final):
            return 0
        # A single line as wide as the body text is the first line of a paragraph, not a heading.
        if last == i and (len(text) > self.width * 0.88 or ("," in text and len(text) > self.width * 0.7)):
            return 0
        follower = self._next_content(last)
        if follower is None:
            return 0
        first = follower.text
        if not (first[:1].isupper() or first[:1].isdigit() or _BULLET_RE.match(first) or follower.lead > 0):
            return 0
        self._emit_heading(None, title, line.page, False)
        return last - i + 1

    def _next_content(self, i: int) -> _Line | None:
        """The next body line after i, skipping page breaks, page numbers and footnote zones' separators."""
        j = self._next_nonblank(i)
        while j is not None:
            candidate = self.lines[j]
            if candidate.text and not _DIGITS_RE.match(candidate.text):
                return candidate
            j = self._next_nonblank(j)
        return None

    def _emit_heading(self, number: str | None, title: str, page: int | None, caps: bool) -> None:
        self._close()
        self.blocks.append(_Block(kind="heading", lines=[title], page=page, number=number, caps=caps))
        self.sections_seen += 1

    # -- body

    def _body_line(self, line: _Line, page_start: bool) -> None:
        text = line.text
        bullet = _BULLET_RE.match(text)
        if bullet:
            self._open("item", text[bullet.end() :], line.page)
        elif self.current is None:
            self._open("para", text, line.page)
        elif self._block_ended:
            # Bullet glyphs lost in extraction leave list items indented by one space.
            lost_bullet = line.lead == 1 and not page_start and self._list_context()
            self._open("item" if lost_bullet else "para", text, line.page)
        elif line.hard_break_before and not page_start:
            self._open("para", text, line.page)
        else:
            self.current.lines.append(text)  # continues, also across a page break
        self._block_ended = self._ends_paragraph(line)

    def _open(self, kind: str, text: str, page: int | None) -> None:
        self._close()
        self.current = _Block(kind=kind, lines=[text], page=page)

    _block_ended: bool = True

    def _list_context(self) -> bool:
        """The open block is a list item, or a paragraph that introduces a list."""
        if self.current is None:
            return False
        last = self.current.lines[-1].rstrip()
        return self.current.kind == "item" or last.endswith((":", ";")) or self._block_ended

    def _ends_paragraph(self, line: _Line) -> bool:
        text = line.text
        if not text:
            return True
        if line.trail >= 2 and text.endswith(_SENTENCE_END + ("]",)):
            return True
        nxt_blank_hard = False
        if text.endswith(_SENTENCE_END):
            return len(text) < self.width * 0.85 or line.trail >= 2 or nxt_blank_hard
        return False

    def _close(self) -> None:
        if self.current is not None:
            self.blocks.append(self.current)
            self.current = None
        self._block_ended = True

    # -- navigation

    def _next_nonblank(self, i: int) -> int | None:
        j = i + 1
        while j < len(self.lines):
            if self.lines[j].text or _is_pagebreak(self.lines[j]) or _is_separator(self.lines[j]):
                return j
            j += 1
        return None

    def _prev_nonblank(self, i: int) -> _Line | None:
        return self.lines[i - 1] if i > 0 else None


# ----------------------------------------------------------------------------------------- assembling


def _join_lines(lines: list[str]) -> str:
    """Join wrapped lines into one string, rejoining words hyphenated across the break."""
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not out:
            out = line
            continue
        first_word = line.split()[0].lower()
        if re.search(r"[^\W\d_]-$", out) and first_word not in _CONJUNCTIONS_AFTER_HYPHEN and line[:1].isalnum():
            out += line  # `EU-` + `overnameovereenkomsten`: keep the hyphen, drop the break
        else:
            out += " " + line
    return re.sub(r"[ \t]{2,}", " ", out)


class _MarkerResolver:
    """Strips footnote markers from body text in reading order and records which footnotes it cites."""

    def __init__(self, footnote_numbers: set[int]) -> None:
        self.known = footnote_numbers
        self.next_ref = 1

    def resolve(self, text: str) -> tuple[str, tuple[int, ...]]:
        cited: list[int] = []

        def explicit(m: re.Match[str]) -> str:
            n = int(m.group(1))
            cited.append(n)
            self.next_ref = max(self.next_ref, n + 1)
            return f"\ue002{n}\ue003"

        text = re.sub(rf"{_MARK_OPEN}(\d+){_MARK_CLOSE}", explicit, text)

        def glued(m: re.Match[str]) -> str:
            token = m.group(0)
            core = token.rstrip(".,;:)”’")
            trail = token[len(core) :]
            if not core[-1:].isdigit() or "/" in core or "://" in core:
                return token
            for n in self._candidates():
                tail = str(n)
                if not core.endswith(tail):
                    continue
                head = core[: -len(tail)]
                if self._plausible_head(head):
                    cited.append(n)
                    self.next_ref = n + 1
                    return f"{head}\ue002{n}\ue003{trail}"
            return token

        text = re.sub(r"\S+", glued, text)
        return text, tuple(cited)

    @staticmethod
    def take_marks(text: str) -> tuple[str, tuple[tuple[int, int], ...]]:
        """`text` without its resolved markers, and (footnote number, offset) of each in the result."""
        marks: list[tuple[int, int]] = []
        out: list[str] = []
        length = 0
        last = 0
        for m in _RESOLVED_RE.finditer(text):
            out.append(text[last : m.start()])
            length += m.start() - last
            marks.append((int(m.group(1)), length))
            last = m.end()
        out.append(text[last:])
        return "".join(out), tuple(marks)

    def _candidates(self) -> list[int]:
        return [n for n in range(self.next_ref, self.next_ref + 3) if n in self.known]

    @staticmethod
    def _plausible_head(head: str) -> bool:
        if not head:
            return False
        if head[-1] in "”’)]%+":
            return True
        if head[-1].isalpha():
            return not re.search(r"\d", head) or bool(re.match(r"^[^\W\d_]", head))
        # A number with a marker glued on: only 4-digit years are unambiguous enough.
        return bool(re.fullmatch(r"(?:19|20)\d\d", head))


def _heading_label(number: str | None, title: str) -> str:
    """The heading as printed: `2. Title` for top-level numbers, `2.5 Title` below, or just the title."""
    if not number:
        return title
    return f"{number}. {title}" if "." not in number else f"{number} {title}"


def _assemble(
    info: DocumentInfo, blocks: list[_Block], has_pages: bool, *, demote_captions: bool = True
) -> ParsedDocument:
    footnote_blocks = [b for b in blocks if b.kind == "footnote"]
    numbers = {int(b.number) for b in footnote_blocks if b.number}
    # Numbering is sequential, so a number below the highest definition is a footnote even when
    # extraction lost its definition.
    resolver = _MarkerResolver(set(range(1, max(numbers, default=0) + 1)))
    footnotes: dict[int, Footnote] = {}
    for b in footnote_blocks:
        if b.number:
            n = int(b.number)
            # A number seen twice (a drifted count) keeps both texts rather than losing one.
            text = _join_lines(([footnotes[n].text] if n in footnotes else []) + b.lines)
            footnotes[n] = Footnote(n, text)

    if demote_captions:  # a guess for text and PDF; markdown headings are marked up, so they stay headings
        blocks = _demote_empty_subheadings(blocks)
    levels = _heading_levels([b for b in blocks if b.kind == "heading"])
    sections: list[dict] = []
    stack: list[tuple[int, str]] = []
    text_parts: list[str] = []
    offset = 0

    def add_text(s: str) -> tuple[int, int]:
        nonlocal offset
        if text_parts:
            text_parts.append("\n\n")
            offset += 2
        start = offset
        text_parts.append(s)
        offset += len(s)
        return start, offset

    def open_section(number: str | None, title: str, level: int) -> None:
        while stack and stack[-1][0] >= level:
            stack.pop()
        label = _heading_label(number, title)
        stack.append((level, label))
        sections.append(
            {
                "number": number,
                "title": title,
                "level": level,
                "path": tuple(lbl for _, lbl in stack),
                "paragraphs": [],
                "cited": [],
                "defined": [],
            }
        )

    pending_defined: list[int] = []  # footnotes defined before the first section opened
    heading_index = 0
    for block in blocks:
        if block.kind == "heading":
            title = _join_lines(block.lines)
            title, _ = resolver.take_marks(resolver.resolve(title)[0])
            level = levels[heading_index]
            heading_index += 1
            open_section(block.number, title, level)
            add_text(sections[-1]["path"][-1])
            continue
        if block.kind == "footnote":
            if block.number:
                (sections[-1]["defined"] if sections else pending_defined).append(int(block.number))
            continue
        if not sections:
            open_section(None, info.title, 1)
            sections[-1]["defined"].extend(pending_defined)
        body, cited = resolver.resolve(_join_lines(block.lines))
        body, marks = resolver.take_marks(re.sub(r"\s{2,}", " ", body).strip())
        if not body:
            continue
        start, end = add_text(body)
        sections[-1]["paragraphs"].append(
            Paragraph(
                text=body,
                kind="list_item" if block.kind == "item" else "text",
                start=start,
                end=end,
                page=block.page if has_pages else None,
                footnotes=cited,
                marks=marks,
            )
        )
        sections[-1]["cited"].extend(cited)

    # Footnote text stays searchable: it is appended after the body, and kept with the citing section.
    cited_anywhere = {n for s in sections for n in s["cited"]}
    for s in sections:
        own = list(dict.fromkeys(s["cited"] + [n for n in s["defined"] if n not in cited_anywhere]))
        s["footnotes"] = tuple(footnotes[n] for n in sorted(own) if n in footnotes)
    for n in sorted(footnotes):
        add_text(f"[{n}] {footnotes[n].text}")

    built = tuple(
        Section(
            number=s["number"],
            title=s["title"],
            level=s["level"],
            path=s["path"],
            paragraphs=tuple(s["paragraphs"]),
            footnotes=s["footnotes"],
        )
        for s in sections
    )
    return ParsedDocument(info=info, sections=built, text="".join(text_parts), footnotes=tuple(footnotes.values()))


def _demote_empty_subheadings(blocks: list[_Block]) -> list[_Block]:
    """A sentence-case 'heading' followed straight by another heading was a caption or attribution."""
    out = list(blocks)
    for i, block in enumerate(out):
        if block.kind != "heading" or block.number or block.caps:
            continue
        following = next((b for b in out[i + 1 :] if b.kind != "footnote"), None)
        if following is not None and following.kind == "heading":
            out[i] = _Block(kind="para", lines=block.lines, page=block.page)
    return out


def _heading_levels(headings: list[_Block]) -> list[int]:
    """Level of each heading: numbers give depth; unnumbered headings nest under the numbered ones.

    With numbered headings present, an unnumbered heading before the first of them is top-level
    (`INLEIDING`), so is an unnumbered caps heading where numbered top levels are caps (`CONCLUSIES`), and
    any other unnumbered heading sits one level under the numbered section it is in.
    Without numbers, a heading whose text repeats (`VOLGENDE STAPPEN` boxes) nests under the others.
    """
    numbered = [h for h in headings if h.number]
    levels: list[int] = []
    if numbered:
        top_caps = [h.caps for h in numbered if "." not in (h.number or "")]
        caps_is_top = bool(top_caps) and sum(top_caps) > len(top_caps) / 2
        depth = 0
        for h in headings:
            if h.number:
                depth = h.number.count(".") + 1
                levels.append(depth)
            elif depth == 0 or (h.caps and caps_is_top):
                levels.append(1)
            else:
                levels.append(depth + 1)
        return levels
    counts: dict[str, int] = {}
    for h in headings:
        key = " ".join(h.lines).strip().lower()
        counts[key] = counts.get(key, 0) + 1
    seen_top = False
    for h in headings:
        repeated = counts[" ".join(h.lines).strip().lower()] > 1
        levels.append(2 if repeated and seen_top else 1)
        seen_top = seen_top or not repeated
    return levels


# ------------------------------------------------------------------------------------------- markdown


def parse_markdown(raw: RawDocument) -> ParsedDocument:
    """Markdown: `#` headings give the tree, blank lines separate paragraphs, `-`/`*`/`1.` are items."""
    blocks: list[_Block] = []
    current: _Block | None = None
    in_code = False

    def close() -> None:
        nonlocal current
        if current is not None:
            blocks.append(current)
            current = None

    for raw_line in raw.text.replace("\r\n", "\n").split("\n"):
        line = raw_line.rstrip()
        if line.strip().startswith("```"):
            in_code = not in_code
            close()
            continue
        heading = None if in_code else re.match(r"^(#{1,6})\s+(.+?)\s*#*\s*$", line)
        item = None if in_code else re.match(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$", line)
        if heading:
            close()
            blocks.append(
                _Block(
                    kind="heading",
                    lines=[heading.group(2)],
                    number=None,
                    caps=False,
                    section_index=len(heading.group(1)),
                )
            )
        elif not line.strip():
            close()
        elif item:
            close()
            current = _Block(kind="item", lines=[item.group(1)])
        elif current is None:
            current = _Block(kind="para", lines=[line.strip()])
        else:
            current.lines.append(line.strip())
    close()

    # Markdown levels come from the number of `#`; reuse numbered-heading nesting by faking depth.
    doc = _assemble(raw.info, [b for b in blocks], has_pages=False, demote_captions=False)
    md_levels = [b.section_index for b in blocks if b.kind == "heading"]
    if not md_levels:
        return doc
    return _relevel(doc, md_levels)


def _relevel(doc: ParsedDocument, md_levels: list[int]) -> ParsedDocument:
    has_preamble = len(doc.sections) > len(md_levels)
    base = min(md_levels)
    levels = ([1] if has_preamble else []) + [lvl - base + 1 for lvl in md_levels]
    stack: list[tuple[int, str]] = []
    out: list[Section] = []
    for section, level in zip(doc.sections, levels, strict=True):
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, section.heading))
        out.append(
            Section(
                number=section.number,
                title=section.title,
                level=level,
                path=tuple(lbl for _, lbl in stack),
                paragraphs=section.paragraphs,
                footnotes=section.footnotes,
            )
        )
    return ParsedDocument(info=doc.info, sections=tuple(out), text=doc.text, footnotes=doc.footnotes)
