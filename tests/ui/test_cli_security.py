"""The command line prints document text as text: rich markup and terminal escape sequences in a document do
nothing. A real index of the tiny corpus plus a hostile document; the CLI runs in a subprocess, as for a user.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.core import validate_question
from errors import InputError

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from tests.tiny_corpus import write_tiny_corpus  # noqa: E402

# Rich markup that would end styles that were never opened (a crash) or colour the rest; an OSC sequence
# that retitles the terminal window; CSI sequences that clear the screen and colour the text; a C1 CSI.
TITLE = "Terugkeer [/bold] [red]rood[/red] \x1b]0;pwned\x07beleid"
SENTENCE = (
    "Een afgewezen asielzoeker krijgt een termijn van 30 dagen om de Unie vrijwillig te verlaten "
    "\x1b[2J\x1b[31m[/dim] [link=http://evil.example]klik[/link] \x9b6n."
)
DOC_TXT = f"""Terugkeer van afgewezen asielzoekers


1. TERMIJN [/bold] VOOR VERTREK

{SENTENCE}
Na afloop van die termijn kan de lidstaat het terugkeerbesluit gedwongen uitvoeren.
"""
QUESTION = "Hoeveel dagen krijgt een afgewezen asielzoeker om de Unie vrijwillig te verlaten?"
CONTROLS = ("\x1b", "\x07", "\x9b")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("cli-security")
    corpus = write_tiny_corpus(root / "corpus")
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    manifest["documents"].append(
        {"id": "terugkeer-2023", "file": "terugkeer.txt", "title": TITLE, "short_title": "Terugkeer [/bold]",
         "year": 2023, "doc_type": "communication", "reference": None}
    )  # fmt: skip
    (corpus / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (corpus / "terugkeer.txt").write_text(DOC_TXT, encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    environ.update(
        ASSISTANT_CORPUS_DIR=str(corpus),
        ASSISTANT_DATA_DIR=str(root / "data"),
        ASSISTANT_WARM_UP="false",
        COLUMNS="300",
        PYTHONPATH=str(_ROOT),
    )
    result = _run(environ, root, "index")
    assert result.returncode == 0, result.stderr
    environ["CWD"] = str(root)
    return environ


def _run(environ: dict[str, str], cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *argv],
        env=environ,
        cwd=cwd,  # no developer .env
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )


def cli(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return _run(env, Path(env["CWD"]), *argv)


def _assert_plain(output: str) -> None:
    for control in CONTROLS:
        assert control not in output, f"{control!r} printed raw: {output!r}"


def test_docs_lists_a_title_with_markup_as_text(env: dict[str, str]) -> None:
    result = cli(env, "docs")
    assert result.returncode == 0, result.stderr
    assert "Terugkeer [/bold] [red]rood[/red]" in result.stdout, "the title as written"
    assert "Gemeenschappelijk asielbeleid in de Unie" in result.stdout, "the other documents too"
    _assert_plain(result.stdout + result.stderr)


def test_ask_and_search_print_document_text_as_text(env: dict[str, str]) -> None:
    answer = cli(env, "ask", QUESTION, "--mode", "extractive")
    assert answer.returncode == 0, answer.stderr
    assert "30 dagen" in answer.stdout and "[/dim] [link=http://evil.example]klik[/link]" in answer.stdout
    assert "Terugkeer [/bold] [red]rood[/red]" in answer.stdout, "the source's title as written"
    _assert_plain(answer.stdout + answer.stderr)

    search = cli(env, "search", QUESTION)
    assert search.returncode == 0, search.stderr
    assert "Terugkeer [/bold]" in search.stdout and "30 dagen" in search.stdout
    _assert_plain(search.stdout + search.stderr)


def test_a_question_of_invisible_characters_is_empty(env: dict[str, str]) -> None:
    result = cli(env, "ask", "\u200b\u200c\u200d\u2060\ufeff\u00ad", "--mode", "extractive")
    assert result.returncode == 2 and "the question is empty" in result.stderr, result.stdout
    assert "[1]" not in result.stdout, "no answer from a random passage"


@pytest.mark.parametrize(
    "question", ["\u200b", "\u200b \u200d\t\ufeff", "\u2062\u2063\u180e", "\u3164\u2800", "\x00\x1b"]
)
def test_invisible_characters_count_as_whitespace(question: str) -> None:
    with pytest.raises(InputError, match="the question is empty"):
        validate_question(question)
    assert validate_question(f"{question}Wat is het pact?{question}") == "Wat is het pact?"
