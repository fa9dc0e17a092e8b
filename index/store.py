"""The vector store: chunks and their vectors in Chroma, one collection per embedding model.

Chroma is reached through llama-index's `ChromaVectorStore` for adding and querying nodes; everything
that leaves this module is our own `Chunk`/`Hit`. An index run builds a new collection ("generation")
and only then points the registry at it, so an interrupted run leaves the previous index in use and a
reader never sees a half-built one.

Each generation's chunks and vectors are also saved as plain files (written by the run that builds it),
and a small pointer file names the active generation (`index/pointer.py`): a reader whose pointer Chroma's
own file confirms reads those files and never imports chromadb; anything else asks Chroma as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from errors import StoreError
from index.pointer import Pointer, chroma_registry, read_pointer, remove_pointer, write_pointer
from index.types import Chunk, Hit

log = logging.getLogger(__name__)

REGISTRY = "policy-assistant-registry"
# Chunks up to which dense search compares every vector (exact, deterministic); beyond, Chroma's HNSW index.
# Exact search at the corpus' 713 chunks: the same result every run, and all of retrieval p50 19 ms (commit
# 9a2bd85); the limit bounds its memory: 50,000 × 384 float32 is 77 MB.
EXACT_SEARCH_LIMIT = 50_000
_ADD_BATCH = 256
# Whether this process has opened Chroma. Its SQLite file is then never read directly (index/pointer.py):
# two SQLite libraries in one process on one file undo each other's POSIX locks
# (https://www.sqlite.org/howtocorrupt.html, 2.2.1), so such a process asks Chroma, as before the pointer.
_chroma_opened = False


@dataclass(frozen=True)
class DocumentStats:
    doc_id: str
    title: str
    year: int | None
    sections: int
    chunks: int
    tokens: int


@dataclass(frozen=True)
class IndexStatus:
    collection: str | None
    model: str
    documents: int
    chunks: int
    indexed_at: float | None
    versions: str


@dataclass(frozen=True)
class SavedInputs:
    """What the active generation was built from, as the index run that built it recorded it."""

    generation: str
    fingerprint: str
    documents: list[dict[str, Any]]
    chunks: int
    sources: tuple[str, ...] = ()  # the remembered user sources the registry holds with it


@dataclass(frozen=True)
class SyncReport:
    collection: str
    chunks: int
    embedded: int
    reused: int
    removed_documents: tuple[str, ...]
    changed: bool


def open_client(data_dir: Path, host: str | None = None, port: int = 8000) -> Any:
    """A Chroma client: on disk under `data_dir/chroma`, or a Chroma server when `host` is set."""
    global _chroma_opened
    _chroma_opened = True
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if host:
            client = chromadb.HttpClient(host=host, port=port, settings=settings)
            client.heartbeat()
            return client
        path = data_dir / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=settings)
    except Exception as err:  # chromadb raises a variety of connection and file errors
        where = f"the Chroma server at {host}:{port}" if host else f"the Chroma store in {data_dir / 'chroma'}"
        hint = (
            "start it (`chroma run --host 127.0.0.1 --port N`) or unset ASSISTANT_CHROMA_HOST"
            if host
            else ("check that the data directory is writable (ASSISTANT_DATA_DIR)")
        )
        raise StoreError(f"cannot open {where}: {err}; {hint}") from err


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "model"


def _model_key(name: str) -> str:
    """A short, collision-free name for a model: readable slug plus a hash of the full name."""
    return f"{_slug(name)[:30]}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def _fingerprint(chunk: Chunk) -> str:
    """Everything stored for a chunk; a change in any of it (also the document's year or title) re-indexes."""
    payload = json.dumps(_chunk_metadata(chunk), sort_keys=True, ensure_ascii=False) + chunk.id + chunk.text
    return hashlib.sha1(payload.encode()).hexdigest()


def _chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    return {
        "doc_id": chunk.doc_id,
        "doc_title": chunk.doc_title,
        "doc_short_title": chunk.doc_short_title,
        "year": chunk.year if chunk.year is not None else -1,
        "section_number": chunk.section_number or "",
        "section_title": chunk.section_title,
        "section_path": chunk.section_path,
        "paragraph_start": chunk.paragraph_start,
        "paragraph_end": chunk.paragraph_end,
        "char_start": chunk.char_start,
        "char_end": chunk.char_end,
        "token_count": chunk.token_count,
        "content_hash": chunk.content_hash,
        "page": chunk.page if chunk.page is not None else -1,
        "footnotes": ",".join(str(n) for n in chunk.footnotes),
        "notes": chunk.notes,
        "part": chunk.part,
        "parts": chunk.parts,
        "embed_text": chunk.embed_text,
        "footnote": chunk.footnote if chunk.footnote is not None else -1,
        "context": chunk.context,
    }


def _chunk_from(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    year = int(meta.get("year", -1))
    page = int(meta.get("page", -1))
    footnotes = tuple(int(n) for n in str(meta.get("footnotes", "")).split(",") if n)
    return Chunk(
        id=chunk_id,
        doc_id=str(meta["doc_id"]),
        doc_title=str(meta["doc_title"]),
        doc_short_title=str(meta["doc_short_title"]),
        year=year if year >= 0 else None,
        section_number=str(meta["section_number"]) or None,
        section_title=str(meta["section_title"]),
        section_path=str(meta["section_path"]),
        paragraph_start=int(meta["paragraph_start"]),
        paragraph_end=int(meta["paragraph_end"]),
        char_start=int(meta["char_start"]),
        char_end=int(meta["char_end"]),
        text=text,
        token_count=int(meta["token_count"]),
        content_hash=str(meta["content_hash"]),
        notes=str(meta.get("notes", "")),
        page=page if page >= 0 else None,
        footnotes=footnotes,
        part=int(meta.get("part", 0)),
        parts=int(meta.get("parts", 1)),
        embed_text=str(meta.get("embed_text", "")),
        footnote=footnote if (footnote := int(meta.get("footnote", -1))) >= 0 else None,
        context=str(meta.get("context", "")),
    )


@dataclass(frozen=True)
class _Generation:
    """An index generation as readers see it; its saved copies carry its `stamp`."""

    name: str
    created: float
    count: int
    versions: str

    @classmethod
    def of(cls, collection: Any) -> _Generation:
        meta = collection.metadata or {}
        return cls(collection.name, float(meta.get("created", 0)), collection.count(), str(meta.get("versions", "")))

    @property
    def stamp(self) -> dict[str, Any]:
        return {"generation": self.name, "created": self.created, "count": self.count}


def _reading_order(chunk: Chunk) -> tuple[str, int, int]:
    return (chunk.doc_id, chunk.char_start, chunk.part)


def _chunks_of(got: dict[str, Any]) -> list[Chunk]:
    """Our chunks from the answer of a Chroma `get` (documents and metadatas), in reading order."""
    chunks = [
        _chunk_from(i, d or "", m or {}) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    ]
    chunks.sort(key=_reading_order)
    return chunks


def _vectors_of(got: dict[str, Any]) -> tuple[list[str], np.ndarray]:
    """Ids and vectors from the answer of a Chroma `get` (embeddings)."""
    ids = list(got["ids"])
    return ids, np.asarray(got["embeddings"], dtype=np.float32).reshape(len(ids), -1)


def _check_saved(saved: dict[str, Any], generation: _Generation) -> None:
    stamp = generation.stamp
    found = {k: saved.get(k) for k in stamp}
    if found != stamp:
        raise ValueError(f"it belongs to {found}, not {stamp}")


def _write_chunks(file: Any, generation: _Generation, chunks: list[Chunk]) -> None:
    payload = {
        **generation.stamp,
        "chunks": [{"id": c.id, "text": c.text, "meta": _chunk_metadata(c)} for c in chunks],
    }
    file.write(json.dumps(payload, ensure_ascii=False).encode())


def _write_vectors(file: Any, generation: _Generation, ids: list[str], matrix: np.ndarray) -> None:
    np.savez(file, meta=np.array(json.dumps(generation.stamp)), ids=np.array(ids), vectors=matrix)


class IndexStore:
    """Chunks of one embedding model in Chroma, with atomic switching between index generations.

    With a `cache_dir` and an on-disk Chroma (`chroma_dir`), readers learn the active generation from the
    index pointer (`index/pointer.py`) and read its chunks and vectors from the generation's saved copy, so
    answering a question or finding that `index` has nothing to do needs no Chroma. The Chroma client is
    opened on first need: writes, a missing or stale pointer or copy, approximate search.
    """

    def __init__(
        self,
        client: Any | None,
        model: str,
        versions: str,
        cache_dir: Path | None = None,
        *,
        connect: Callable[[], Any] | None = None,
        chroma_dir: Path | None = None,
    ) -> None:
        """`client`: a Chroma client, or None and `connect` opens one when first needed. `cache_dir`: where
        each generation's chunks, vectors and the pointer are kept, so a new process reads one file instead
        of the whole collection (None: read from Chroma every time). `chroma_dir`: the folder of the
        on-disk Chroma (None for a Chroma server, which only Chroma itself can be asked about)."""
        if client is None and connect is None:
            raise ValueError("IndexStore needs a Chroma client or `connect` to open one")
        self._client = client
        self._connect = connect
        self.cache_dir = cache_dir
        self.chroma_dir = chroma_dir
        self.model = model
        self.versions = versions  # parser/chunker versions; a change forces re-embedding nothing, but a rebuild
        self._key = f"active__{_model_key(model)}"
        self._inputs_key = f"inputs__{_model_key(model)}"
        # The registry entries this model's pointer mirrors ("sources" is shared by every model).
        self._registry_keys = (self._key, self._inputs_key, "sources")
        self._cache: tuple[str, list[Chunk]] | None = None
        self._current: tuple[float, _Generation | None] | None = None
        self._vectors: tuple[str, list[str], np.ndarray] | None = None
        self.refresh_seconds = 1.0

    @property
    def client(self) -> Any:
        """The Chroma client, opened (and chromadb imported) on first use."""
        if self._client is None:
            assert self._connect is not None
            self._client = self._connect()
        return self._client

    @property
    def connected(self) -> bool:
        """Whether this store has opened its Chroma client (readers served from the pointer have not)."""
        return self._client is not None

    # -- registry

    def _registry(self) -> Any:
        client = self.client
        try:
            return client.get_or_create_collection(REGISTRY, metadata={"purpose": "active collections"})
        except Exception as err:
            raise StoreError(f"the Chroma store is not reachable: {err}; check ASSISTANT_CHROMA_HOST") from err

    def _registry_meta(self) -> dict[str, Any]:
        """The registry as Chroma holds it (what writers read)."""
        return dict(self._registry().metadata or {})

    def _registry_view(self) -> dict[str, Any]:
        """The registry entries this model reads: from a current pointer, else from Chroma (and the pointer
        is written anew, so the next process need not ask Chroma)."""
        pointer = self._pointer()
        if pointer is not None:
            return dict(pointer.registry)
        meta = self._registry_meta()
        if self._pointer_path() is None:
            return meta
        try:
            generation = self._generation_named(meta.get(self._key))
        except StoreError:  # the registry names a missing collection: reading it says what to do
            generation = None
        self._publish(meta, generation)
        return meta

    def active_name(self) -> str | None:
        name = self._registry_view().get(self._key)
        return str(name) if name else None

    def ping(self) -> None:
        """Raise `StoreError` unless the Chroma store answers now (no cache involved)."""
        client = self.client
        try:
            client.heartbeat()
        except Exception as err:
            raise StoreError(
                f"the Chroma store is not reachable ({' '.join(str(err).split())[:200]}): check that the Chroma "
                "server is running (ASSISTANT_CHROMA_HOST, ASSISTANT_CHROMA_PORT)"
            ) from err

    def _active_generation(self) -> _Generation | None:
        # Readers re-check at most every `refresh_seconds`, so a switch made by an index run (here or in
        # another process) reaches them within that time, without a registry read per query.
        now = time.monotonic()
        if self._current is not None and now - self._current[0] < self.refresh_seconds:
            return self._current[1]
        pointer = self._pointer()
        if pointer is not None:
            generation: _Generation | None = _Generation(
                pointer.generation, pointer.created, pointer.count, pointer.versions
            )
        else:
            generation = self._generation_from_chroma()
        self._current = (now, generation)
        return generation

    def _generation_from_chroma(self) -> _Generation | None:
        meta = self._registry_meta()
        name = meta.get(self._key)
        generation = None
        if name:
            collection = self._collection(str(name))  # raises when it is missing, at every refresh
            known = self._current[1] if self._current is not None else None
            # A generation never changes once active: counting it again at every refresh would only cost.
            generation = known if known is not None and known.name == name else _Generation.of(collection)
        self._publish(meta, generation)
        return generation

    def _collection(self, name: str) -> Any:
        client = self.client
        try:
            return client.get_collection(name)
        except Exception as err:
            raise StoreError(
                f"the index points at collection {name!r}, which is missing: run `policy-assistant index --rebuild`"
            ) from err

    def active_generation(self) -> str | None:
        """Name of the active collection, as readers currently see it (refreshed every second)."""
        generation = self._active_generation()
        return generation.name if generation is not None else None

    def sources(self) -> list[str]:
        """User files and folders that were indexed besides the bundled corpus."""
        return list(json.loads(self._registry_view().get("sources", "[]")))

    def source_years(self) -> dict[str, int]:
        """The year given at index time (`index --year`) to each remembered source that has one."""
        saved = json.loads(self._registry_view().get("source_years", "{}"))
        return {str(source): int(year) for source, year in saved.items()}

    def set_sources(self, sources: Sequence[str], years: Mapping[str, int] | None = None) -> None:
        """Remember the user's `sources` (files and folders), and the year given to those in `years`."""
        meta = self._registry_meta()
        meta["sources"] = json.dumps(sorted(set(sources)))
        meta["source_years"] = json.dumps({s: years[s] for s in sorted(set(sources)) if years and s in years})
        self._registry().modify(metadata=meta)
        self._publish(meta, self._generation_named(meta.get(self._key)))

    def saved_inputs(self) -> SavedInputs | None:
        """The inputs recorded for the active generation; None when there are none or they were recorded
        for another generation (every index run that changes anything makes a new one)."""
        meta = self._registry_view()
        active = meta.get(self._key)
        try:
            saved = json.loads(str(meta.get(self._inputs_key, "null")))
            if not saved or not active or saved["generation"] != active:
                return None
            sources = tuple(str(s) for s in json.loads(str(meta.get("sources", "[]"))))
            return SavedInputs(
                str(active), str(saved["fingerprint"]), list(saved["documents"]), int(saved["chunks"]), sources
            )
        except (ValueError, KeyError, TypeError):  # written by another version: a full run records it anew
            return None

    def set_inputs(self, fingerprint: str, documents: Sequence[dict[str, Any]], chunks: int) -> None:
        """Record what the active generation was built from (see `saved_inputs`)."""
        meta = self._registry_meta()
        active = meta.get(self._key)
        if not active:
            return
        record = {"generation": active, "fingerprint": fingerprint, "documents": list(documents), "chunks": chunks}
        meta[self._inputs_key] = json.dumps(record, ensure_ascii=False)
        self._registry().modify(metadata=meta)
        self._publish(meta, self._generation_named(active))

    # -- the pointer (see index/pointer.py)

    def _pointer_path(self) -> Path | None:
        if self.cache_dir is None or self.chroma_dir is None:
            return None
        return self.cache_dir / "index" / f"{_model_key(self.model)}.pointer.json"

    def _pointer(self) -> Pointer | None:
        """The pointer, when Chroma's file still holds exactly the registry entries it names (never in a
        process that has opened Chroma: see `_chroma_opened`)."""
        path = self._pointer_path()
        if path is None or self.chroma_dir is None or _chroma_opened:
            return None
        pointer = read_pointer(path)
        if pointer is None or pointer.model != self.model or pointer.registry.get(self._key) != pointer.generation:
            return None
        held = chroma_registry(self.chroma_dir, REGISTRY, self._registry_keys, pointer.generation)
        return pointer if held == pointer.registry else None

    def _publish(self, meta: dict[str, Any], generation: _Generation | None) -> None:
        """Write the pointer for the registry `meta` just read or written (no active generation: none)."""
        path = self._pointer_path()
        if path is None:
            return
        if generation is None or meta.get(self._key) != generation.name:
            remove_pointer(path)
            return
        registry = {k: meta[k] for k in self._registry_keys if isinstance(meta.get(k), str)}
        pointer = Pointer(
            self.model, registry, generation.name, generation.created, generation.count, generation.versions
        )
        if read_pointer(path) != pointer:  # readers on Chroma come by every second: write only a change
            write_pointer(path, pointer)

    def _generation_named(self, name: object) -> _Generation | None:
        if not name:
            return None
        known = self._current[1] if self._current is not None else None
        if known is not None and known.name == name:
            return known
        return _Generation.of(self._collection(str(name)))

    # -- reading

    def chunks(self) -> list[Chunk]:
        """Every chunk of the active index, in reading order (cached per generation)."""
        generation = self._active_generation()
        if generation is None:
            return []
        if self._cache and self._cache[0] == generation.name:
            return self._cache[1]
        chunks = self._read_saved_chunks(generation)
        if chunks is None:
            chunks = _chunks_of(self._collection(generation.name).get(include=["metadatas", "documents"]))
            self._save(generation, "chunks.json", lambda f: _write_chunks(f, generation, chunks))
        self._cache = (generation.name, chunks)
        return chunks

    def vectors(self) -> tuple[list[str], np.ndarray]:
        """Ids and vectors of every chunk of the active index (cached per generation), for exact search."""
        generation = self._active_generation()
        if generation is None:
            return [], np.zeros((0, 0), dtype=np.float32)
        if self._vectors and self._vectors[0] == generation.name:
            return self._vectors[1], self._vectors[2]
        saved = self._read_saved_vectors(generation)
        if saved is None:
            ids, matrix = _vectors_of(self._collection(generation.name).get(include=["embeddings"]))
            self._save(generation, "vectors.npz", lambda f: _write_vectors(f, generation, ids, matrix))
        else:
            ids, matrix = saved
        self._vectors = (generation.name, ids, matrix)
        return ids, matrix

    # -- the generation's copy on disk (a generation never changes once it is active)

    def _saved(self, generation: _Generation, name: str) -> Path | None:
        return self.cache_dir / "index" / f"{generation.name}.{name}" if self.cache_dir else None

    def _read_saved_chunks(self, generation: _Generation) -> list[Chunk] | None:
        path = self._saved(generation, "chunks.json")
        if path is None or not path.is_file():
            return None
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            _check_saved(saved, generation)
            return [_chunk_from(str(c["id"]), str(c["text"]), dict(c["meta"])) for c in saved["chunks"]]
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning("the saved chunks in %s are unreadable (%s): reading them from Chroma again", path, err)
            return None

    def _read_saved_vectors(self, generation: _Generation) -> tuple[list[str], np.ndarray] | None:
        path = self._saved(generation, "vectors.npz")
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as saved:
                _check_saved(json.loads(str(saved["meta"])), generation)
                ids = [str(i) for i in saved["ids"]]
                matrix = np.asarray(saved["vectors"], dtype=np.float32)
            if matrix.ndim != 2 or matrix.shape[0] != len(ids):
                raise ValueError(f"{matrix.shape[0]} vectors for {len(ids)} ids")
            return ids, matrix
        except (OSError, ValueError, KeyError, TypeError) as err:  # a damaged zip raises BadZipFile(ValueError)
            log.warning("the saved vectors in %s are unreadable (%s): reading them from Chroma again", path, err)
            return None

    def _save(self, generation: _Generation, name: str, write: Callable[[Any], None], *, prune: bool = True) -> None:
        """Write the generation's copy atomically; with `prune`, drop this model's copies of other generations."""
        path = self._saved(generation, name)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as tmp:
                try:
                    write(tmp)
                    tmp.close()
                    os.replace(tmp.name, path)
                except BaseException:
                    Path(tmp.name).unlink(missing_ok=True)
                    raise
            if prune:
                self._prune(generation)
        except OSError as err:  # a read-only data directory costs speed, not answers
            log.warning("cannot save the index copy %s (%s): it is read from Chroma in every process", path, err)

    def _prune(self, generation: _Generation) -> None:
        """Remove this model's saved copies of generations other than `generation`."""
        if self.cache_dir is None:
            return
        folder = self.cache_dir / "index"
        model = generation.name.rsplit("-", 1)[0]  # generations are named `pa-<model>-<milliseconds>`
        try:
            for other in folder.iterdir():
                name = other.name.split(".", 1)[0]
                if name.startswith("pa-") and name != generation.name and name.rsplit("-", 1)[0] == model:
                    other.unlink(missing_ok=True)
        except OSError as err:
            log.warning("cannot remove old index copies in %s (%s)", folder, err)

    def status(self) -> IndexStatus:
        generation = self._active_generation()
        if generation is None:
            return IndexStatus(None, self.model, 0, 0, None, self.versions)
        chunks = self.chunks()
        return IndexStatus(
            collection=generation.name,
            model=self.model,
            documents=len({c.doc_id for c in chunks}),
            chunks=len(chunks),
            indexed_at=generation.created or None,
            versions=generation.versions,
        )

    def documents(self) -> list[DocumentStats]:
        by_doc: dict[str, list[Chunk]] = {}
        for chunk in self.chunks():
            by_doc.setdefault(chunk.doc_id, []).append(chunk)
        return [
            DocumentStats(
                doc_id=doc_id,
                title=chunks[0].doc_title,
                year=chunks[0].year,
                sections=len({c.section_path for c in chunks}),
                chunks=len(chunks),
                tokens=sum(c.token_count for c in chunks),
            )
            for doc_id, chunks in sorted(by_doc.items())
        ]

    def search(
        self,
        vector: np.ndarray,
        k: int = 5,
        doc_ids: Sequence[str] | None = None,
        years: Sequence[int] | None = None,
    ) -> list[Hit]:
        """The `k` chunks nearest to `vector` by cosine similarity, optionally within some documents or years.

        Up to `EXACT_SEARCH_LIMIT` chunks the search is exact (every vector compared, ties broken by reading
        order, so the result is the same every run, and faster than a Chroma query at this size); beyond it
        the candidates come from Chroma's approximate (HNSW) index."""
        chunks = self.chunks()
        if not chunks:
            raise StoreError("the index is empty: run `policy-assistant index` first")
        if len(chunks) <= EXACT_SEARCH_LIMIT:
            exact = self._exact_search(chunks, vector, k, doc_ids, years)
            if exact is not None:
                return exact
        return self._approximate_search(vector, k, doc_ids, years)

    def _exact_search(
        self,
        chunks: list[Chunk],
        vector: np.ndarray,
        k: int,
        doc_ids: Sequence[str] | None,
        years: Sequence[int] | None,
    ) -> list[Hit] | None:
        """Exact cosine search over the cached vectors; None when they belong to another generation than
        `chunks` (an index run switched in between)."""
        ids, matrix = self.vectors()
        position = {c.id: i for i, c in enumerate(chunks)}
        if len(ids) != len(chunks) or not all(cid in position for cid in ids):
            return None
        scores = np.full(len(chunks), -np.inf, dtype=np.float32)
        similarities = matrix @ np.asarray(vector, dtype=np.float32)
        for cid, similarity in zip(ids, similarities, strict=True):
            scores[position[cid]] = similarity
        allowed = np.ones(len(chunks), dtype=bool)
        if doc_ids:
            wanted = set(doc_ids)
            allowed &= np.array([c.doc_id in wanted for c in chunks])
        if years:
            wanted_years = {int(y) for y in years}
            allowed &= np.array([c.year in wanted_years for c in chunks])
        scores = np.where(allowed, scores, -np.inf)
        order = [i for i in np.lexsort((np.arange(len(scores)), -scores))[:k] if allowed[i]]
        return [Hit(chunk=chunks[i], similarity=float(scores[i])) for i in order]

    def _approximate_search(
        self, vector: np.ndarray, k: int, doc_ids: Sequence[str] | None, years: Sequence[int] | None
    ) -> list[Hit]:
        from llama_index.core.vector_stores.types import (
            FilterOperator,
            MetadataFilter,
            MetadataFilters,
            VectorStoreQuery,
        )

        generation = self._active_generation()
        if generation is None:
            raise StoreError("the index is empty: run `policy-assistant index` first")
        collection = self._collection(generation.name)
        filters: list[MetadataFilter | MetadataFilters] = []
        if doc_ids:
            filters.append(MetadataFilter(key="doc_id", value=list(doc_ids), operator=FilterOperator.IN))
        if years:
            filters.append(MetadataFilter(key="year", value=[int(y) for y in years], operator=FilterOperator.IN))
        query = VectorStoreQuery(
            query_embedding=[float(x) for x in vector],
            similarity_top_k=k,
            filters=MetadataFilters(filters=filters) if filters else None,
        )
        try:
            result = self._vector_store(collection).query(query)
        except Exception as err:
            raise StoreError(f"search in the Chroma store failed: {err}") from err
        hits = []
        for node, reported in zip(result.nodes or [], result.similarities or [], strict=True):
            meta = dict(node.metadata)
            # The only place llama-index's score is undone: its Chroma adapter reports exp(-distance), and
            # with cosine distance, cosine similarity = 1 - distance.
            cosine = 1.0 + math.log(reported) if reported > 0 else -1.0
            hits.append(Hit(chunk=_chunk_from(node.node_id, node.get_content(), meta), similarity=cosine))
        return hits

    @staticmethod
    def _vector_store(collection: Any) -> Any:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=collection)

    # -- writing

    def sync(self, *args: Any, **kwargs: Any) -> SyncReport:
        """Make the active index hold exactly `chunks` (see `_sync`); store failures become `StoreError`."""
        try:
            return self._sync(*args, **kwargs)
        except (StoreError, KeyboardInterrupt):
            raise
        except Exception as err:
            if type(err).__module__.startswith("chromadb"):
                raise StoreError(
                    f"the index run failed in the Chroma store ({err}); another index run may be busy: "
                    "wait for it and run `policy-assistant index` again"
                ) from err
            raise

    def _sync(
        self,
        chunks: Sequence[Chunk],
        embed: Callable[[list[str]], np.ndarray],
        *,
        rebuild: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> SyncReport:
        """Make the active index hold exactly `chunks`, embedding only content it has not seen.

        Builds a new collection, copies vectors of unchanged chunks from the active one, embeds the rest,
        then switches the registry to it and drops the old collection.
        """

        self._current = None  # a writer looks afresh, not at what it read up to a second ago
        active = self._active_generation()
        old_vectors: dict[str, list[float]] = {}
        old_docs: set[str] = set()
        if active is not None:
            same_versions = active.versions == self.versions
            old = self.chunks()
            old_docs = {c.doc_id for c in old}
            unchanged = sorted(map(_fingerprint, old)) == sorted(map(_fingerprint, chunks))
            if unchanged and same_versions and not rebuild:
                return SyncReport(active.name, len(old), 0, len(old), (), changed=False)
            if not rebuild:
                got = self._collection(active.name).get(include=["embeddings", "metadatas"])
                for meta, vector in zip(got["metadatas"], got["embeddings"], strict=True):
                    old_vectors[str(meta["content_hash"])] = list(vector)

        self._drop_orphans()
        name = f"pa-{_model_key(self.model)}-{int(time.time() * 1000)}"
        try:
            collection = self.client.create_collection(
                name,
                metadata={
                    "model": self.model,
                    "versions": self.versions,
                    "created": time.time(),
                    "state": "building",
                    "hnsw:space": "cosine",
                },
            )
        except Exception as err:
            raise StoreError(f"cannot create collection {name}: {err}") from err

        try:
            return self._fill(collection, chunks, old_vectors, old_docs, embed, progress)
        except BaseException:
            # An interrupted or failed run removes its half-built collection; the active one stays.
            with contextlib.suppress(Exception):  # already gone or the store is unreachable
                self.client.delete_collection(name)
            raise

    def _fill(
        self,
        collection: Any,
        chunks: Sequence[Chunk],
        old_vectors: dict[str, list[float]],
        old_docs: set[str],
        embed: Callable[[list[str]], np.ndarray],
        progress: Callable[[int], None] | None,
    ) -> SyncReport:
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        name = collection.name
        to_embed = [c for c in chunks if c.content_hash not in old_vectors]
        new_vectors: dict[str, list[float]] = {}
        batch = 16
        for start in range(0, len(to_embed), batch):
            part = to_embed[start : start + batch]
            vectors = embed([c.embed_text for c in part])
            for chunk, vector in zip(part, vectors, strict=True):
                new_vectors[chunk.content_hash] = [float(x) for x in vector]
            if progress:
                progress(len(part))

        store = self._vector_store(collection)
        nodes = [
            TextNode(
                id_=c.id,
                text=c.text,
                metadata=_chunk_metadata(c),
                embedding=old_vectors.get(c.content_hash) or new_vectors[c.content_hash],
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=c.doc_id)},
            )
            for c in chunks
        ]
        for start in range(0, len(nodes), _ADD_BATCH):
            store.add(nodes[start : start + _ADD_BATCH])

        meta = dict(collection.metadata or {})
        meta["state"] = "ready"
        meta.pop("hnsw:space", None)  # the distance function cannot be modified after creation
        collection.modify(metadata=meta)
        generation = _Generation(name, float(meta.get("created", 0)), collection.count(), self.versions)
        # The new generation's copy is in place before any reader can see the generation, so the next process
        # answers from it without opening Chroma. Read back from Chroma, it is exactly what a reader would
        # save: Chroma stores each vector normalised again (differences in the last bit).
        got = collection.get(include=["metadatas", "documents", "embeddings"])
        saved, (ids, matrix) = _chunks_of(got), _vectors_of(got)
        self._save(generation, "chunks.json", lambda f: _write_chunks(f, generation, saved), prune=False)
        self._save(generation, "vectors.npz", lambda f: _write_vectors(f, generation, ids, matrix), prune=False)
        self._switch(generation)
        self._cache = (name, saved)
        self._vectors = (name, ids, matrix)
        removed = tuple(sorted(old_docs - {c.doc_id for c in chunks}))
        return SyncReport(name, len(chunks), len(to_embed), len(chunks) - len(to_embed), removed, changed=True)

    def _switch(self, generation: _Generation) -> None:
        meta = self._registry_meta()
        previous = meta.get(self._key)
        meta[self._key] = generation.name
        self._registry().modify(metadata=meta)
        self._cache = None
        self._vectors = None
        self._current = (time.monotonic(), generation)
        self._publish(meta, generation)
        self._prune(generation)
        if previous and previous != generation.name:
            with contextlib.suppress(Exception):  # already gone: nothing to clean up
                self.client.delete_collection(str(previous))

    def _drop_orphans(self, max_age: float = 3600.0) -> None:
        """Remove this model's collections left behind by earlier runs (never the active one).

        A collection still being built by a concurrent run is kept unless it is older than `max_age`
        seconds, i.e. its run surely died.
        """
        active = self._registry_meta().get(self._key)
        now = time.time()
        for collection in self.client.list_collections():
            name = collection if isinstance(collection, str) else collection.name
            if name in (active, REGISTRY) or not name.startswith("pa-"):
                continue
            try:
                meta = self.client.get_collection(name).metadata or {}
            except Exception:  # deleted meanwhile by another run
                continue
            if meta.get("model") != self.model:
                continue
            superseded = meta.get("state") == "ready"
            stale = now - float(meta.get("created", 0)) > max_age
            if superseded or stale:
                with contextlib.suppress(Exception):  # already gone or the store is unreachable
                    self.client.delete_collection(name)
