"""The web UI's comparisons without a browser: the view's callbacks over the real corpus index, the table,
sources panel and exports as the user gets them, document text shown as text, and a comparative chat
question's entries inline with their sources in the chat's panel."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from assistant.build import Parts
from assistant.compare import Cited, Comparison, Entry
from assistant.types import EXTRACTIVE, Source
from tests.ui.test_web import last, web_parts
from ui.web.chat import WebChat, new_session_id, principal
from ui.web.compare import CSV_COLUMNS, CompareView, csv_text, markdown, sources_html, table_html

RETURN_QUESTION = "Hoe veranderde de aanpak van terugkeer tussen 2011 en 2026?"
HOSTILE = 'Zin met <img src=x onerror=alert(1)> en <a href="http://evil.example">link</a> erin.'


def _source(n: int, doc_id: str, year: int, text: str) -> Source:
    return Source(n, f"c{n}", doc_id, f"Titel {doc_id}", doc_id, year, "1. INLEIDING", "1. INLEIDING", text, 0.9)


def _comparison() -> Comparison:
    return Comparison(
        topic="terugkeer <b>vet</b>",
        language="nl",
        mode=EXTRACTIVE,
        entries=(
            Entry("a-2011", "Titel a-2011", "a-2011", 2011, (Cited(HOSTILE, 1),), (1,)),
            Entry("b-2018", "Titel b-2018", "b-2018", 2018, (), (2,)),
        ),
        changed="In volgorde: 2011 (a-2011) [1]. Niet behandeld: 2018 (b-2018).",
        sources=(_source(1, "a-2011", 2011, f"Ervoor. {HOSTILE} Erna."), _source(2, "b-2018", 2018, "Iets anders.")),
    )


def test_table_and_sources_show_document_text_as_text_and_link_each_sentence() -> None:
    table, panel = table_html(_comparison()), sources_html(_comparison())
    for html_text in (table, panel):
        assert "<img" not in html_text and 'href="http://evil' not in html_text and "<b>vet" not in html_text
        assert "&lt;img src=x onerror=alert(1)&gt;" in html_text
    assert 'href="#src-cmp-1" class="pa-cite pa-cmp-said"' in table and "<mark>Zin met" in table
    assert 'class="pa-cmp-entry pa-cmp-none" data-year="2018"' in table and "Niet behandeld in dit document" in table
    assert "dichtstbijzijnde passage [2]" in table
    assert '<details class="pa-turn pa-cmp-group" id="cmp-entry-0">' in panel and 'id="src-cmp-1"' in panel
    assert "<mark>Zin met &lt;img" in panel, "the cited sentence is marked in its passage"
    assert table_html(_comparison(), "en").count("Not addressed in this document") == 1


def test_the_exports_hold_every_entry_in_year_order() -> None:
    rows = list(csv.reader(io.StringIO(csv_text(_comparison()))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r[0], r[1], r[3], r[5]) for r in rows[1:]] == [
        ("2011", "a-2011", "yes", "1"),
        ("2018", "b-2018", "no", "2"),
    ]
    assert rows[1][4] == f"{HOSTILE} [1]" and rows[1][6] == "[1] 1. INLEIDING"
    text = markdown(_comparison())
    assert "| Jaar | Document | Wat het document zegt |" in text
    assert "| 2018 | Titel b-2018 | _Niet behandeld in dit document_ |" in text
    assert "**Wat veranderde:** In volgorde: 2011" in text and "[2] **Titel b-2018** (2018)" in text


def test_the_view_compares_exports_and_reports_bad_input(corpus_components: Parts, tmp_path: Path) -> None:
    view = CompareView(web_parts(corpus_components, tmp_path))
    table, panel, comparison, status = view.run("terugkeer", ["gamm-2011", "strategy-2026"], "", "", "nl")
    assert status == "" and comparison is not None
    assert [e.year for e in comparison.entries] == [2011, 2026] and 'data-year="2026"' in table and "src-cmp-" in panel
    ranged = view.run("terugkeer", None, "2018", "2022", "nl")[2]
    assert ranged is not None and [e.year for e in ranged.entries] == [2018, 2020, 2022]
    path = view.export_file(comparison, "csv", "en")
    assert path is not None and path.name.startswith("comparison-") and "gamm-2011" in path.read_text("utf-8-sig")
    assert view.export_file(None, "md") is None
    bad = view.run("terugkeer", None, "twintig", "", "nl")[3]
    assert "twintig" in bad and "is geen jaartal" in bad
    assert "no indexed document is dated 2012–2017" in view.run("terugkeer", None, "2012", "2017", "nl")[3]
    assert view.run("  ", None, "", "", "nl")[2] is None


def test_a_comparative_chat_question_shows_its_entries_with_their_sources(
    corpus_components: Parts, tmp_path: Path
) -> None:
    chat = WebChat(web_parts(corpus_components, tmp_path))
    owner = principal(None, new_session_id())
    messages, panel, exchanges, _ = last(chat.respond(RETURN_QUESTION, [], "", owner=owner))
    reply = messages[1]["content"]
    assert "**Per document, in volgorde van jaar**" in reply and "- **2011** · " in reply and "- **2026** · " in reply
    answer = exchanges[0].answer
    inline = reply.split("**Per document, in volgorde van jaar**")[1]
    linked = {int(n) for n in re.findall(r'href="#src-1-(\d+)"', inline)}
    assert linked and all(f'id="src-1-{n}"' in panel for n in linked), "each entry's source is in the panel"
    cited_by_answer = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert all(f'id="src-1-{n}"' in panel for n in cited_by_answer), "the answer's own sources still show"
    plain = last(chat.respond("Wat is de talentenpool?", exchanges, "", owner=owner))[0]
    assert "Per document" not in plain[3]["content"]
