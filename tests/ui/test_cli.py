"""`policy-assistant index|search|docs`, run in-process on a tiny corpus with the real model and Chroma.

Settings come from ASSISTANT_* variables, as for a user; output is what the user reads on stdout/stderr.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF

from index.corpus import DEFAULT_CORPUS_DIR, read_manifest, resolve_doc_id
from ui.cli import main

ASIEL_TXT = """Gemeenschappelijk asielbeleid in de Unie


1. INLEIDING

De Europese Unie werkt aan een gemeenschappelijk stelsel voor asiel. Dit
document beschrijft hoe de lidstaten samen de verantwoordelijkheid dragen voor
mensen die bescherming zoeken.


2. SOLIDARITEIT TUSSEN LIDSTATEN

Een lidstaat die onder druk staat door een groot aantal aankomsten kan de
andere lidstaten om hulp vragen. Die lidstaten kiezen dan zelf hoe zij
bijdragen: door asielzoekers over te nemen via herplaatsing, door de terugkeer
van afgewezen aanvragers te sponsoren, of door operationele steun te leveren.


3. PROCEDURES AAN DE BUITENGRENS

Iedereen die de buitengrens irregulier overschrijdt, ondergaat eerst een
screening. Die screening omvat een identiteitscontrole, een
gezondheidscontrole en een veiligheidscontrole, en duurt ten hoogste vijf
dagen.

Aanvragen van personen uit landen met een laag erkenningspercentage worden in
een grensprocedure behandeld. Die procedure duurt niet langer dan twaalf
weken, inclusief beroep.
"""

TALENT_TXT = """Legale migratie en het aantrekken van talent


1. INLEIDING

Veel sectoren in Europa kampen met een tekort aan personeel. Legale migratie
kan helpen om die tekorten op de arbeidsmarkt op te vangen en de economie te
versterken.


2. DE EUROPESE BLAUWE KAART

Hooggekwalificeerde werknemers van buiten de Unie kunnen een Europese blauwe
kaart aanvragen. Daarvoor hebben zij een arbeidscontract nodig met een salaris
boven een drempel die elke lidstaat vaststelt.

Houders van een blauwe kaart mogen na achttien maanden naar een andere
lidstaat verhuizen om daar te werken, en hun gezin mag met hen meekomen.


3. SEIZOENARBEID

Seizoenarbeiders werken vooral in de landbouw en het toerisme. Zij mogen ten
hoogste negen maanden per jaar in de Unie verblijven.
"""

MANIFEST = {
    "documents": [
        {
            "id": "asiel-2021",
            "file": "asiel_0a1b2c.txt",
            "title": "Gemeenschappelijk asielbeleid in de Unie",
            "short_title": "Asielbeleid",
            "year": 2021,
            "doc_type": "communication",
            "reference": "COM(2021) 100",
        },
        {
            "id": "talent-2019",
            "file": "talent_3d4e5f.txt",
            "title": "Legale migratie en talent",
            "short_title": "Legale migratie",
            "year": 2019,
            "doc_type": "factsheet",
            "reference": None,
        },
    ]
}

Q_SCREENING = "Hoeveel dagen mag de controle van irreguliere migranten bij aankomst duren?"


@dataclass
class Run:
    code: int
    out: str
    err: str


@dataclass
class Site:
    corpus_dir: Path
    data_dir: Path
    docs: str = ""  # `docs` output after indexing
    search: str = ""  # `search Q_SCREENING --json` output after indexing


def _env(mp: pytest.MonkeyPatch, site: Site) -> None:
    mp.setenv("ASSISTANT_CORPUS_DIR", str(site.corpus_dir))
    mp.setenv("ASSISTANT_DATA_DIR", str(site.data_dir))
    mp.setenv("COLUMNS", "200")  # rich tables: no wrapping of titles in captured output


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The tiny corpus, indexed once through the CLI."""
    root = tmp_path_factory.mktemp("cli")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "manifest.json").write_text(json.dumps(MANIFEST, indent=2), encoding="utf-8")
    (corpus / "asiel_0a1b2c.txt").write_text(ASIEL_TXT, encoding="utf-8")
    (corpus / "talent_3d4e5f.txt").write_text(TALENT_TXT, encoding="utf-8")
    s = Site(corpus, root / "data")
    with pytest.MonkeyPatch.context() as mp:
        # Module fixtures run before conftest's per-test isolation: do the same here.
        for key in [k for k in os.environ if k.startswith("ASSISTANT_")]:
            mp.delenv(key)
        mp.chdir(root)  # no developer .env
        _env(mp, s)
        assert main(["index"]) == 0
        s.docs = _stdout(["docs"])
        s.search = _stdout(["search", Q_SCREENING, "--json"])
    return s


def _stdout(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    return out.getvalue()


@pytest.fixture
def cli(site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    _env(monkeypatch, site)

    def run(*argv: str) -> Run:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def _search(cli: Any, *argv: str) -> dict[str, Any]:
    r = cli("search", *argv, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def _results(payload: dict[str, Any]) -> list[tuple[str, str, float]]:
    return [(h["doc_id"], h["chunk_id"], h["score"]) for h in payload["results"]]


def test_index_then_docs_lists_documents_with_counts(cli: Any) -> None:
    docs = json.loads(cli("docs", "--json").out)
    by_id = {d["doc_id"]: d for d in docs}
    assert set(by_id) == {"asiel-2021", "talent-2019"}
    assert (by_id["asiel-2021"]["sections"], by_id["asiel-2021"]["chunks"]) == (4, 4)
    assert (by_id["talent-2019"]["sections"], by_id["talent-2019"]["chunks"]) == (4, 4)
    assert by_id["asiel-2021"]["year"] == 2021 and by_id["asiel-2021"]["tokens"] > 100

    table = cli("docs")
    assert table.code == 0
    rows = [line for line in table.out.splitlines() if "asiel-2021" in line or "talent-2019" in line]
    assert len(rows) == 2
    asiel_row = next(r for r in rows if "asiel-2021" in r)
    assert "Gemeenschappelijk asielbeleid in de Unie" in asiel_row and "2021" in asiel_row
    cells = [c.strip() for c in asiel_row.replace("│", "|").split("|") if c.strip()]
    assert cells[-3:-1] == ["4", "4"]  # sections, chunks


def test_index_again_reports_up_to_date(cli: Any) -> None:
    again = cli("index")
    assert again.code == 0 and "index up to date: 2 documents, 8 chunks" in again.err
    quiet = cli("index", "--if-needed")
    assert quiet.code == 0 and quiet.out == "" and quiet.err.strip() == ""


def test_index_if_needed_is_silent_when_up_to_date(cli: Any) -> None:
    quiet = cli("index", "--if-needed")
    assert (quiet.code, quiet.out, quiet.err) == (0, "", "")


def test_search_json_puts_the_right_document_first(cli: Any) -> None:
    payload = _search(cli, Q_SCREENING)
    assert payload["query"] == Q_SCREENING
    results = payload["results"]
    assert len(results) == 5  # ASSISTANT_SEARCH_K default
    first = results[0]
    assert (first["rank"], first["doc_id"]) == (1, "asiel-2021")
    assert first["section"] == "3. PROCEDURES AAN DE BUITENGRENS"
    assert "vijf" in first["text"] and first["page"] is None
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    # The fused score orders the passages; the cosine similarity to the question comes with each.
    assert all(0 < r["similarity"] <= 1 for r in results)

    english = _search(cli, "Which permit lets highly skilled workers from outside Europe work in the EU?")
    assert english["results"][0]["doc_id"] == "talent-2019"
    assert english["results"][0]["section"] == "2. DE EUROPESE BLAUWE KAART"


def test_search_plain_output_cites_document_and_section(cli: Any) -> None:
    r = cli("search", Q_SCREENING, "--k", "2")
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[0].startswith("[1] Asielbeleid (2021) — 3. PROCEDURES AAN DE BUITENGRENS")
    assert lines[1].strip().startswith("Iedereen die de buitengrens irregulier overschrijdt")
    assert sum(line.startswith("[") for line in lines) == 2
    assert "similarity 0." in lines[0]
    assert lines[-1].endswith(" ms")


def test_search_finds_what_the_answer_cites(cli: Any) -> None:
    """`search` retrieves as `ask` does: the answer's sources are the search's passages, in its order."""
    asked = cli("ask", Q_SCREENING, "--json", "--mode", "extractive")
    assert asked.code == 0, asked.err
    sources = json.loads(asked.out)["sources"]
    results = _search(cli, Q_SCREENING)["results"]
    assert [s["chunk_id"] for s in sources] == [r["chunk_id"] for r in results]
    assert [s["score"] for s in sources] == [r["similarity"] for r in results]  # cosine in both


def test_ask_and_help_load_no_web_or_slack_library(site: Site) -> None:
    """A command imports only what it needs: `ask` and `--help` never load Gradio, FastAPI or slack-bolt."""
    script = (
        "import contextlib, io, sys\n"
        "from ui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "assert main(sys.argv[1:]) == 0\n"
        "print(sorted({'gradio', 'fastapi', 'slack_bolt', 'llama_index'} & {m.split('.')[0] for m in sys.modules}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_CORPUS_DIR=str(site.corpus_dir), ASSISTANT_DATA_DIR=str(site.data_dir))
    done = subprocess.run(
        [sys.executable, "-c", script, "ask", Q_SCREENING, "--mode", "extractive"],
        capture_output=True,
        text=True,
        env=env,
        cwd=site.data_dir.parent,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_search_doc_filter_and_k(cli: Any) -> None:
    payload = _search(cli, Q_SCREENING, "--doc", "talent-2019", "--k", "3")
    assert len(payload["results"]) == 3
    assert {r["doc_id"] for r in payload["results"]} == {"talent-2019"}
    # The original corpus file name, with or without suffix, names the same document.
    by_file = _search(cli, Q_SCREENING, "--doc", "talent_3d4e5f.txt", "--k", "3")
    assert _results(by_file) == _results(payload)
    by_stem = _search(cli, Q_SCREENING, "--doc", "talent_3d4e5f", "--k", "3")
    assert _results(by_stem) == _results(payload)
    both = _search(cli, Q_SCREENING, "--doc", "talent-2019", "--doc", "asiel-2021", "--k", "10")
    assert len(both["results"]) == 8 and both["results"][0]["doc_id"] == "asiel-2021"
    assert _search(cli, Q_SCREENING, "--doc", "no-such-document")["results"] == []


def test_resolve_doc_id_with_the_bundled_manifest() -> None:
    assert resolve_doc_id("001_3177b919d2c77f1a.txt") == "pact-2020"
    assert resolve_doc_id("001_3177b919d2c77f1a") == "pact-2020"
    assert resolve_doc_id("pact-2020") == "pact-2020"
    assert resolve_doc_id("unknown-doc") == "unknown-doc"
    for info in read_manifest(DEFAULT_CORPUS_DIR):
        assert resolve_doc_id(info.file) == info.id


# ------------------------------------------------------------------------------------------ bad input


def _no_text_pdf(path: Path) -> Path:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 120, 80, style="F")
    pdf.output(str(path))
    return path


def _bad_input(kind: str, folder: Path) -> list[str]:
    if kind == "missing path":
        return ["index", str(folder / "bestaat-niet.pdf")]
    if kind == "empty txt":
        (folder / "leeg.txt").write_text("", encoding="utf-8")
        return ["index", str(folder / "leeg.txt")]
    if kind == "binary txt":
        (folder / "data.txt").write_bytes(random.Random(7).randbytes(4096))
        return ["index", str(folder / "data.txt")]
    if kind == "pdf without text":
        return ["index", str(_no_text_pdf(folder / "scan.pdf"))]
    if kind == "empty query":
        return ["search", ""]
    if kind == "huge query":
        return ["search", ("Wat zegt de Commissie over solidariteit tussen de lidstaten? " * 90)[:5000]]
    if kind == "k zero":
        return ["search", Q_SCREENING, "--k", "0"]
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "expect"),
    [
        ("missing path", "no such file"),
        ("empty txt", "empty"),
        ("binary txt", "binary"),
        ("pdf without text", "no text layer"),
        ("empty query", "empty"),
        ("huge query", "2000"),
        ("k zero", "--k 0"),
    ],
)
def test_bad_input_gives_one_error_line_and_keeps_the_index(
    cli: Any,
    site: Site,
    tmp_path: Path,
    kind: str,
    expect: str,
) -> None:
    r = cli(*_bad_input(kind, tmp_path))
    assert r.code != 0
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    assert lines[0].startswith("error: ") and expect in lines[0]
    assert "Traceback" not in r.err and r.out == ""

    assert cli("docs").out == site.docs
    assert _results(_search(cli, Q_SCREENING)) == _results(json.loads(site.search))
    again = cli("index")  # the bad path was not remembered as a source either
    assert again.code == 0 and "index up to date" in again.err


def test_search_without_an_index_says_to_run_index(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    site: Site,
) -> None:
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(site.corpus_dir))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "nieuw"))
    assert main(["search", Q_SCREENING]) != 0
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "run `policy-assistant index`" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err

    assert main(["docs"]) == 0
    assert "the index is empty: run `policy-assistant index`" in capsys.readouterr().out
