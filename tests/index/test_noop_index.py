"""`index` with nothing to do returns at once, and never when a file, a setting or a user document changed.

A new process decides "nothing to do" from the index pointer (`index/pointer.py`) without opening Chroma;
a process that has opened Chroma never reads the pointer (see `index.store._chroma_opened`), so the tests of
the pointer run each index in a new process, as the CLI does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
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


# ------------------------------------------------------------------------------------------ new processes

_RUN_SCRIPT = """
import json, sys
from pathlib import Path
from assistant.build import build_assistant
from assistant.settings import load_settings

root, settings = Path(sys.argv[1]), json.loads(sys.argv[2])
parts = build_assistant(load_settings(data_dir=root / "data", corpus_dir=root / "corpus", _env_file=None, **settings))
report = parts.indexer.run()
print(json.dumps({
    "skipped": report.skipped,
    "changed": report.sync.changed,
    "chunks": report.sync.chunks,
    "documents": [d.info.id for d in report.documents],
    "chromadb": "chromadb" in sys.modules,
    "llama_index": any(m.startswith("llama_index") for m in sys.modules),
}))
"""


def run_in_new_process(root: Path, **settings: Any) -> dict[str, Any]:
    """`Indexer.run()` as a new `policy-assistant index` process runs it, and which libraries it loaded."""
    done = subprocess.run(
        [sys.executable, "-c", _RUN_SCRIPT, str(root), json.dumps(settings)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def indexed_chunks(root: Path) -> list[str]:
    return [c.text for c in parts_for(root).store.chunks()]


def pointer_file(root: Path) -> Path:
    (found,) = (root / "data" / "cache" / "index").glob("*.pointer.json")
    return found


def test_nothing_to_do_is_decided_without_chroma_or_llama_index(root: Path) -> None:
    first = run_in_new_process(root)  # the run after the fixture's index: its inputs are recorded
    assert first["skipped"] and not first["chromadb"] and not first["llama_index"]
    assert first["documents"] == ["talent-2023"] and first["chunks"] > 0


def test_an_added_corpus_file_is_noticed_by_a_new_process(root: Path) -> None:
    assert run_in_new_process(root)["skipped"]
    manifest = json.loads(json.dumps(MANIFEST))
    manifest["documents"].append({**manifest["documents"][0], "id": "blauw-2024", "file": "blauw.txt", "year": 2024})
    (root / "corpus" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (root / "corpus" / "blauw.txt").write_text("Blauwe kaart\n\nDe blauwe kaart geldt vier jaar.\n")

    added = run_in_new_process(root)
    assert not added["skipped"] and added["changed"] and added["documents"] == ["talent-2023", "blauw-2024"]
    assert any("vier jaar" in text for text in indexed_chunks(root))
    assert run_in_new_process(root)["skipped"]  # and the run after it has nothing to do again


def test_a_changed_and_a_removed_corpus_file_are_noticed_by_a_new_process(root: Path) -> None:
    assert run_in_new_process(root)["skipped"]
    path = root / "corpus" / "talent.txt"
    before = path.stat()
    path.write_text(TEXT.replace("negen", "zeven"), encoding="utf-8")  # same size and time
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert not run_in_new_process(root)["skipped"]
    assert any("zeven maanden" in text for text in indexed_chunks(root))

    (root / "corpus" / "notes.txt").write_text("not in the manifest, but in the corpus folder")
    assert run_in_new_process(root)["changed"] is False  # read in full: same chunks, new inputs recorded
    (root / "corpus" / "notes.txt").unlink()
    removed = run_in_new_process(root)
    assert not removed["skipped"]  # a removed file differs from the recorded inputs


def test_a_user_document_changed_or_removed_is_noticed_by_a_new_process(root: Path) -> None:
    own = root / "eigen"
    own.mkdir()
    note = own / "notitie.txt"
    note.write_text("Notitie\n\nDe blauwe kaart is voor hooggekwalificeerde werknemers.\n")
    parts_for(root).indexer.run([own])
    assert not run_in_new_process(root)["skipped"]  # records the inputs with the remembered folder
    assert run_in_new_process(root)["skipped"]

    note.write_text("Notitie\n\nDe blauwe kaart is voor onderzoekers.\n")
    changed = run_in_new_process(root)
    assert not changed["skipped"] and changed["changed"]
    assert any("onderzoekers" in text for text in indexed_chunks(root))

    note.unlink()
    gone = run_in_new_process(root)
    assert not gone["skipped"] and gone["changed"]
    assert not any("blauwe kaart" in text for text in indexed_chunks(root))


def test_a_changed_setting_is_noticed_by_a_new_process(root: Path) -> None:
    assert run_in_new_process(root)["skipped"]
    assert not run_in_new_process(root, chunk_tokens=60, chunk_overlap=10)["skipped"]
    assert run_in_new_process(root, chunk_tokens=60, chunk_overlap=10)["skipped"]
    assert not run_in_new_process(root, max_document_mb=1)["skipped"]


def test_a_deleted_chroma_directory_is_indexed_again(root: Path) -> None:
    assert run_in_new_process(root)["skipped"]
    shutil.rmtree(root / "data" / "chroma")
    again = run_in_new_process(root)
    assert not again["skipped"] and again["changed"] and again["chunks"] > 0
    assert any("negen maanden" in text for text in indexed_chunks(root))


def test_a_corrupt_chroma_file_is_never_taken_for_an_index_with_nothing_to_do(root: Path) -> None:
    assert run_in_new_process(root)["skipped"]
    (root / "data" / "chroma" / "chroma.sqlite3").write_bytes(b"not a database" * 1000)
    done = subprocess.run(
        [sys.executable, "-c", _RUN_SCRIPT, str(root), "{}"], capture_output=True, text=True, timeout=300
    )
    # The full check runs and says what is wrong, as without the pointer; it never reports "up to date".
    assert done.returncode != 0 and "cannot open the Chroma store" in done.stderr


def test_a_pointer_left_behind_by_an_older_index_is_not_trusted(root: Path) -> None:
    assert run_in_new_process(root)["skipped"]
    stale = pointer_file(root).read_bytes()
    path = root / "corpus" / "talent.txt"
    path.write_text(TEXT.replace("negen", "zes"), encoding="utf-8")
    assert not run_in_new_process(root)["skipped"]
    # E.g. a run that switched generations but died before writing the pointer, or a restored backup.
    pointer_file(root).write_bytes(stale)
    assert run_in_new_process(root)["skipped"]  # Chroma says what is active: the files match it
    path.write_text(TEXT, encoding="utf-8")  # what the stale pointer recorded
    back = run_in_new_process(root)
    assert not back["skipped"] and back["changed"]  # the stale record matched the files, Chroma did not
    assert any("negen maanden" in text for text in indexed_chunks(root))


def test_an_unreadable_pointer_falls_back_to_the_full_check(root: Path) -> None:
    assert run_in_new_process(root)["skipped"]
    pointer_file(root).write_text("{not json")
    fallback = run_in_new_process(root)
    assert fallback["skipped"] and fallback["chromadb"]  # decided by Chroma, which rewrote the pointer
    assert json.loads(pointer_file(root).read_text())["generation"]
    assert not run_in_new_process(root)["chromadb"]
