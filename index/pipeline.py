"""The index run: documents in, an up-to-date Chroma collection out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.chunk import CHUNKER_VERSION, Chunker
from index.corpus import load_corpus
from index.embed import Embedder
from index.errors import DocumentError
from index.load import load_path
from index.parse import PARSER_VERSION, parse
from index.store import IndexStore, SyncReport
from index.types import Chunk, DocumentInfo, ParsedDocument, RawDocument

VERSIONS = f"parser={PARSER_VERSION};chunker={CHUNKER_VERSION}"


@dataclass
class IndexReport:
    sync: SyncReport
    documents: list[ParsedDocument]
    chunks: list[Chunk]
    warnings: list[str] = field(default_factory=list)


class Indexer:
    """Parses, chunks and embeds the corpus plus the user's own documents, incrementally."""

    def __init__(self, store: IndexStore, embedder: Embedder, chunker: Chunker, corpus_dir: Path | None) -> None:
        self.store = store
        self.embedder = embedder
        self.chunker = chunker
        self.corpus_dir = corpus_dir

    def collect(self, new_paths: Sequence[Path] = ()) -> tuple[list[RawDocument], list[str], list[str]]:
        """Documents to index: corpus, previously added sources that still exist, and `new_paths`.

        A new path that cannot be read raises `DocumentError` before anything is changed.
        """
        raws = load_corpus(self.corpus_dir) if self.corpus_dir else []
        fresh = [raw for path in new_paths for raw in load_path(path)]  # raises on bad input
        warnings: list[str] = []
        sources = [str(Path(p).resolve()) for p in new_paths]
        for source in self.store.sources():
            if source in sources:
                continue
            if not Path(source).exists():
                warnings.append(f"{source} no longer exists: its documents were removed from the index")
                continue
            try:
                raws.extend(load_path(Path(source)))
                sources.append(source)
            except DocumentError as err:
                warnings.append(f"skipped {source}: {err}")
        raws.extend(fresh)
        return _unique_ids(_unique_files(raws)), _outermost(sources), warnings

    def run(
        self,
        new_paths: Sequence[Path] = (),
        *,
        rebuild: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> IndexReport:
        raws, sources, warnings = self.collect(new_paths)
        docs = []
        for raw in raws:
            doc = parse(raw)
            if not any(s.paragraphs for s in doc.sections):
                if raw.info.file and Path(raw.info.file).resolve() in {Path(p).resolve() for p in new_paths}:
                    raise DocumentError(f"cannot index {raw.info.file}: no readable text was found in it")
                warnings.append(f"skipped {raw.info.file or raw.info.id}: no readable text")
                continue
            docs.append(doc)
        chunks = [c for doc in docs for c in self.chunker.chunk(doc)]
        total = len(chunks)
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress(done, total)

        report = self.store.sync(
            chunks, lambda texts: self.embedder.embed(texts, query=False), rebuild=rebuild, progress=step
        )
        self.store.set_sources(sources)
        return IndexReport(sync=report, documents=docs, chunks=chunks, warnings=warnings)


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
