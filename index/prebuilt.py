"""Prebuilt vectors of the bundled corpus, committed next to it, so a fresh machine needs no embedding.

The bundled corpus is the same on every machine, so are its vectors: `corpus/vectors.npz` holds the passage
vectors of every chunk and of every sentence the extractive answer re-ranks. A vector is used only when
its key matches exactly: the embedding model's name, the parser and chunker versions (`VERSIONS` of
`index.pipeline`) and the SHA-256 of the very text that would be embedded. Anything else (a changed
chunker, a user's own documents, another model) is embedded as before, so nothing stale is ever used.
`make vectors` writes the artefact anew.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from index.embed import Embedder
from index.embed_cache import CachingEmbedder
from index.sentences import passage_sentences

log = logging.getLogger(__name__)

ARTEFACT = "vectors.npz"
REGENERATE = "make vectors"  # the one command that writes the artefact (`policy-assistant index --write-prebuilt`)
_FORMAT = 1
# 128 bits of SHA-256 name a text: no collision among a corpus' few thousand texts, half the bytes of the whole.
_KEY_BYTES = 16
_BATCH = 16


def text_key(text: str) -> bytes:
    """The content key of a text to embed."""
    return hashlib.sha256(text.encode()).digest()[:_KEY_BYTES]


class PrebuiltVectors:
    """Passage vectors of one model for one parser/chunker version, looked up by the text's hash."""

    def __init__(self, model: str, versions: str, keys: np.ndarray, vectors: np.ndarray) -> None:
        if len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} keys for {len(vectors)} vectors")
        self.model = model
        self.versions = versions
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.vectors.setflags(write=False)
        self._rows = {bytes(k): i for i, k in enumerate(np.asarray(keys, dtype=np.uint8).reshape(len(keys), -1))}
        # Identifies the content, so a cache seeded from it once need not be seeded again.
        self.digest = hashlib.sha256(
            model.encode() + versions.encode() + b"".join(sorted(self._rows)) + self.vectors.tobytes()
        ).hexdigest()[:16]

    def __len__(self) -> int:
        return len(self._rows)

    def keys(self) -> set[bytes]:
        return set(self._rows)

    def matches(self, model: str, versions: str) -> bool:
        """Whether these vectors are those of `model` for texts made by parser and chunker `versions`."""
        return model == self.model and versions == self.versions

    def lookup(self, texts: Sequence[str], *, model: str, versions: str) -> list[np.ndarray | None]:
        """The prebuilt passage vector of each text, or None where the key does not match exactly."""
        if not self.matches(model, versions):
            return [None] * len(texts)
        rows = (self._rows.get(text_key(t)) for t in texts)
        return [self.vectors[r] if r is not None else None for r in rows]

    def seed(self, cache: CachingEmbedder, passages: Iterable[str], *, versions: str) -> int:
        """Put the prebuilt vectors of the passages' sentences into `cache`, as if the model had embedded them.

        `passages` are chunk texts (not their embedded texts): their sentences are what the extractive answer
        re-ranks. Returns how many vectors were added; a cache already seeded from these vectors is left alone.
        """
        if not self.matches(cache.name, versions):
            return 0
        tag = f"prebuilt:{self.digest}"
        if cache.seeded(tag):
            return 0
        sentences = list(dict.fromkeys(s for text in passages for s in passage_sentences(text)))
        found = self.lookup(sentences, model=cache.name, versions=versions)
        vectors = {s: v for s, v in zip(sentences, found, strict=True) if v is not None}
        cache.seed(vectors, query=False, tag=tag)
        return len(vectors)

    # -- the artefact

    @classmethod
    def load(cls, corpus_dir: Path) -> PrebuiltVectors | None:
        """The artefact of `corpus_dir`, or None when it has none (or an unreadable one: then all is embedded)."""
        path = corpus_dir / ARTEFACT
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                if meta.get("format") != _FORMAT:
                    raise ValueError(f"format {meta.get('format')!r}, expected {_FORMAT}")
                return cls(meta["model"], meta["versions"], data["keys"], data["vectors"])
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning(
                "ignoring the prebuilt vectors in %s (%s): everything is embedded; run `%s`", path, err, REGENERATE
            )
            return None

    def save(self, corpus_dir: Path) -> Path:
        """Write the artefact into `corpus_dir` (float32: exactly what the model returned)."""
        path = corpus_dir / ARTEFACT
        keys = np.frombuffer(b"".join(self._rows), dtype=np.uint8).reshape(len(self._rows), _KEY_BYTES)
        order = list(self._rows.values())
        meta = {"format": _FORMAT, "model": self.model, "versions": self.versions, "vectors": len(self)}
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, meta=np.array(json.dumps(meta)), keys=keys, vectors=self.vectors[order])
        tmp.replace(path)
        return path

    @classmethod
    def build(cls, texts: Iterable[str], embedder: Embedder, *, versions: str) -> PrebuiltVectors:
        """Embed `texts` (chunks' embedded texts and sentences alike) as passages, each distinct text once."""
        unique = list(dict.fromkeys(texts))
        parts = [embedder.embed(unique[i : i + _BATCH], query=False) for i in range(0, len(unique), _BATCH)]
        vectors = np.concatenate(parts) if parts else np.zeros((0, embedder.dimension), dtype=np.float32)
        keys = np.frombuffer(b"".join(text_key(t) for t in unique), dtype=np.uint8).reshape(len(unique), _KEY_BYTES)
        return cls(embedder.name, versions, keys, vectors)
