"""The retrieval set-up a new process would rebuild (chunks, vectors, BM25) is saved per index generation:
used while the generation is active, never after a re-index, and rebuilt when damaged."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from assistant.build import Parts, build_assistant
from assistant.settings import load_settings

MANIFEST = {
    "documents": [
        {
            "id": "talent-2023",
            "file": "talent.txt",
            "title": "Het aantrekken van talent",
            "short_title": "Talent",
            "year": 2023,
            "doc_type": "communication",
            "reference": None,
        }
    ]
}
TEXT = """Het aantrekken van talent

1. DE TALENTENPOOL

De talentenpool is een platform van de Unie dat werkgevers in contact brengt met werkzoekenden uit
derde landen die in een tekortberoep willen werken.

2. SEIZOENARBEID

Seizoenarbeiders mogen ten hoogste negen maanden per jaar in de Unie verblijven.
"""
QUESTION = "Wat is de talentenpool?"


def parts_for(root: Path) -> Parts:
    """The parts a new process builds from the same settings."""
    settings = load_settings(data_dir=root / "data", corpus_dir=root / "corpus", _env_file=None)
    parts = build_assistant(settings)
    parts.store.refresh_seconds = 0.0  # see an index run at once
    return parts


@pytest.fixture
def root(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "manifest.json").write_text(json.dumps(MANIFEST), encoding="utf-8")
    (corpus / "talent.txt").write_text(TEXT, encoding="utf-8")
    parts_for(tmp_path).indexer.run()
    return tmp_path


def saved_files(root: Path) -> dict[str, Path]:
    cache = root / "data" / "cache"
    found = {p.name.split(".", 1)[1]: p for p in (cache / "index").glob("pa-*")}
    for folder in (cache / "lexical").glob("pa-*"):
        found["lexical"] = folder / "lexical.json"
    return found


def texts(parts: Parts, question: str = QUESTION) -> list[str]:
    return [h.chunk.text for h in parts.retriever.retrieve(question, "nl", k=3).hits]


def test_a_new_process_uses_the_saved_copy_of_the_active_generation(root: Path) -> None:
    first = texts(parts_for(root))
    files = saved_files(root)
    assert set(files) == {"chunks.json", "vectors.npz", "lexical"}
    written = {name: path.stat().st_mtime_ns for name, path in files.items()}

    assert texts(parts_for(root)) == first  # the same ranking from the saved copy
    assert {name: path.stat().st_mtime_ns for name, path in files.items()} == written  # read, not rebuilt

    # What a new process shows comes from the saved chunks, not from Chroma.
    saved = json.loads(files["chunks.json"].read_text(encoding="utf-8"))
    for chunk in saved["chunks"]:
        chunk["text"] = chunk["text"].replace("platform", "PLATFORM-UIT-DE-KOPIE")
    files["chunks.json"].write_text(json.dumps(saved), encoding="utf-8")
    assert any("PLATFORM-UIT-DE-KOPIE" in t for t in texts(parts_for(root)))


def test_a_reindex_is_never_answered_from_the_previous_generations_copy(root: Path) -> None:
    parts = parts_for(root)
    texts(parts)
    old = saved_files(root)
    changed = TEXT.replace("negen maanden", "negen maanden, behalve voor kwantumfietsers")
    (root / "corpus" / "talent.txt").write_text(changed, encoding="utf-8")
    assert parts_for(root).indexer.run().sync.changed

    fresh = parts_for(root)
    assert any("kwantumfietsers" in t for t in texts(fresh, "kwantumfietsers"))
    assert any("kwantumfietsers" in t for t in texts(parts, "kwantumfietsers"))  # a running process too
    new = saved_files(root)
    assert set(new) == set(old) and all(new[k] != old[k] for k in new)
    assert not any(p.exists() for p in old.values())  # the superseded copies are removed


def test_a_damaged_copy_is_rebuilt_with_a_warning(root: Path, caplog: pytest.LogCaptureFixture) -> None:
    first = texts(parts_for(root))
    for path in saved_files(root).values():
        path.write_bytes(b"\x00not what was saved")
    with caplog.at_level(logging.WARNING):
        assert texts(parts_for(root)) == first
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "saved chunks" in warned and "saved vectors" in warned and "saved lexical index" in warned

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert texts(parts_for(root)) == first  # the rewritten copy loads cleanly
    assert not caplog.records
