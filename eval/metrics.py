"""Scoring functions for the evaluation: retrieval hits, key facts, citations, refusals."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_TOKEN = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    """Lowercase, strip diacritics and punctuation, collapse whitespace."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_TOKEN.findall(plain))


def evidence_in(evidence: str, text: str) -> bool:
    """True when `text` holds the evidence, or at least half of its words in one run.

    Tolerant of whitespace, punctuation, hyphenation and footnote markers (digits glued to words are
    compared both with and without a trailing marker), and of chunk boundaries (the half-run rule).
    """
    ev = normalise(evidence).split()
    if not ev:
        return False
    hay = " " + normalise(text) + " "
    hay_unmarked = " " + re.sub(r"(?<=[^\W\d_])\d{1,3}\b", "", normalise(text)) + " "
    need = max(1, (len(ev) + 1) // 2)
    for size in (len(ev), need):
        for start in range(0, len(ev) - size + 1):
            window = " " + " ".join(ev[start : start + size]) + " "
            if window in hay or window in hay_unmarked:
                return True
    return False


def first_hit_rank(evidence: Sequence[str], texts: Sequence[str]) -> int | None:
    """1-based rank at which every evidence quote has been found in `texts` (None if never)."""
    if not evidence:
        return None
    ranks = []
    for quote in evidence:
        rank = next((i + 1 for i, t in enumerate(texts) if evidence_in(quote, t)), None)
        if rank is None:
            return None
        ranks.append(rank)
    return max(ranks)
