"""Hybrid retrieval: dense (Chroma) and lexical (BM25) rankings fused by weighted reciprocal rank fusion.

Dense retrieval carries English questions over Dutch text (the e5 model is multilingual); BM25 carries exact
Dutch terms, names and numbers. Their weights depend on the question's language: an English question's
BM25 ranking comes from a glossary translation of its terms and counts for less. Results can be limited to
documents and years, diversified across documents, and widened with neighbouring chunks of a section.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.glossary import translate_terms
from assistant.lexical import LexicalIndex, fold, terms
from assistant.types import Language
from index.embed import Embedder
from index.errors import StoreError
from index.store import IndexStore
from index.types import Chunk, DocumentInfo, Hit

EXACT_SEARCH_LIMIT = 50_000  # chunks; above this the dense candidates come from Chroma's ANN index


@dataclass(frozen=True)
class RetrievalConfig:
    dense_k: int = 40  # candidates taken from each ranking before fusion
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight_nl: float = 1.0
    lexical_weight_en: float = 0.3
    mention_weight: float = 0.5  # rankings within the documents the question names ("volgens het pact")
    decompose: bool = True  # a question naming several documents is searched in each of them


@dataclass(frozen=True)
class Retrieved:
    """A fused hit with the evidence behind its rank."""

    chunk: Chunk
    score: float  # fused score
    dense: float  # cosine similarity to the question (0 when not among dense candidates)
    lexical: float  # BM25 score (0 when no term matched)


class Retriever:
    """Finds the chunks that best answer a question, keeping its lexical index in sync with the store."""

    def __init__(
        self,
        store: IndexStore,
        embedder: Embedder,
        config: RetrievalConfig | None = None,
        documents: Sequence[DocumentInfo] = (),
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        self._aliases = {d.id: tuple(fold(a) for a in d.aliases) for d in documents}
        self._lock = threading.Lock()
        self._generation: str | None = None
        self._lexical: LexicalIndex | None = None
        self._positions: dict[str, int] = {}
        self._names: dict[str, tuple[re.Pattern[str], int | None]] = {}

    def lexical(self) -> LexicalIndex:
        """The BM25 index of the active generation (rebuilt when an index run switched generations)."""
        return self._snapshot()[0]

    def _snapshot(self) -> tuple[LexicalIndex, dict[str, int]]:
        """The BM25 index and the chunk positions of one generation, taken together: a request keeps using
        them even when an index run switches generations meanwhile."""
        generation = self.store.active_generation()
        with self._lock:
            if self._lexical is None or generation != self._generation:
                chunks = self.store.chunks()
                self._lexical = LexicalIndex(chunks)
                self._positions = {c.id: i for i, c in enumerate(chunks)}
                self._names = self._document_names(chunks)
                self._generation = generation
            return self._lexical, self._positions

    def mentioned_documents(self, question: str, *, years: bool = False) -> set[str]:
        """Documents the question names by one of their aliases or their short title; with `years`, also
        the documents whose year it mentions."""
        self.lexical()
        folded = f" {fold(question)} "
        found = set()
        for doc_id, (pattern, year) in self._names.items():
            if pattern.search(folded) or (years and year and re.search(rf"(?<!\d){year}(?!\d)", folded)):
                found.add(doc_id)
        return found

    def _document_names(self, chunks: Sequence[Chunk]) -> dict[str, tuple[re.Pattern[str], int | None]]:
        names: dict[str, tuple[re.Pattern[str], int | None]] = {}
        for chunk in chunks:
            if chunk.doc_id in names:
                continue
            options = [n for n in self._aliases.get(chunk.doc_id, ()) + (fold(chunk.doc_short_title),) if n]
            alternatives = "|".join(re.escape(n) for n in sorted(options, key=len, reverse=True))
            names[chunk.doc_id] = (re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])"), chunk.year)
        return names

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
        lexical, positions = self._snapshot()
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
        mentioned = self.mentioned_documents(question)
        if cfg.decompose and mentioned and not doc_ids:
            # A question that names one document and the year of another ("volgens de strategie ... en in
            # 2022?") spans both; a year alone is too weak a sign.
            spanned = mentioned | self.mentioned_documents(question, years=True)
            if len(spanned) >= 2:
                return self._per_document(question, language, k, sorted(spanned), years, vector)
        dense_rank, dense_score = self._dense(vector, allowed, doc_ids, years, chunks, positions)

        bm25 = lexical.scores(self.query_terms(question, language))
        bm25 = np.where(allowed, bm25, 0.0)
        order = [i for i in np.argsort(-bm25, kind="stable")[: cfg.dense_k] if bm25[i] > 0]
        lexical_rank = {chunks[i].id: r for r, i in enumerate(order)}

        w_lex = cfg.lexical_weight_en if language == "en" else cfg.lexical_weight_nl
        rankings: list[tuple[float, dict[str, int]]] = [(cfg.dense_weight, dense_rank), (w_lex, lexical_rank)]
        if cfg.mention_weight and mentioned and not doc_ids:
            in_docs = np.array([c.doc_id in mentioned for c in chunks]) & allowed
            # Within the named documents: the same dense and lexical evidence, ranked among themselves.
            doc_of = {c.id: c.doc_id for c in chunks}
            dense_in = [cid for cid in dense_rank if doc_of.get(cid) in mentioned]
            rankings.append((cfg.mention_weight * cfg.dense_weight, {cid: r for r, cid in enumerate(dense_in)}))
            lex_in = [
                i
                for i in np.argsort(-np.where(in_docs, bm25, 0.0), kind="stable")[: cfg.dense_k]
                if in_docs[i] and bm25[i] > 0
            ]
            rankings.append((cfg.mention_weight * w_lex, {chunks[i].id: r for r, i in enumerate(lex_in)}))

        fused: dict[str, float] = {}
        for weight, ranking in rankings:
            for cid, r in ranking.items():
                fused[cid] = fused.get(cid, 0.0) + weight / (cfg.rrf_k + r + 1)

        ranked = sorted(fused, key=lambda cid: (-fused[cid], cid))  # ties broken the same way every run
        by_id = {c.id: c for c in chunks}
        results = [
            Retrieved(
                chunk=by_id[cid],
                score=fused[cid],
                dense=dense_score.get(cid, 0.0),
                lexical=float(bm25[positions[cid]]) if cid in positions else 0.0,
            )
            for cid in ranked
            if cid in by_id
        ]
        return results[:k]

    def _dense(
        self,
        vector: np.ndarray,
        allowed: np.ndarray,
        doc_ids: Sequence[str] | None,
        years: Sequence[int] | None,
        chunks: Sequence[Chunk],
        position: dict[str, int],
    ) -> tuple[dict[str, int], dict[str, float]]:
        """Dense candidates: exact cosine over all vectors for an index of ordinary size (deterministic, and
        faster than a query), the Chroma ANN index beyond that. Vectors of another generation than `chunks`
        (an index run switched in between) go through Chroma too."""
        cfg = self.config
        ids, matrix = self.store.vectors() if len(chunks) <= EXACT_SEARCH_LIMIT else ([], None)
        if matrix is not None and len(ids) == len(chunks) and all(cid in position for cid in ids):
            scores = np.full(len(chunks), -np.inf, dtype=np.float32)
            sims = matrix @ np.asarray(vector, dtype=np.float32)
            for cid, sim in zip(ids, sims, strict=True):
                scores[position[cid]] = sim
            scores = np.where(allowed, scores, -np.inf)
            order = [i for i in np.lexsort((np.arange(len(scores)), -scores))[: cfg.dense_k] if allowed[i]]
            return ({chunks[i].id: r for r, i in enumerate(order)}, {chunks[i].id: float(scores[i]) for i in order})
        hits: list[Hit] = self.store.search(vector, k=cfg.dense_k, doc_ids=doc_ids, years=years)
        return {h.chunk.id: r for r, h in enumerate(hits)}, {h.chunk.id: h.score for h in hits}

    def _per_document(
        self,
        question: str,
        language: Language,
        k: int,
        documents: list[str],
        years: Sequence[int] | None,
        vector: np.ndarray,
    ) -> list[Retrieved]:
        """Results of each named document in turn (its best first), so every document is represented."""
        per_doc = [
            self.retrieve(question, language, k=k, doc_ids=[d], years=years, query_vector=vector) for d in documents
        ]
        per_doc = sorted((r for r in per_doc if r), key=lambda r: -r[0].score)
        merged: list[Retrieved] = []
        for rank in range(k):
            for results in per_doc:
                if rank < len(results) and len(merged) < k:
                    merged.append(results[rank])
        return merged

    def neighbours(self, chunk: Chunk) -> list[Chunk]:
        """The parts just before and after `chunk` in the same section (for hits at a chunk edge)."""
        lexical, positions = self._snapshot()
        i = positions.get(chunk.id)
        if i is None:
            return []
        out = []
        for j in (i - 1, i + 1):
            if 0 <= j < len(lexical.chunks):
                other = lexical.chunks[j]
                if other.doc_id == chunk.doc_id and other.section_path == chunk.section_path:
                    out.append(other)
        return out
