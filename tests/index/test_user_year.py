"""`index --year`: the user's own documents get a year at index time, keep it in later runs, and take their
place in a comparison over time by it (issue 15)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from assistant.build import build_assistant
from assistant.settings import Settings, load_settings
from tests.tiny_corpus import write_tiny_corpus

CLI = Path(sys.executable).with_name("policy-assistant")

NOTE = (
    "# Nota over terugkeer\n\nDe terugkeer van afgewezen asielzoekers vraagt om betere samenwerking met de "
    "landen van herkomst en om steun bij vrijwillige terugkeer.\n"
)


def _settings(root: Path) -> Settings:
    return load_settings(data_dir=root / "data", corpus_dir=root / "corpus", _env_file=None)


def _years(settings: Settings) -> dict[str, int | None]:
    return {c.doc_id: c.year for c in build_assistant(settings).store.chunks()}


def _index_cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    environ |= {"ASSISTANT_DATA_DIR": str(root / "data"), "ASSISTANT_CORPUS_DIR": str(root / "corpus")}
    return subprocess.run([str(CLI), "index", *args], capture_output=True, text=True, timeout=99, env=environ, cwd=root)


def test_a_year_given_at_index_time_dates_the_document_in_comparisons_and_later_runs(tmp_path: Path) -> None:
    write_tiny_corpus(tmp_path / "corpus")
    note = tmp_path / "nota-terugkeer.md"
    note.write_text(NOTE, encoding="utf-8")
    other = tmp_path / "memo.txt"
    other.write_text("Memo over de opvang van asielzoekers in de grensregio.\n", encoding="utf-8")
    settings = _settings(tmp_path)

    build_assistant(settings).indexer.run([note], year=2024)
    assert _years(settings)["nota-terugkeer"] == 2024
    comparison = build_assistant(settings).comparer.compare("terugkeer")
    # The manifest's documents by their manifest year, the note by the year it was given: last, as 2024.
    assert [e.year for e in comparison.entries] == [2019, 2021, 2024]
    assert comparison.entries[-1].doc_id == "nota-terugkeer" and "2024 · Nota over terugkeer" in comparison.text

    # Adding another file (no year), re-indexing, or giving the note again without a year keeps its year.
    build_assistant(settings).indexer.run([other])
    build_assistant(settings).indexer.run(rebuild=True)
    build_assistant(settings).indexer.run([note])
    years = _years(settings)
    assert years["nota-terugkeer"] == 2024 and years["memo"] is None

    # A new year replaces the old one.
    build_assistant(settings).indexer.run([note], year=2023)
    assert _years(settings)["nota-terugkeer"] == 2023


def test_year_without_paths_or_out_of_range_is_one_clear_error(tmp_path: Path) -> None:
    write_tiny_corpus(tmp_path / "corpus")
    note = tmp_path / "nota.md"
    note.write_text(NOTE, encoding="utf-8")
    for args, expected in (
        (["--year", "2024"], "give their files or folders too"),
        (["--year", "24", str(note)], "the year 24 is not plausible"),
    ):
        done = _index_cli(tmp_path, *args)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1, done.stderr
        assert lines[0].startswith("error: ") and expected in lines[0]
