"""Checking an answer's citations against its sources.

Every `[n]` marker must point at a numbered source; markers that point nowhere are removed. A sentence that
states a number or a name found in none of the sources it cites is flagged. An answer left with no valid
citation is unverified.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.lexical import fold
from assistant.types import Source
from index.sentences import split_sentences

MARKER = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
_NUMBER = re.compile(r"\d+(?:[ .,\u00a0]\d{3})*(?:[.,]\d+)?")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b(?:[A-Z][a-z]+(?:-[A-Z][a-z]+)*|[A-Z]{2,}[a-z]?)\b")
# Words capitalised for reasons other than being a name of something the sources must contain.
_NOT_NAMES = frozenset(
    [
        "EU",
        "The",
        "This",
        "That",
        "These",
        "Those",
        "It",
        "In",
        "On",
        "At",
        "For",
        "According",
        "Dutch",
        "English",
        "Quote",
        "Quotes",
        "Citaat",
        "Volgens",
        "De",
        "Het",
        "Een",
        "Dit",
        "Dat",
        "Deze",
        "Die",
        "Er",
        "In",
        "Op",
        "Voor",
        "Met",
        "Sources",
        "Bronnen",
        "Commission",
        "Commissie",
        "Member",
        "States",
        "Lidstaten",
        "I",
        "NB",
        "Also",
        "Ook",
        "However",
        "Echter",
    ]
)


@dataclass(frozen=True)
class Checked:
    """An answer after its citations were checked."""

    text: str  # markers that point nowhere removed
    cited: tuple[int, ...]  # valid source numbers, in order of first use
    removed: tuple[str, ...]  # markers removed
    flagged: tuple[str, ...]  # sentences with a number or name found in no cited source

    @property
    def verified(self) -> bool:
        return bool(self.cited)


def _digits(number: str) -> str:
    """`38 000`, `38.000` and `38,000` all become `38000`; `4,7` stays `4,7` -> `4.7`."""
    n = number.replace("\u00a0", " ")
    if re.fullmatch(r"\d{1,3}(?:[ .,]\d{3})+", n):
        return re.sub(r"[ .,]", "", n)
    return n.replace(",", ".").replace(" ", "")


def numbers_in(text: str) -> set[str]:
    return {_digits(m.group(0).strip()) for m in _NUMBER.finditer(text)}


def check(answer: str, sources: Sequence[Source], translate: bool = False) -> Checked:
    """Check every marker of `answer` against `sources` (numbered `Source.n`)."""
    valid = {s.n for s in sources}
    by_n = {s.n: s for s in sources}
    removed: list[str] = []
    cited: list[int] = []

    def keep(match: re.Match[str]) -> str:
        numbers = [int(x) for x in re.split(r"\s*[,;]\s*", match.group(1))]
        good = [n for n in numbers if n in valid]
        if len(good) < len(numbers):
            removed.append(match.group(0))
        for n in good:
            if n not in cited:
                cited.append(n)
        return "".join(f"[{n}]" for n in good)

    text = MARKER.sub(keep, answer)
    text = re.sub(r"[ \t]+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()

    flagged: list[str] = []
    for sentence in _sentences(text):
        markers = [int(x) for m in MARKER.finditer(sentence) for x in re.split(r"\s*[,;]\s*", m.group(1))]
        pool = [by_n[n].text for n in markers if n in by_n] or [s.text for s in sources]
        haystack = fold(" ".join(pool))
        body = MARKER.sub("", sentence)
        missing = [num for num in numbers_in(body) if num not in numbers_in(" ".join(pool))]
        names = [w for w in _NAME.findall(body) if w not in _NOT_NAMES]
        missing += [w for w in names if fold(w) not in haystack and not (translate and _translated_in(w, haystack))]
        if missing:
            flagged.append(sentence.strip())
    return Checked(text=text, cited=tuple(cited), removed=tuple(removed), flagged=tuple(flagged))


def _translated_in(word: str, haystack: str) -> bool:
    """An English name may appear in the Dutch sources in its Dutch form (Ukraine -> Oekraïne)."""
    from assistant.glossary import expand_english

    return any(fold(t) in haystack for t in expand_english(word))


_LEADING_MARKERS = re.compile(r"^(?:\s*\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\])+")


def _sentences(text: str) -> list[str]:
    """The answer's sentences, each with the markers that follow it ("… zin. [1]" as well as "… zin [1].").
    The splitter knows abbreviations and numbers (o.a., 38.000, 1.28), so a full stop inside them does not
    end the sentence."""
    out: list[str] = []
    for a, b in split_sentences(text):
        sentence = text[a:b]
        lead = _LEADING_MARKERS.match(sentence)
        if lead and out:
            out[-1] += lead.group(0)
            sentence = sentence[lead.end() :]
        if sentence.strip():
            out.append(sentence)
    return out


def strip_markers(text: str) -> str:
    return re.sub(r"\s{2,}", " ", MARKER.sub("", text)).strip()
