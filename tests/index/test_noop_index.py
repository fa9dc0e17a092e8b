"""`index` with nothing to do returns at once, and never when a file, a setting or a user document changed."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

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


def parts_for(root: Path, **settings: Any) -> Parts:
    """The parts a new `policy-assistant index` process builds."""
    return build_assistant(
        load_settings(data_dir=root / "data", corpus_dir=root / "corpus", _env_file=None, **settings)
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "manifest.json").write_text(json.dumps(MANIFEST), encoding="utf-8")
    (corpus / "talent.txt").write_text(TEXT, encoding="utf-8")
    first = parts_for(tmp_path).indexer.run()
    assert first.sync.changed and not first.skipped
    return tmp_path


def test_a_second_run_with_nothing_changed_reads_nothing(root: Path) -> None:
    full = parts_for(root).indexer.run()  # the first run after an index recorded its inputs
    again = parts_for(root).indexer.run()
    assert again.skipped and not again.sync.changed
    assert again.sync.chunks == full.sync.chunks > 0
    assert [d.info.id for d in again.documents] == ["talent-2023"]  # what `index` reports stays right
    assert again.sync.collection == parts_for(root).store.active_generation()


def test_a_changed_file_is_noticed_even_with_the_same_size_and_mtime(root: Path) -> None:
    path = root / "corpus" / "talent.txt"
    before = path.stat()
    path.write_text(TEXT.replace("negen", "zeven"), encoding="utf-8")  # same length
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size

    report = parts_for(root).indexer.run()
    assert not report.skipped and report.sync.changed
    assert any("zeven maanden" in c.text for c in parts_for(root).store.chunks())


def test_a_changed_setting_is_noticed(root: Path) -> None:
    report = parts_for(root, chunk_tokens=60, chunk_overlap=10).indexer.run()
    assert not report.skipped
    assert parts_for(root, chunk_tokens=60, chunk_overlap=10).indexer.run().skipped
    assert not parts_for(root).indexer.run().skipped  # and back


def test_a_new_document_in_a_remembered_folder_is_noticed(root: Path) -> None:
    own = root / "eigen"
    own.mkdir()
    (own / "notitie.txt").write_text("Notitie\n\nDe blauwe kaart is voor hooggekwalificeerde werknemers.\n")
    parts_for(root).indexer.run([own])
    assert parts_for(root).indexer.run().sync.chunks > 0  # records the inputs
    assert parts_for(root).indexer.run().skipped

    (own / "tweede.txt").write_text("Tweede notitie\n\nDe kwantumfietsregeling geldt vanaf 2030.\n")
    report = parts_for(root).indexer.run()
    assert not report.skipped and report.sync.changed
    assert any("kwantumfietsregeling" in c.text for c in parts_for(root).store.chunks())


def test_rebuild_always_goes_the_full_way(root: Path) -> None:
    parts_for(root).indexer.run()
    report = parts_for(root).indexer.run(rebuild=True)
    assert not report.skipped and report.sync.changed
