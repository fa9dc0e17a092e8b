"""`index` on hostile input: oversized files, FIFOs, devices and symlinks out of a folder (issue 16).

Every case runs a real index (the tiny corpus plus user files) and checks the error line and that the
index is exactly as before.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.build import build_assistant
from assistant.settings import Settings, load_settings
from errors import DocumentError
from index.pipeline import Indexer
from tests.tiny_corpus import write_tiny_corpus

CLI = Path(sys.executable).with_name("policy-assistant")


def _settings(root: Path, **values: object) -> Settings:
    return load_settings(data_dir=root / "data", corpus_dir=root / "corpus", _env_file=None, **values)


def _snapshot(settings: Settings) -> tuple[list[str], list[tuple[str, str]]]:
    store = build_assistant(settings).store
    return store.sources(), sorted((c.doc_id, c.text) for c in store.chunks())


def _index_cli(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    environ |= {"ASSISTANT_DATA_DIR": str(root / "data"), "ASSISTANT_CORPUS_DIR": str(root / "corpus"), **env}
    return subprocess.run([str(CLI), "index", *args], capture_output=True, text=True, timeout=60, env=environ, cwd=root)


def _make_site(root: Path) -> Path:
    """A built index of the tiny corpus plus one user document, in `root`."""
    write_tiny_corpus(root / "corpus")
    (root / "eigen.txt").write_text("Eigen notitie over terugkeerbeleid.\n", encoding="utf-8")
    build_assistant(_settings(root)).indexer.run([root / "eigen.txt"])
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index shared by the tests whose runs are refused (and so change nothing)."""
    return _make_site(tmp_path_factory.mktemp("limits"))


def _refused(site: Path, path: Path, expected: str) -> None:
    before = _snapshot(_settings(site))
    done = _index_cli(site, str(path))
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and expected in last, done.stderr
    assert "Traceback" not in done.stderr
    assert _snapshot(_settings(site)) == before


def test_a_file_over_the_size_limit_is_refused(site: Path) -> None:
    big = site / "groot.txt"
    line = "De lidstaten werken samen aan terugkeer en opvang.\n"
    big.write_text(line * (11 * 1024 * 1024 // len(line)), encoding="utf-8")  # 11 MB, over the default 10
    _refused(site, big, "groot.txt: it is 11.0 MB, over the 10 MB limit for one document")
    assert "ASSISTANT_MAX_DOCUMENT_MB" in _index_cli(site, str(big)).stderr


def test_a_lower_limit_refuses_a_smaller_file(site: Path) -> None:
    doc = site / "middel.txt"
    doc.write_text("Een notitie over opvang. " * 50_000, encoding="utf-8")  # 1.2 MB
    settings = _settings(site)
    parts = build_assistant(settings)
    indexer = Indexer(parts.store, parts.embedder, parts.indexer.chunker, site / "corpus", max_document_bytes=2**20)
    before = _snapshot(settings)
    with pytest.raises(DocumentError, match="over the 1 MB limit"):
        indexer.run([doc])
    assert _snapshot(settings) == before


def test_the_size_limit_is_a_setting(site: Path) -> None:
    indexer = build_assistant(_settings(site, max_document_mb=1.0)).indexer
    assert indexer.max_document_bytes == 2**20


def test_a_fifo_named_txt_is_refused_without_blocking(site: Path) -> None:
    fifo = site / "pijp.txt"
    os.mkfifo(fifo)
    _refused(site, fifo, "pijp.txt: it is a named pipe (FIFO); only regular files are indexed")


def test_a_link_to_dev_zero_is_refused(site: Path) -> None:
    link = site / "nullen.txt"
    link.symlink_to("/dev/zero")
    _refused(site, link, "nullen.txt: it is a device; only regular files are indexed")


def test_a_folder_with_a_fifo_indexes_its_regular_files(tmp_path: Path) -> None:
    site = _make_site(tmp_path)
    folder = site / "map-met-pijp"
    folder.mkdir()
    (folder / "goed.txt").write_text("Een gewone notitie over asiel.\n", encoding="utf-8")
    os.mkfifo(folder / "pijp.txt")
    report = build_assistant(_settings(site)).indexer.run([folder])
    assert sorted(Path(d.info.file).name for d in report.documents if d.info.doc_type == "user") == [
        "eigen.txt",
        "goed.txt",
    ]
    # The next run reads the remembered folder again: in a subprocess, so that a hang fails the test.
    done = _index_cli(site)
    assert done.returncode == 0, done.stderr


def test_symlinks_out_of_a_folder_are_not_followed(tmp_path: Path) -> None:
    site = _make_site(tmp_path)
    outside = site / "geheim"
    outside.mkdir()
    (outside / "secrets.txt").write_text("Het wachtwoord is zwaardvis.\n", encoding="utf-8")
    (outside / "sub").mkdir()
    (outside / "sub" / "meer.txt").write_text("Nog een geheim: paling.\n", encoding="utf-8")
    folder = site / "notities"
    folder.mkdir()
    (folder / "nota.txt").write_text("Nota over de opvang van asielzoekers.\n", encoding="utf-8")
    (folder / "ook-nota.txt").symlink_to(folder / "nota.txt")  # inside the folder: harmless, indexed once
    (folder / "link.txt").symlink_to(outside / "secrets.txt")
    (folder / "map").symlink_to(outside / "sub", target_is_directory=True)
    settings = _settings(site)
    report = build_assistant(settings).indexer.run([folder])
    assert any("link.txt" in w and "outside" in w for w in report.warnings), report.warnings
    texts = " ".join(text for _, text in _snapshot(settings)[1])
    assert "Nota over de opvang" in texts
    assert "zwaardvis" not in texts and "paling" not in texts
    # The next run (folder remembered) still keeps the secrets out.
    done = _index_cli(site)
    assert done.returncode == 0, done.stderr
    texts = " ".join(text for _, text in _snapshot(settings)[1])
    assert "zwaardvis" not in texts and "paling" not in texts


def test_a_symlinked_file_is_remembered_by_the_path_given(tmp_path: Path) -> None:
    site = _make_site(tmp_path)
    target = site / "elders" / "origineel-bestand.txt"
    target.parent.mkdir()
    target.write_text("Notitie over gezinshereniging en visa.\n", encoding="utf-8")
    link = site / "mijn-notitie.txt"
    link.symlink_to(target)
    settings = _settings(site)
    first = build_assistant(settings).indexer.run([link])
    ids = {d.info.id for d in first.documents}
    assert "mijn-notitie" in ids and "origineel-bestand" not in ids
    assert str(link) in build_assistant(settings).store.sources()
    before = _snapshot(settings)
    done = _index_cli(site)
    assert done.returncode == 0, done.stderr
    assert "removed" not in done.stderr
    assert _snapshot(settings) == before
