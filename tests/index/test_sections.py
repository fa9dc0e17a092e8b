"""Rebuilding a section's whole text from its chunks (`index.sections`): parts in reading order, the overlap
the chunker repeats at the start of each part dropped, other sections and documents left out."""

from __future__ import annotations

from index.sections import section_text, section_texts
from index.types import Chunk

FIRST = "Lidstaten registreren elke aanvraag binnen drie dagen. De screening duurt ten hoogste zeven dagen."
SECOND = "De screening duurt ten hoogste zeven dagen. Daarna volgt de asielprocedure of de terugkeerprocedure."
OVERLAP = "De screening duurt ten hoogste zeven dagen."


def chunk(doc_id: str, section_path: str, text: str, char_start: int, part: int = 0) -> Chunk:
    return Chunk(
        id=f"{doc_id}-{section_path}-{part}",
        doc_id=doc_id,
        doc_title=f"Document {doc_id}",
        doc_short_title=doc_id,
        year=2020,
        section_number=None,
        section_title=section_path.split(" > ")[-1],
        section_path=section_path,
        paragraph_start=0,
        paragraph_end=1,
        char_start=char_start,
        char_end=char_start + len(text),
        text=text,
        token_count=len(text.split()),
        content_hash=f"h{char_start}{part}",
        part=part,
        parts=2,
    )


CHUNKS = [
    chunk("pact-2020", "2. Screening", FIRST, 0, 0),
    chunk("pact-2020", "2. Screening", SECOND, len(FIRST) - len(OVERLAP), 1),
    chunk("pact-2020", "3. Terugkeer", "Terugkeer wordt sneller.", 400),
    chunk("report-2022", "2. Screening", "Een ander document met dezelfde kop.", 0),
]


def test_parts_are_joined_without_the_overlap() -> None:
    text = section_text(CHUNKS, "pact-2020", "2. Screening")
    assert text == FIRST + SECOND[len(OVERLAP) :]
    assert text.count(OVERLAP) == 1


def test_parts_are_joined_in_reading_order_whatever_order_they_come_in() -> None:
    assert section_text(reversed(CHUNKS), "pact-2020", "2. Screening") == section_text(
        CHUNKS, "pact-2020", "2. Screening"
    )


def test_parts_without_an_overlap_are_separate_paragraphs() -> None:
    chunks = [chunk("d", "1. Kop", "Eerste alinea over opvang.", 0, 0), chunk("d", "1. Kop", "Tweede alinea.", 30, 1)]
    assert section_text(chunks, "d", "1. Kop") == "Eerste alinea over opvang.\n\nTweede alinea."


def test_only_the_section_of_that_document_and_nothing_for_unknown_ones() -> None:
    assert section_text(CHUNKS, "report-2022", "2. Screening") == "Een ander document met dezelfde kop."
    assert section_text(CHUNKS, "pact-2020", "9. Onbekend") == ""
    assert section_text(CHUNKS, "pact-2020", "") == ""


def test_all_sections_at_once_agree_with_one_at_a_time() -> None:
    texts = section_texts(CHUNKS)
    assert set(texts) == {("pact-2020", "2. Screening"), ("pact-2020", "3. Terugkeer"), ("report-2022", "2. Screening")}
    assert all(texts[key] == section_text(CHUNKS, *key) for key in texts)
