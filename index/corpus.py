"""The bundled corpus: the five Commission documents and their manifest."""

from __future__ import annotations

import json
from pathlib import Path

from errors import DocumentError
from index.load import load_path
from index.types import DocumentInfo, RawDocument

DEFAULT_CORPUS_DIR = Path(__file__).resolve().parents[1] / "corpus"


def read_manifest(corpus_dir: Path) -> list[DocumentInfo]:
    """Document descriptions from `corpus_dir/manifest.json`."""
    path = corpus_dir / "manifest.json"
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["documents"]
        return [
            DocumentInfo(
                id=e["id"],
                title=e["title"],
                short_title=e["short_title"],
                year=e.get("year"),
                doc_type=e.get("doc_type", "document"),
                reference=e.get("reference"),
                file=e["file"],
                aliases=tuple(e.get("aliases", ())),
            )
            for e in entries
        ]
    except FileNotFoundError as err:
        raise DocumentError(f"no corpus manifest at {path}; set ASSISTANT_CORPUS_DIR to the corpus folder") from err
    except (KeyError, TypeError, json.JSONDecodeError) as err:
        raise DocumentError(f"the corpus manifest {path} is malformed ({err}); restore it from git") from err


def load_corpus(corpus_dir: Path) -> list[RawDocument]:
    """The manifest's documents, read from disk with the manifest's titles and ids."""
    out = []
    for info in read_manifest(corpus_dir):
        # The manifest is trusted: no size limit, so a lowered ASSISTANT_MAX_DOCUMENT_MB cannot break it.
        (raw,) = load_path(corpus_dir / info.file, max_bytes=None)
        out.append(RawDocument(info=info, text=raw.text, kind=raw.kind))
    return out


def resolve_doc_id(value: str, corpus_dir: Path = DEFAULT_CORPUS_DIR) -> str:
    """Accept a project id or an original corpus file name (`001_3177b919d2c77f1a.txt`, with or without suffix)."""
    for info in read_manifest(corpus_dir):
        if value in (info.id, info.file, Path(info.file).stem):
            return info.id
    return value
