"""The index run: documents in, an up-to-date Chroma collection out."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from errors import DocumentError
from index.chunk import CHUNKER_VERSION, Chunker
from index.corpus import load_corpus
from index.load import DEFAULT_MAX_DOCUMENT_BYTES, document_files, given_path, load_path
from index.parse import PARSER_VERSION, parse
from index.store import IndexStore, SyncReport
from index.types import Chunk, DocumentInfo, ParsedDocument, RawDocument

if TYPE_CHECKING:  # loaded when a run needs them: a run with nothing to do does not
    from index.embed import Embedder
    from index.embed_cache import CachingEmbedder
    from index.prebuilt import PrebuiltVectors

VERSIONS = f"parser={PARSER_VERSION};chunker={CHUNKER_VERSION}"
# Sentences embedded per call at index time: the embedder's own batching limit, not swept.
SENTENCE_BATCH = 64


@dataclass
class IndexReport:
    sync: SyncReport
    documents: list[ParsedDocument]
    chunks: list[Chunk]
    warnings: list[str] = field(default_factory=list)
    prebuilt: int = 0  # chunk vectors taken from the bundled corpus' prebuilt vectors (counted in sync.embedded)
    seeded: int = 0  # sentence vectors put into the sentence cache from them
    # Nothing changed since the last run (same files, settings and versions), so nothing was read:
    # `documents` then hold only their descriptions and `chunks` is empty.
    skipped: bool = False


class Indexer:
    """Parses, chunks and embeds the corpus plus the user's own documents, incrementally.

    Chunk vectors come from the corpus folder's prebuilt vectors where their key matches exactly, and the
    sentence vectors found there are put into `sentence_cache` (the answerer's cache), so that nothing of
    the bundled corpus is embedded on a fresh machine.
    """

    def __init__(
        self,
        store: IndexStore,
        embedder: Embedder,
        chunker: Chunker,
        corpus_dir: Path | None,
        sentence_cache: CachingEmbedder | None = None,
        max_document_bytes: int | None = DEFAULT_MAX_DOCUMENT_BYTES,
    ) -> None:
        self.max_document_bytes = max_document_bytes
        self.store = store
        self.embedder = embedder
        self.chunker = chunker
        self.corpus_dir = corpus_dir
        self.sentence_cache = sentence_cache

    @cached_property
    def prebuilt(self) -> PrebuiltVectors | None:
        """The corpus folder's prebuilt vectors, loaded on first use (None: there are none)."""
        from index.prebuilt import PrebuiltVectors

        return PrebuiltVectors.load(self.corpus_dir) if self.corpus_dir else None

    def collect(
        self, new_paths: Sequence[Path] = (), year: int | None = None
    ) -> tuple[list[RawDocument], list[str], list[str], dict[str, int]]:
        """Documents to index: corpus, previously added sources that still exist, and `new_paths`; and the
        year of each source that has one given at index time.

        `year` dates the documents of `new_paths` (`index --year`, winning over a PDF's creation year); a
        path given again without it keeps the year it was given before. A new path that cannot be read raises
        `DocumentError` before anything is changed.
        """
        raws = load_corpus(self.corpus_dir) if self.corpus_dir else []
        warnings: list[str] = []
        limit = self.max_document_bytes
        saved_years = self.store.source_years()
        # Remembered by the path given, not a symlink's target, so the next run finds the same documents.
        sources = [str(given_path(p)) for p in new_paths]
        years = {s: y for s in sources if (y := year if year is not None else saved_years.get(s)) is not None}
        # raises on bad input
        fresh = [
            _dated(raw, years.get(source))
            for path, source in zip(new_paths, sources, strict=True)
            for raw in load_path(path, max_bytes=limit, warnings=warnings)
        ]
        for source in self.store.sources():
            if source in sources:
                continue
            if not Path(source).exists():
                warnings.append(f"{source} no longer exists: its documents were removed from the index")
                continue
            try:
                loaded = load_path(Path(source), max_bytes=limit, warnings=warnings)
            except DocumentError as err:
                warnings.append(f"skipped {source}: {err}")
                continue
            raws.extend(_dated(raw, saved_years.get(source)) for raw in loaded)
            sources.append(source)
            if source in saved_years:
                years[source] = saved_years[source]
        raws.extend(fresh)
        kept = _outermost(sources)
        if year is not None:
            for source in sorted(set(years) - set(kept)):
                warnings.append(f"{source} lies in a folder already indexed: give --year {year} with that folder")
        return _unique_ids(_unique_files(raws)), kept, warnings, {s: y for s, y in years.items() if s in kept}

    def run(
        self,
        new_paths: Sequence[Path] = (),
        *,
        rebuild: bool = False,
        progress: Callable[[int, int], None] | None = None,
        use_prebuilt: bool = True,
        year: int | None = None,
    ) -> IndexReport:
        """Bring the index up to date; `use_prebuilt=False` embeds everything that is not already indexed;
        `year` dates the documents of `new_paths` (see `collect`).

        Without new paths and `rebuild`, a run whose inputs (files, settings, versions) match the ones the
        active index was built from returns at once."""
        inputs = None
        if not new_paths and not rebuild:
            inputs, unchanged = self._check()
            if unchanged is not None:
                return unchanged
        raws, sources, warnings, years = self.collect(new_paths, year)
        docs = self._parse(raws, new_paths, warnings)
        chunks = [c for doc in docs for c in self.chunker.chunk(doc)]
        prebuilt = self.prebuilt if use_prebuilt else None
        total = len(chunks)
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress(done, total)

        taken = 0

        def embed(texts: list[str]) -> np.ndarray:
            nonlocal taken
            if prebuilt:
                known = prebuilt.lookup(texts, model=self.embedder.name, versions=self.store.versions)
            else:
                known = [None] * len(texts)
            todo = [t for t, v in zip(texts, known, strict=True) if v is None]
            fresh = iter(self.embedder.embed(todo, query=False) if todo else ())
            taken += len(texts) - len(todo)
            return np.stack([v if v is not None else next(fresh) for v in known])

        # Sentence vectors before the new generation goes live: retrieval ranks chunks by their best sentence
        # and takes only vectors already kept, so a question never waits for them.
        seeded = self._sentence_vectors(chunks, prebuilt)
        report = self.store.sync(chunks, embed, rebuild=rebuild, progress=step)
        self.store.set_sources(sources, years)
        if inputs is not None and not warnings:
            # Fingerprinted before reading, so a file changed during the run differs next time. A run with
            # warnings is not remembered: the next one shows them again.
            self.store.set_inputs(inputs, [asdict(d.info) for d in docs], len(chunks))
        return IndexReport(report, docs, chunks, warnings, prebuilt=taken, seeded=seeded)

    def _sentence_vectors(self, chunks: Sequence[Chunk], prebuilt: PrebuiltVectors | None) -> int:
        """Put the sentence vectors of `chunks` into the sentence cache: the prebuilt ones, then the rest
        embedded (a user's own documents). Returns how many came from the prebuilt vectors."""
        from index.sentences import passage_sentences

        cache = self.sentence_cache
        if cache is None or not cache.capacity:
            return 0
        seeded = prebuilt.seed(cache, (c.text for c in chunks), versions=self.store.versions) if prebuilt else 0
        sentences = list(dict.fromkeys(s for c in chunks for s in passage_sentences(c.text)))
        known = cache.cached(sentences)
        missing = [s for s in sentences if s not in known]
        for start in range(0, len(missing), SENTENCE_BATCH):
            cache.embed(missing[start : start + SENTENCE_BATCH])
        return seeded

    def unchanged(self) -> IndexReport | None:
        """The report of a run with nothing to do, when the inputs (files, settings, versions) are those the
        active index was built from; None when a run would have something to do. Reads no document and,
        while the index pointer is current, opens no Chroma."""
        return self._check()[1]

    def _check(self) -> tuple[str, IndexReport | None]:
        """The inputs' fingerprint, and the report of a run with nothing to do when they are unchanged."""
        saved = self.store.saved_inputs()  # the index pointer's copy when Chroma's file confirms it
        inputs = self.inputs_fingerprint(saved.sources if saved is not None else None)
        if saved is None or saved.fingerprint != inputs:
            return inputs, None
        docs = [ParsedDocument(info=_info(d), sections=(), text="") for d in saved.documents]
        sync = SyncReport(saved.generation, saved.chunks, 0, saved.chunks, (), changed=False)
        return inputs, IndexReport(sync, docs, [], skipped=True)

    def inputs_fingerprint(self, sources: Sequence[str] | None = None) -> str:
        """A digest of everything an index run reads: the content of every file in the corpus folder and the
        remembered sources (by path; None: the store's), and the settings and versions that shape chunks
        and vectors."""
        digest = hashlib.sha256()
        shaping = {
            "model": self.embedder.name,
            "versions": self.store.versions,
            "chunk_tokens": self.chunker.max_tokens,
            "chunk_overlap": self.chunker.overlap_tokens,
            "max_document_bytes": self.max_document_bytes,
        }
        digest.update(json.dumps(shaping, sort_keys=True).encode())
        files = _files_in(Path(self.corpus_dir)) if self.corpus_dir else []
        for source in sorted(self.store.sources() if sources is None else sources):
            digest.update(f"source\0{source}\0".encode())
            files += document_files(Path(source))  # exactly the files a run reads there
        for path in files:
            digest.update(f"file\0{path}\0".encode())
            digest.update(_file_digest(path))
        return digest.hexdigest()

    def corpus_chunks(self) -> list[Chunk]:
        """The bundled corpus' chunks alone, as an index run makes them."""
        raws = load_corpus(self.corpus_dir) if self.corpus_dir else []
        return [c for doc in self._parse(raws, (), []) for c in self.chunker.chunk(doc)]

    def write_prebuilt(self) -> Path:
        """Embed the bundled corpus' chunks and their sentences afresh and write them as its prebuilt vectors."""
        if self.corpus_dir is None:
            raise DocumentError("no corpus folder to write prebuilt vectors for: set ASSISTANT_CORPUS_DIR")
        from index.prebuilt import PrebuiltVectors
        from index.sentences import passage_sentences

        chunks = self.corpus_chunks()
        texts = [c.embed_text for c in chunks] + [s for c in chunks for s in passage_sentences(c.text)]
        path = PrebuiltVectors.build(texts, self.embedder, versions=self.store.versions).save(self.corpus_dir)
        self.__dict__.pop("prebuilt", None)  # the next run reads the new artefact
        return path

    @staticmethod
    def _parse(raws: list[RawDocument], new_paths: Sequence[Path], warnings: list[str]) -> list[ParsedDocument]:
        """Parsed documents with readable text; a new path without any raises `DocumentError`."""
        docs = []
        for raw in raws:
            doc = parse(raw)
            if not any(s.paragraphs for s in doc.sections):
                if raw.info.file and Path(raw.info.file).resolve() in {Path(p).resolve() for p in new_paths}:
                    raise DocumentError(f"cannot index {raw.info.file}: no readable text was found in it")
                warnings.append(f"skipped {raw.info.file or raw.info.id}: no readable text")
                continue
            docs.append(doc)
        return docs


def _files_in(root: Path) -> list[Path]:
    """Every file under `root` (the corpus folder: more than a run reads, which only costs a full run)."""
    found: list[Path] = []
    for folder, _dirs, files in os.walk(root):
        found.extend(Path(folder) / f for f in files)
    return sorted(found)


def _file_digest(path: Path) -> bytes:
    """Content hash of a regular file; for anything else (missing, a FIFO, a device) a marker, never a read."""
    digest = hashlib.sha256()
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return f"not a regular file: {stat.S_IFMT(info.st_mode)}".encode()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as err:  # unreadable now: differs from any earlier run, so the full run reports it
        digest.update(f"unreadable: {err}".encode())
    return digest.digest()


def _info(saved: dict[str, Any]) -> DocumentInfo:
    return DocumentInfo(**{**saved, "aliases": tuple(saved.get("aliases") or ())})


def _dated(raw: RawDocument, year: int | None) -> RawDocument:
    """`raw` with the year given at index time (unchanged without one)."""
    if year is None or raw.info.year == year:
        return raw
    return replace(raw, info=replace(raw.info, year=year))


def _unique_files(raws: list[RawDocument]) -> list[RawDocument]:
    """A file reached twice (on its own and inside a remembered folder) is indexed once."""
    seen: set[str] = set()
    out = []
    for raw in raws:
        key = str(Path(raw.info.file).resolve()) if raw.info.file and Path(raw.info.file).is_absolute() else None
        if key is not None and key in seen:
            continue
        if key is not None:
            seen.add(key)
        out.append(raw)
    return out


def _outermost(sources: list[str]) -> list[str]:
    """Remembered sources without those inside another remembered folder."""
    paths = sorted({Path(s) for s in sources}, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in paths:
        if not any(parent == path or parent in path.parents for parent in kept):
            kept.append(path)
    return [str(p) for p in kept]


def _unique_ids(raws: list[RawDocument]) -> list[RawDocument]:
    """User files may slug to an id already taken; number them so ids stay unique."""
    seen: set[str] = set()
    out = []
    for raw in raws:
        doc_id, n = raw.info.id, 2
        while doc_id in seen:
            doc_id, n = f"{raw.info.id}-{n}", n + 1
        seen.add(doc_id)
        if doc_id != raw.info.id:
            info = raw.info
            raw = RawDocument(
                info=DocumentInfo(
                    doc_id, info.title, info.short_title, info.year, info.doc_type, info.reference, info.file
                ),
                text=raw.text,
                kind=raw.kind,
            )
        out.append(raw)
    return out
