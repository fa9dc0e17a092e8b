"""The vector store: chunks and their vectors in Chroma, one collection per embedding model.

Chroma is reached through llama-index's `ChromaVectorStore` for adding and querying nodes; everything
that leaves this module is our own `Chunk`/`Hit`. An index run builds a new collection ("generation")
and only then points the registry at it, so an interrupted run leaves the previous index in use and a
reader never sees a half-built one.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from errors import StoreError
from index.types import Chunk, Hit

log = logging.getLogger(__name__)

REGISTRY = "policy-assistant-registry"
# Chunks up to which dense search compares every vector (exact, deterministic); beyond, Chroma's HNSW index.
# Exact search at the corpus' 713 chunks: the same result every run, and all of retrieval p50 19 ms (commit
# 9a2bd85); the limit bounds its memory: 50,000 × 384 float32 is 77 MB.
EXACT_SEARCH_LIMIT = 50_000
_ADD_BATCH = 256


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
    )


def _generation_stamp(collection: Any) -> dict[str, Any]:
    """What identifies a generation's content: its name, its creation time and its size."""
    meta = collection.metadata or {}
    return {"generation": collection.name, "created": float(meta.get("created", 0)), "count": collection.count()}


def _check_saved(saved: dict[str, Any], collection: Any) -> None:
    stamp = _generation_stamp(collection)
    found = {k: saved.get(k) for k in stamp}
    if found != stamp:
        raise ValueError(f"it belongs to {found}, not {stamp}")


def _write_chunks(file: Any, collection: Any, chunks: list[Chunk]) -> None:
    payload = {
        **_generation_stamp(collection),
        "chunks": [{"id": c.id, "text": c.text, "meta": _chunk_metadata(c)} for c in chunks],
    }
    file.write(json.dumps(payload, ensure_ascii=False).encode())


def _write_vectors(file: Any, collection: Any, ids: list[str], matrix: np.ndarray) -> None:
    np.savez(file, meta=np.array(json.dumps(_generation_stamp(collection))), ids=np.array(ids), vectors=matrix)


class IndexStore:
    """Chunks of one embedding model in Chroma, with atomic switching between index generations."""

    def __init__(self, client: Any, model: str, versions: str, cache_dir: Path | None = None) -> None:
        """`cache_dir`: where each generation's chunks and vectors are copied on first read, so a new
        process reads one file instead of the whole collection (None: read from Chroma every time)."""
        self.client = client
        self.cache_dir = cache_dir
        self.model = model
        self.versions = versions  # parser/chunker versions; a change forces re-embedding nothing, but a rebuild
        self._key = f"active__{_model_key(model)}"
        self._cache: tuple[str, list[Chunk]] | None = None
        self._active_cache: tuple[float, Any | None] | None = None
        self._vectors: tuple[str, list[str], np.ndarray] | None = None
        self.refresh_seconds = 1.0

    # -- registry

    def _registry(self) -> Any:
        try:
            return self.client.get_or_create_collection(REGISTRY, metadata={"purpose": "active collections"})
        except Exception as err:
            raise StoreError(f"the Chroma store is not reachable: {err}; check ASSISTANT_CHROMA_HOST") from err

    def _registry_meta(self) -> dict[str, Any]:
        return dict(self._registry().metadata or {})

    def active_name(self) -> str | None:
        name = self._registry_meta().get(self._key)
        return str(name) if name else None

    def ping(self) -> None:
        """Raise `StoreError` unless the Chroma store answers now (no cache involved)."""
        try:
            self.client.heartbeat()
        except Exception as err:
            raise StoreError(
                f"the Chroma store is not reachable ({' '.join(str(err).split())[:200]}): check that the Chroma "
                "server is running (ASSISTANT_CHROMA_HOST, ASSISTANT_CHROMA_PORT)"
            ) from err

    def _active(self) -> Any | None:
        # Readers re-check the registry at most every `refresh_seconds`, so a switch made by an index run
        # (here or in another process) reaches them within that time, without a registry read per query.
        now = time.monotonic()
        if self._active_cache is not None and now - self._active_cache[0] < self.refresh_seconds:
            return self._active_cache[1]
        collection = self._lookup_active()
        self._active_cache = (now, collection)
        return collection

    def _lookup_active(self) -> Any | None:
        name = self.active_name()
        if not name:
            return None
        try:
            return self.client.get_collection(name)
        except Exception as err:
            raise StoreError(
                f"the index points at collection {name!r}, which is missing: run `policy-assistant index --rebuild`"
            ) from err

    def active_generation(self) -> str | None:
        """Name of the active collection, as readers currently see it (refreshed every second)."""
        collection = self._active()
        return collection.name if collection is not None else None

    def sources(self) -> list[str]:
        """User files and folders that were indexed besides the bundled corpus."""
        return list(json.loads(self._registry_meta().get("sources", "[]")))

    def set_sources(self, sources: Sequence[str]) -> None:
        meta = self._registry_meta()
        meta["sources"] = json.dumps(sorted(set(sources)))
        self._registry().modify(metadata=meta)

    def saved_inputs(self) -> SavedInputs | None:
        """The inputs recorded for the active generation; None when there are none or they were recorded
        for another generation (every index run that changes anything makes a new one)."""
        meta = self._registry_meta()
        active = meta.get(self._key)
        try:
            saved = json.loads(str(meta.get(f"inputs__{_model_key(self.model)}", "null")))
            if not saved or not active or saved["generation"] != active:
                return None
            return SavedInputs(str(active), str(saved["fingerprint"]), list(saved["documents"]), int(saved["chunks"]))
        except (ValueError, KeyError, TypeError):  # written by another version: a full run records it anew
            return None

    def set_inputs(self, fingerprint: str, documents: Sequence[dict[str, Any]], chunks: int) -> None:
        """Record what the active generation was built from (see `saved_inputs`)."""
        meta = self._registry_meta()
        active = meta.get(self._key)
        if not active:
            return
        record = {"generation": active, "fingerprint": fingerprint, "documents": list(documents), "chunks": chunks}
        meta[f"inputs__{_model_key(self.model)}"] = json.dumps(record, ensure_ascii=False)
        self._registry().modify(metadata=meta)

    # -- reading

    def chunks(self) -> list[Chunk]:
        """Every chunk of the active index (cached per generation)."""
        collection = self._active()
        if collection is None:
            return []
        if self._cache and self._cache[0] == collection.name:
            return self._cache[1]
        chunks = self._read_saved_chunks(collection)
        if chunks is None:
            got = collection.get(include=["metadatas", "documents"])
            chunks = [
                _chunk_from(i, d or "", m or {})
                for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
            ]
            chunks.sort(key=lambda c: (c.doc_id, c.char_start, c.part))
            self._save(collection, "chunks.json", lambda f: _write_chunks(f, collection, chunks))
        self._cache = (collection.name, chunks)
        return chunks

    def vectors(self) -> tuple[list[str], np.ndarray]:
        """Ids and vectors of every chunk of the active index (cached per generation), for exact search."""
        collection = self._active()
        if collection is None:
            return [], np.zeros((0, 0), dtype=np.float32)
        if self._vectors and self._vectors[0] == collection.name:
            return self._vectors[1], self._vectors[2]
        saved = self._read_saved_vectors(collection)
        if saved is None:
            got = collection.get(include=["embeddings"])
            ids = list(got["ids"])
            matrix = np.asarray(got["embeddings"], dtype=np.float32).reshape(len(ids), -1)
            self._save(collection, "vectors.npz", lambda f: _write_vectors(f, collection, ids, matrix))
        else:
            ids, matrix = saved
        self._vectors = (collection.name, ids, matrix)
        return ids, matrix

    # -- the generation's copy on disk (a generation never changes once it is active)

    def _saved(self, collection: Any, name: str) -> Path | None:
        return self.cache_dir / "index" / f"{collection.name}.{name}" if self.cache_dir else None

    def _read_saved_chunks(self, collection: Any) -> list[Chunk] | None:
        path = self._saved(collection, "chunks.json")
        if path is None or not path.is_file():
            return None
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            _check_saved(saved, collection)
            return [_chunk_from(str(c["id"]), str(c["text"]), dict(c["meta"])) for c in saved["chunks"]]
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning("the saved chunks in %s are unreadable (%s): reading them from Chroma again", path, err)
            return None

    def _read_saved_vectors(self, collection: Any) -> tuple[list[str], np.ndarray] | None:
        path = self._saved(collection, "vectors.npz")
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as saved:
                _check_saved(json.loads(str(saved["meta"])), collection)
                ids = [str(i) for i in saved["ids"]]
                matrix = np.asarray(saved["vectors"], dtype=np.float32)
            if matrix.ndim != 2 or matrix.shape[0] != len(ids):
                raise ValueError(f"{matrix.shape[0]} vectors for {len(ids)} ids")
            return ids, matrix
        except (OSError, ValueError, KeyError, TypeError) as err:  # a damaged zip raises BadZipFile(ValueError)
            log.warning("the saved vectors in %s are unreadable (%s): reading them from Chroma again", path, err)
            return None

    def _save(self, collection: Any, name: str, write: Callable[[Any], None]) -> None:
        """Write the generation's copy atomically and drop this model's copies of other generations."""
        path = self._saved(collection, name)
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
            model = collection.name.rsplit("-", 1)[0]  # generations are named `pa-<model>-<milliseconds>`
            for other in path.parent.iterdir():
                generation = other.name.split(".", 1)[0]
                if generation != collection.name and generation.rsplit("-", 1)[0] == model:
                    other.unlink(missing_ok=True)
        except OSError as err:  # a read-only data directory costs speed, not answers
            log.warning("cannot save the index copy %s (%s): it is read from Chroma in every process", path, err)

    def status(self) -> IndexStatus:
        collection = self._active()
        if collection is None:
            return IndexStatus(None, self.model, 0, 0, None, self.versions)
        meta = collection.metadata or {}
        chunks = self.chunks()
        return IndexStatus(
            collection=collection.name,
            model=self.model,
            documents=len({c.doc_id for c in chunks}),
            chunks=len(chunks),
            indexed_at=float(meta.get("created", 0)) or None,
            versions=str(meta.get("versions", "")),
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

        collection = self._active()
        if collection is None:
            raise StoreError("the index is empty: run `policy-assistant index` first")
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

        active = self._active()
        old_vectors: dict[str, list[float]] = {}
        old_docs: set[str] = set()
        if active is not None:
            same_versions = (active.metadata or {}).get("versions") == self.versions
            old = self.chunks()
            old_docs = {c.doc_id for c in old}
            unchanged = sorted(map(_fingerprint, old)) == sorted(map(_fingerprint, chunks))
            if unchanged and same_versions and not rebuild:
                return SyncReport(active.name, len(old), 0, len(old), (), changed=False)
            if not rebuild:
                got = active.get(include=["embeddings", "metadatas"])
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
        self._switch(name)
        removed = tuple(sorted(old_docs - {c.doc_id for c in chunks}))
        return SyncReport(name, len(chunks), len(to_embed), len(chunks) - len(to_embed), removed, changed=True)

    def _switch(self, name: str) -> None:
        meta = self._registry_meta()
        previous = meta.get(self._key)
        meta[self._key] = name
        self._registry().modify(metadata=meta)
        self._cache = None
        self._active_cache = None
        if previous and previous != name:
            with contextlib.suppress(Exception):  # already gone: nothing to clean up
                self.client.delete_collection(str(previous))

    def _drop_orphans(self, max_age: float = 3600.0) -> None:
        """Remove this model's collections left behind by earlier runs (never the active one).

        A collection still being built by a concurrent run is kept unless it is older than `max_age`
        seconds, i.e. its run surely died.
        """
        active = self.active_name()
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
