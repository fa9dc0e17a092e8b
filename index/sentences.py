"""Sentence boundaries for Dutch and English policy text, aware of common abbreviations."""

from __future__ import annotations

import re

# Abbreviations after which a full stop does not end a sentence (lowercase, without the final dot).
_ABBREVIATIONS = frozenset(
    [
        "bijv",
        "bv",
        "nr",
        "nrs",
        "blz",
        "art",
        "artt",
        "o.a",
        "e.d",
        "enz",
        "d.w.z",
        "m.a.w",
        "i.e",
        "e.g",
        "etc",
        "vgl",
        "zgn",
        "z.g",
        "ca",
        "resp",
        "jl",
        "mr",
        "dr",
        "prof",
        "mevr",
        "dhr",
        "st",
        "no",
        "vol",
        "par",
        "lid",
        "al",
        "incl",
        "excl",
        "fig",
        "p",
        "pp",
        "cf",
        "jr",
        "sr",
        "e.a",
        "n.v.t",
        "v.w.b",
        "t.a.v",
        "m.b.t",
        "i.p.v",
    ]
)
_BOUNDARY = re.compile(r"(?<=[.!?…])[”’\"')\]]*\s+(?=[\"“‘(\[]?[A-ZÀ-ÝĲ0-9])")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return (start, end) character spans of the sentences in `text`, in order, covering all of it."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        before = text[start : m.start()]
        last_word = before.rsplit(None, 1)[-1] if before.split() else ""
        token = last_word.rstrip(".!?…”’\"')]").lower()
        if token in _ABBREVIATIONS or re.fullmatch(r"[a-z]", token) or re.fullmatch(r"\d{1,2}", token):
            continue  # `nr. 5`, `blz. 2`, initials, `punt 2. Dit` is rare enough to accept
        spans.append((start, _trim_end(text, start, m.end())))
        start = m.end()
    if start < len(text) and text[start:].strip():
        spans.append((start, _trim_end(text, start, len(text))))
    return spans


def _trim_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


# Sentences shorter than this are not answer candidates: shorter fragments are
# headings and list labels ("Inleiding", "a) Solidariteit"), never an answer.
PASSAGE_SENTENCE_MIN_CHARS = 25


def passage_sentences(text: str) -> list[str]:
    """The sentences of a passage that can make an answer, whitespace-normalised, fragments left out.

    These are the texts the extractive answer re-ranks by embedding them, so their vectors are prebuilt too.
    """
    out = []
    for a, b in split_sentences(text):
        sentence = " ".join(text[a:b].split())
        if len(sentence) >= PASSAGE_SENTENCE_MIN_CHARS:
            out.append(sentence)
    return out
