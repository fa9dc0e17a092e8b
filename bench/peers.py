"""Peer retrieval systems the project is measured against (`bench/retrieval.py --compare`, issue 13).

Each peer ranks plain texts cut from the same parsed documents the index reads (`index.parse` over the
documents an index run collects), behind one small Protocol, `Ranker.rank(question, language, k)`:

- `BM25Peer`: BM25 alone with Dutch stemming (the project's `terms`), over 512-token windows;
- `DensePeer` over llama-index's default chunks (`SentenceSplitter`: 1024 tokens, 200 overlap), top 5;
- `DensePeer` over 256-token windows.

Windows and chunks are counted in the project's tokens (`index.tokens`); the dense peers use the project's
embedder (its e5 "query: "/"passage: " prefixes included) and keep their passage vectors in a `VectorCache`
file, so only the first run embeds.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import bm25s
import numpy as np

from assistant.lexical import terms
from assistant.types import Language
from index.embed import Embedder
from index.parse import parse
from index.types import RawDocument

Tokenizer = Callable[[str], list[int]]

_WORD_WITH_SPACE = re.compile(r"\s*\S+")

LLAMA_INDEX_CHUNK_TOKENS = 1024  # SentenceSplitter's defaults (llama_index.core 0.14)
LLAMA_INDEX_OVERLAP_TOKENS = 200
SAVE_EVERY = 64  # passages embedded between two writes of a vector cache file


class Ranker(Protocol):
    """A retrieval system: the `k` best texts for a question, best first."""

    def rank(self, question: str, language: Language, k: int) -> list[str]: ...


def document_texts(raws: Sequence[RawDocument]) -> list[str]:
    """Each document's parsed text: headings and body in reading order, its footnotes after the body."""
    return [parse(raw).text for raw in raws]


def token_windows(text: str, count: Callable[[str], int], size: int) -> list[str]:
    """`text` cut into consecutive windows of at most `size` tokens (by `count`), without overlap, on word
    boundaries: a word longer than a window is a window of its own."""
    if size < 1:
        raise ValueError(f"a window needs at least 1 token, got {size}")
    windows: list[str] = []
    current: list[str] = []
    used = 0
    # Each word with the whitespace before it, as the tokenizer sees it inside running text.
    for word in _WORD_WITH_SPACE.findall(text):
        tokens = count(word)
        if current and used + tokens > size:
            windows.append("".join(current).strip())
            current, used = [], 0
        current.append(word)
        used += tokens
    if current:
        windows.append("".join(current).strip())
    return [w for w in windows if w]


def llama_index_chunks(text: str, tokenizer: Tokenizer) -> list[str]:
    """`text` split as llama-index does by default (`SentenceSplitter()`), with our tokenizer passed in
    rather than taken from llama-index's global settings."""
    from llama_index.core.node_parser import SentenceSplitter  # ~1.5 s to import: only the compare pays

    splitter = SentenceSplitter(
        chunk_size=LLAMA_INDEX_CHUNK_TOKENS, chunk_overlap=LLAMA_INDEX_OVERLAP_TOKENS, tokenizer=tokenizer
    )
    return [c for c in splitter.split_text(text) if c.strip()]


class BM25Peer:
    """BM25 over the texts, Dutch-stemmed with the project's `terms`; the question's language is ignored."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = list(texts)
        self._bm25 = bm25s.BM25()
        if self.texts:
            self._bm25.index([terms(t) or ["<empty>"] for t in self.texts], show_progress=False)

    def rank(self, question: str, language: Language, k: int) -> list[str]:
        query = terms(question)
        if not self.texts or not query:
            return []
        scores = np.asarray(self._bm25.get_scores(query), dtype=np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        return [self.texts[i] for i in order if scores[i] > 0]


class VectorCache:
    """Passage vectors of one embedder and granularity in one .npz file, keyed by the sha256 of each text."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._vectors: dict[str, np.ndarray] = {}
        if path.is_file():
            with np.load(path) as data:
                self._vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        self.embedded = 0  # texts embedded by this process

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    def vectors(self, texts: Sequence[str], embedder: Embedder) -> np.ndarray:
        """The passage vector of every text, embedding (and saving) only those not in the file yet."""
        keys = [self.key(t) for t in texts]
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._vectors}
        pending = list(todo.items())
        # Saved batch by batch: an interrupted first run keeps what it embedded.
        for start in range(0, len(pending), SAVE_EVERY):
            batch = pending[start : start + SAVE_EVERY]
            fresh = embedder.embed([text for _, text in batch], query=False)
            self._vectors.update(zip((key for key, _ in batch), fresh, strict=True))
            self.embedded += len(batch)
            self._save()
        if not keys:
            return np.zeros((0, embedder.dimension), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys]).astype(np.float32)

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Written next to the target and renamed: an interrupted run never leaves half a file behind.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.stem}.", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as out:
                np.savez(out, keys=np.array(list(self._vectors)), vectors=np.stack(list(self._vectors.values())))
            os.replace(tmp, self.path)
        finally:
            Path(tmp).unlink(missing_ok=True)


def cache_path(cache_dir: Path, model: str, granularity: str) -> Path:
    """`<cache_dir>/bench-peers/<model>-<granularity>.npz`, the model name made safe for a file name."""
    safe = re.sub(r"[^\w.-]+", "_", model)
    return cache_dir / "bench-peers" / f"{safe}-{granularity}.npz"


class DensePeer:
    """Dense search alone: the texts' passage vectors against the question's query vector, exact cosine."""

    def __init__(self, texts: Sequence[str], embedder: Embedder, cache: VectorCache | None = None) -> None:
        self.texts = list(texts)
        self.embedder = embedder
        self._vectors = (
            cache.vectors(self.texts, embedder) if cache else embedder.embed(self.texts, query=False)
        ).astype(np.float32)

    def rank(self, question: str, language: Language, k: int) -> list[str]:
        if not self.texts:
            return []
        query = self.embedder.embed([question], query=True)[0]
        order = np.argsort(-(self._vectors @ query), kind="stable")[:k]
        return [self.texts[i] for i in order]
