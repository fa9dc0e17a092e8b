"""Lexical search: BM25 over the same chunks as the vector store, with Dutch stemming and stop words."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

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


def corpus_key(chunks: Sequence[Chunk]) -> str:
    """A digest of exactly what the lexical index is built from, in order: a saved index is only used for
    the same chunks."""
    digest = hashlib.sha256()
    for c in chunks:
        for part in (c.id, c.embed_text):
            digest.update(part.encode())
            digest.update(b"\0")
    return digest.hexdigest()


class LexicalIndex:
    """BM25 over chunk texts with their section path (a footnote is a chunk of its own), rebuilt when the
    chunks change."""

    def __init__(self, chunks: Sequence[Chunk], *, _state: tuple[bm25s.BM25, dict[str, int]] | None = None) -> None:
        self.chunks = list(chunks)
        if _state is not None:
            self._bm25, self._doc_freq = _state
            return
        self._bm25 = bm25s.BM25()
        corpus = [terms(c.embed_text) or ["<empty>"] for c in self.chunks]
        self._doc_freq = {}
        for doc_terms in corpus:
            for t in set(doc_terms):
                self._doc_freq[t] = self._doc_freq.get(t, 0) + 1
        if corpus:
            self._bm25.index(corpus, show_progress=False)

    def save(self, folder: Path) -> None:
        """Write the index into `folder` (bm25s' own format plus the document frequencies)."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.chunks:
            self._bm25.save(str(folder / "bm25"), show_progress=False)
        meta = {"corpus": corpus_key(self.chunks), "chunks": len(self.chunks), "doc_freq": self._doc_freq}
        (folder / "lexical.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, chunks: Sequence[Chunk]) -> LexicalIndex | None:
        """The index saved in `folder`, or None when it was built from other chunks than `chunks`.

        A damaged folder raises (OSError, ValueError, KeyError): the caller rebuilds."""
        meta = json.loads((folder / "lexical.json").read_text(encoding="utf-8"))
        if meta["corpus"] != corpus_key(chunks) or int(meta["chunks"]) != len(chunks):
            return None
        doc_freq = {str(t): int(n) for t, n in dict(meta["doc_freq"]).items()}
        bm25 = bm25s.BM25.load(str(folder / "bm25"), show_progress=False) if chunks else bm25s.BM25()
        if chunks and int(bm25.scores["num_docs"]) != len(chunks):
            raise ValueError(f"{folder} holds {bm25.scores['num_docs']} documents, expected {len(chunks)}")
        return cls(chunks, _state=(bm25, doc_freq))

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
