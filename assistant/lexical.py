"""Lexical search: BM25 over the same chunks as the vector store, with Dutch stemming and stop words."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN

from index.types import Chunk

_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_STOP = (
    frozenset(STOPWORDS_DUTCH)
    | frozenset(STOPWORDS_EN)
    | frozenset(
        [
            "wordt",
            "worden",
            "werd",
            "werden",
            "zal",
            "zullen",
            "kan",
            "kunnen",
            "moet",
            "moeten",
            "heeft",
            "hebben",
            "had",
            "hadden",
            "is",
            "zijn",
            "was",
            "waren",
            "ook",
            "nog",
            "meer",
            "deze",
            "dit",
            "die",
            "dat",
            "wat",
            "welke",
            "hoe",
            "waarom",
            "wanneer",
            "hoeveel",
            "wie",
            "waar",
            "er",
            "the",
            "what",
            "which",
            "how",
            "why",
            "when",
            "who",
            "where",
            "does",
            "did",
            "do",
            "are",
            "was",
            "were",
            "been",
            "has",
            "have",
            "had",
            "will",
            "would",
            "should",
            "could",
            "can",
        ]
    )
)


def fold(text: str) -> str:
    """Lowercase and strip diacritics (`geïntegreerd` and `geintegreerd` match)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("dutch")


def words(text: str) -> list[str]:
    """Folded word tokens, hyphenated compounds split into their parts as well as kept whole."""
    out: list[str] = []
    for token in _WORD.findall(fold(text)):
        out.append(token)
        if "-" in token:
            out.extend(p for p in token.split("-") if p)
    return out


def terms(text: str) -> list[str]:
    """Index terms: folded, stop words removed, Dutch-stemmed."""
    kept = [w for w in words(text) if w not in _STOP and (len(w) > 1 or w.isdigit())]
    return list(_stemmer().stemWords(kept))


class LexicalIndex:
    """BM25 over chunk texts (with their section path and footnotes), rebuilt when the chunks change."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self.chunks = list(chunks)
        self._bm25 = bm25s.BM25()
        corpus = [terms(f"{c.embed_text}\n{c.notes}") or ["<empty>"] for c in self.chunks]
        self._doc_freq: dict[str, int] = {}
        for doc_terms in corpus:
            for t in set(doc_terms):
                self._doc_freq[t] = self._doc_freq.get(t, 0) + 1
        if corpus:
            self._bm25.index(corpus, show_progress=False)

    def scores(self, query_terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every chunk for the query terms (zeros when nothing matches)."""
        if not self.chunks or not query_terms:
            return np.zeros(len(self.chunks), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(list(query_terms)), dtype=np.float32)

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term (0 for terms no chunk contains)."""
        freq = self._doc_freq.get(term, 0)
        if not freq:
            return 0.0
        n = len(self.chunks)
        return float(np.log(1 + (n - freq + 0.5) / (freq + 0.5)))
