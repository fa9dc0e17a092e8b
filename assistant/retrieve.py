"""Hybrid retrieval: dense (Chroma) and lexical (BM25) rankings fused by weighted reciprocal rank fusion.

Dense retrieval carries English questions over Dutch text (the e5 model is multilingual); BM25 carries exact
Dutch terms, names and numbers. Their weights depend on the question's language: an English question's
BM25 ranking comes from a glossary translation of its terms and counts for less. Results can be limited to
documents and years, diversified across documents, and widened with neighbouring chunks of a section.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.glossary import translate_terms
from assistant.lexical import LexicalIndex, terms
from assistant.types import Language
from index.embed import Embedder
from index.errors import StoreError
from index.store import IndexStore
from index.types import Chunk, Hit


@dataclass(frozen=True)
class RetrievalConfig:
    dense_k: int = 40  # candidates taken from each ranking before fusion
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight_nl: float = 1.0
    lexical_weight_en: float = 0.5
    max_per_document: int = 3  # of the top k, at most this many from one document (0: no limit)


@dataclass(frozen=True)
class Retrieved:
    """A fused hit with the evidence behind its rank."""

    chunk: Chunk
    score: float  # fused score
    dense: float  # cosine similarity to the question (0 when not among dense candidates)
    lexical: float  # BM25 score (0 when no term matched)


class Retriever:
    """Finds the chunks that best answer a question, keeping its lexical index in sync with the store."""

    def __init__(self, store: IndexStore, embedder: Embedder, config: RetrievalConfig | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        self._lock = threading.Lock()
        self._generation: str | None = None
        self._lexical: LexicalIndex | None = None
        self._positions: dict[str, int] = {}

    def lexical(self) -> LexicalIndex:
        """The BM25 index of the active generation (rebuilt when an index run switched generations)."""
        generation = self.store.active_name()
        with self._lock:
            if self._lexical is None or generation != self._generation:
                chunks = self.store.chunks()
                self._lexical = LexicalIndex(chunks)
                self._positions = {c.id: i for i, c in enumerate(chunks)}
                self._generation = generation
            return self._lexical

    def query_terms(self, question: str, language: Language) -> list[str]:
        if language == "en":
            return terms(f"{translate_terms(question)} {question}")
        return terms(question)

    def retrieve(
        self,
        question: str,
        language: Language,
        k: int = 5,
        doc_ids: Sequence[str] | None = None,
        years: Sequence[int] | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[Retrieved]:
        cfg = self.config
        lexical = self.lexical()
        chunks = lexical.chunks
        if not chunks:
            raise StoreError("the index is empty: run `policy-assistant index` first")
        allowed = np.ones(len(chunks), dtype=bool)
        if doc_ids:
            allowed &= np.array([c.doc_id in set(doc_ids) for c in chunks])
        if years:
            allowed &= np.array([c.year in set(years) for c in chunks])
        if not allowed.any():
            return []

        vector = query_vector if query_vector is not None else self.embedder.embed([question], query=True)[0]
        dense_hits: list[Hit] = self.store.search(vector, k=cfg.dense_k, doc_ids=doc_ids, years=years)
        dense_rank = {h.chunk.id: r for r, h in enumerate(dense_hits)}
        dense_score = {h.chunk.id: h.score for h in dense_hits}

        bm25 = lexical.scores(self.query_terms(question, language))
        bm25 = np.where(allowed, bm25, 0.0)
        order = [i for i in np.argsort(-bm25, kind="stable")[: cfg.dense_k] if bm25[i] > 0]
        lexical_rank = {chunks[i].id: r for r, i in enumerate(order)}

        w_lex = cfg.lexical_weight_en if language == "en" else cfg.lexical_weight_nl
        fused: dict[str, float] = {}
        for cid, r in dense_rank.items():
            fused[cid] = fused.get(cid, 0.0) + cfg.dense_weight / (cfg.rrf_k + r + 1)
        for cid, r in lexical_rank.items():
            fused[cid] = fused.get(cid, 0.0) + w_lex / (cfg.rrf_k + r + 1)

        ranked = sorted(fused, key=lambda cid: -fused[cid])
        by_id = {c.id: c for c in chunks}
        results = [
            Retrieved(
                chunk=by_id[cid],
                score=fused[cid],
                dense=dense_score.get(cid, 0.0),
                lexical=float(bm25[self._positions[cid]]) if cid in self._positions else 0.0,
            )
            for cid in ranked
            if cid in by_id
        ]
        return _diversify(results, k, cfg.max_per_document)

    def neighbours(self, chunk: Chunk) -> list[Chunk]:
        """The parts just before and after `chunk` in the same section (for hits at a chunk edge)."""
        lexical = self.lexical()
        i = self._positions.get(chunk.id)
        if i is None:
            return []
        out = []
        for j in (i - 1, i + 1):
            if 0 <= j < len(lexical.chunks):
                other = lexical.chunks[j]
                if other.doc_id == chunk.doc_id and other.section_path == chunk.section_path:
                    out.append(other)
        return out


def _diversify(results: list[Retrieved], k: int, max_per_document: int) -> list[Retrieved]:
    """Top k with at most `max_per_document` from one document, while other documents have candidates."""
    if not max_per_document:
        return results[:k]
    picked: list[Retrieved] = []
    held: list[Retrieved] = []
    counts: dict[str, int] = {}
    for r in results:
        if len(picked) == k:
            break
        if counts.get(r.chunk.doc_id, 0) >= max_per_document:
            held.append(r)
            continue
        picked.append(r)
        counts[r.chunk.doc_id] = counts.get(r.chunk.doc_id, 0) + 1
    for r in held:  # too few other documents: fill up in rank order
        if len(picked) == k:
            break
        picked.append(r)
    return sorted(picked, key=lambda r: -r.score)
