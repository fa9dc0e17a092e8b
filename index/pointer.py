"""The index pointer: a small file naming a model's active index generation and what the registry holds
for it, so that a new process can answer from the generation's saved copy, or tell that `index` has
nothing to do, without importing chromadb (most of a CLI command's start-up).

The pointer is a copy, never the truth. It counts only while Chroma's own file on disk still holds the
same registry entries and the generation's collection, which `chroma_registry` reads from Chroma's SQLite
file with the standard library in about a millisecond. A missing, unreadable or different pointer, a
Chroma server instead of a local folder, or a Chroma file of an unknown layout sends the reader to Chroma
as before; the store then writes the pointer anew.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_FORMAT = 1
# Chroma's SQLite layout (chromadb 1.x, the version pyproject allows): collections by name within the
# default database, and their metadata as key/str_value rows.
_CHROMA_FILE = "chroma.sqlite3"
_REGISTRY_QUERY = """
SELECT m.key, m.str_value FROM collections c
JOIN databases d ON d.id = c.database_id
JOIN collection_metadata m ON m.collection_id = c.id
WHERE d.name = 'default_database' AND c.name = ?
"""
_COLLECTION_QUERY = """
SELECT count(*) FROM collections c JOIN databases d ON d.id = c.database_id
WHERE d.name = 'default_database' AND c.name = ?
"""


@dataclass(frozen=True)
class Pointer:
    """A model's active generation as the last process that wrote or read the registry saw it."""

    model: str
    registry: dict[str, str]  # this model's registry entries (active generation, sources, inputs) as stored
    generation: str
    created: float  # the generation's creation time and size: the stamp its saved copies carry
    count: int
    versions: str  # parser/chunker versions the generation was built with

    def stamp(self) -> dict[str, Any]:
        return {"generation": self.generation, "created": self.created, "count": self.count}


def read_pointer(path: Path) -> Pointer | None:
    """The pointer in `path`; None when there is none or it cannot be read (then Chroma is asked)."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved.get("format") != _FORMAT:
            return None
        registry = saved["registry"]
        if not isinstance(registry, dict) or not all(isinstance(v, str) for v in registry.values()):
            return None
        return Pointer(
            model=str(saved["model"]),
            registry={str(k): v for k, v in registry.items()},
            generation=str(saved["generation"]),
            created=float(saved["created"]),
            count=int(saved["count"]),
            versions=str(saved["versions"]),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        log.warning("the index pointer %s is unreadable (%s): asking Chroma", path, err)
        return None


def write_pointer(path: Path, pointer: Pointer) -> None:
    """Write `pointer` to `path` atomically; a failure costs speed (Chroma is asked), never answers."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as tmp:
            try:
                tmp.write(json.dumps({"format": _FORMAT, **asdict(pointer)}, ensure_ascii=False).encode())
                tmp.close()
                os.replace(tmp.name, path)
            except BaseException:
                Path(tmp.name).unlink(missing_ok=True)
                raise
    except OSError as err:
        log.warning("cannot write the index pointer %s (%s): every process asks Chroma", path, err)


def remove_pointer(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as err:
        log.warning("cannot remove the index pointer %s (%s)", path, err)


def chroma_registry(chroma_dir: Path, registry: str, keys: Sequence[str], generation: str) -> dict[str, str] | None:
    """`keys` of the registry collection as Chroma's file in `chroma_dir` holds them now (absent keys left
    out), read without chromadb; None when the file is missing, unreadable, of another layout, or does not
    hold the collection `generation`."""
    path = chroma_dir / _CHROMA_FILE
    if not path.is_file():
        return None
    try:
        # Read-only, and never creating anything: a damaged or half-written file is reported, not repaired.
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2.0)
        try:
            rows = db.execute(_REGISTRY_QUERY, (registry,)).fetchall()
            (collections,) = db.execute(_COLLECTION_QUERY, (generation,)).fetchone()
        finally:
            db.close()
    except (sqlite3.Error, ValueError, TypeError) as err:
        log.info("cannot read the Chroma file %s directly (%s): asking Chroma", path, err)
        return None
    if collections != 1:
        return None
    wanted = set(keys)
    return {str(k): v for k, v in rows if k in wanted and isinstance(v, str)}
