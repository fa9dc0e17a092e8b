"""`policy-assistant compare`, run in-process on the whole corpus index: what the user reads, the JSON, the
scope options and their errors; and in a new process, that it loads no web or Slack library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from ui.cli import main


@pytest.fixture
def cli(corpus_settings: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(corpus_settings.data_dir))
    monkeypatch.setenv("COLUMNS", "200")

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_compare_prints_one_entry_per_document_in_year_order_within_the_range(cli: Any) -> None:
    code, out, err = cli("compare", "terugkeer", "--from", "2011", "--to", "2022")
    assert code == 0, err
    starts = [out.index(f"{year} · ") for year in (2011, 2018, 2020, 2022)]
    assert starts == sorted(starts) and "2026 · " not in out
    assert "terugkeer: wat de documenten zeggen, per jaar" in out
    assert out.index("Wat veranderde: In volgorde: 2011") > starts[-1]
    assert "Bronnen" in out and "[1] De totaalaanpak van migratie en mobiliteit" in out
    assert "mode: extractive" in out


def test_compare_json_and_the_document_filter(cli: Any) -> None:
    # A corpus file name works as well as the project id.
    code, out, err = cli("compare", "talentenpool", "--doc", "003_8d61a219126aca23.txt", "--doc", "gamm-2011", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [(e["doc_id"], e["addressed"]) for e in data["entries"]] == [("gamm-2011", False), ("strategy-2026", True)]
    assert data["language"] == "nl" and data["mode"] == "extractive"
    cited = {c["source"] for e in data["entries"] for c in e["sentences"]}
    assert cited <= {s["n"] for s in data["sources"]}


def test_compare_in_english_and_bad_scopes_give_one_error_line(cli: Any) -> None:
    code, out, _ = cli("compare", "return", "--lang", "en", "--to", "2020")
    assert code == 0 and "what the documents say, by year (quoted in Dutch)" in out and "What changed: " in out
    code, _, err = cli("compare", "terugkeer", "--from", "2012", "--to", "2017")
    assert code == 2 and err.startswith("error: no indexed document is dated 2012–2017")
    code, _, err = cli("compare", "terugkeer", "--from", "2030", "--to", "2020")
    assert code == 2 and "the years 2030–2020 run backwards" in err


def test_compare_is_listed_and_loads_no_web_or_slack_library(corpus_settings: Any) -> None:
    script = (
        "import contextlib, io, sys\n"
        "from ui.cli import main\n"
        "help = io.StringIO()\n"
        "with contextlib.redirect_stdout(help), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "assert 'compare' in help.getvalue()\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(sys.argv[1:]) == 0\n"
        "print(sorted({'gradio', 'fastapi', 'slack_bolt'} & {m.split('.')[0] for m in sys.modules}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_DATA_DIR"] = str(corpus_settings.data_dir)
    done = subprocess.run(
        [sys.executable, "-c", script, "compare", "hervestiging"],
        capture_output=True,
        text=True,
        env=env,
        cwd=corpus_settings.data_dir,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
