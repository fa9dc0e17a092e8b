"""Checking an answer's citations (`assistant.cite.check`): markers that point nowhere are removed, a sentence
with a number or name found in none of its cited sources is flagged, an answer without a valid citation is
unverified. These are the marks a user sees on a generated answer."""

from __future__ import annotations

from dataclasses import fields

import pytest

from assistant.cite import check
from assistant.types import Source

ASYLUM = (
    "In 2019 werden in de EU 698 000 asielaanvragen ingediend, tegen 1,28 miljoen in 2015. "
    "De meeste aanvragers kwamen uit Syrië en Afghanistan."
)
RESETTLEMENT = "Sinds 2015 zijn via hervestiging meer dan 38.000 kwetsbare mensen in de EU opgevangen."
UKRAINE = "Na de Russische inval vluchtten miljoenen mensen uit Oekraïne naar Polen."


def source(n: int, text: str) -> Source:
    """Source `n` holding `text`; the check reads only the number and the text."""
    values: dict[str, object] = {
        "n": n,
        "chunk_id": f"doc:{n}",
        "doc_id": "doc",
        "doc_title": "Een document",
        "doc_short_title": "Document",
        "year": 2020,
        "section": "1. Inleiding",
        "section_path": "1. Inleiding",
        "text": text,
    }
    # Required numeric fields (the retrieval score) do not matter to the check, whatever they are called.
    values.update({f.name: 0.9 for f in fields(Source) if f.name not in values and f.type == "float"})
    return Source(**values)  # type: ignore[arg-type]


SOURCES = (source(1, ASYLUM), source(2, RESETTLEMENT), source(3, UKRAINE))


# ------------------------------------------------------------------------------------- markers


def test_valid_markers_verify_the_answer_and_are_kept() -> None:
    checked = check(
        "In 2019 werden 698 000 asielaanvragen ingediend [1]. Sinds 2015 zijn 38 000 mensen hervestigd [2].", SOURCES
    )
    assert checked.verified
    assert checked.cited == (1, 2)
    assert checked.removed == () and checked.flagged == ()
    assert (
        checked.text
        == "In 2019 werden 698 000 asielaanvragen ingediend [1]. Sinds 2015 zijn 38 000 mensen hervestigd [2]."
    )


def test_a_marker_pointing_to_no_source_is_removed_and_reported() -> None:
    checked = check("In 2019 werden 698 000 asielaanvragen ingediend [1][7].", SOURCES)
    assert checked.text == "In 2019 werden 698 000 asielaanvragen ingediend [1]."
    assert checked.removed == ("[7]",)
    assert checked.cited == (1,) and checked.verified


def test_a_list_marker_keeps_its_valid_numbers() -> None:
    checked = check("Er werden 698 000 aanvragen ingediend [1, 9].", SOURCES)
    assert checked.text == "Er werden 698 000 aanvragen ingediend [1]."
    assert checked.removed == ("[1, 9]",) and checked.cited == (1,)


def test_removing_the_only_marker_leaves_clean_text_and_an_unverified_answer() -> None:
    checked = check("Er werden 698 000 aanvragen ingediend [4].", SOURCES)
    assert checked.text == "Er werden 698 000 aanvragen ingediend."  # no space left before the full stop
    assert checked.removed == ("[4]",)
    assert not checked.verified and checked.cited == ()


def test_an_answer_without_markers_is_unverified() -> None:
    checked = check("Er werden heel veel aanvragen ingediend.", SOURCES)
    assert not checked.verified and checked.removed == () and checked.text == "Er werden heel veel aanvragen ingediend."


def test_cited_lists_each_source_once_in_order_of_first_use() -> None:
    checked = check("Sinds 2015 zijn 38 000 mensen hervestigd [2]. In 2019 waren er 698 000 aanvragen [1][2].", SOURCES)
    assert checked.cited == (2, 1)


# -------------------------------------------------------------------------------------- numbers


def test_a_number_in_the_cited_source_is_not_flagged() -> None:
    assert check("In 2015 werden 1,28 miljoen aanvragen ingediend [1].", SOURCES).flagged == ()


# A full stop inside a number (38.000, 1.28) or an abbreviation (o.a.) does not end a sentence.


@pytest.mark.parametrize("written", ["38 000", "38,000", "38\u00a0000", "38.000"])
def test_thousands_separators_do_not_matter(written: str) -> None:
    # The source writes 38.000; an answer may write the same number with a space, comma or no-break space.
    assert check(f"Sinds 2015 zijn {written} mensen hervestigd [2].", SOURCES).flagged == ()


def test_a_number_found_in_no_cited_source_flags_its_sentence() -> None:
    answer = "In 2019 werden 698 000 aanvragen ingediend [1]. In 2019 werden 123 456 aanvragen ingediend [1]."
    checked = check(answer, SOURCES)
    assert checked.flagged == ("In 2019 werden 123 456 aanvragen ingediend [1].",)
    assert checked.verified  # flagged is a mark on a sentence, not a rejection of the answer


def test_a_number_is_checked_against_the_cited_source_not_any_source() -> None:
    # 38 000 is in source 2, but the sentence cites source 1.
    checked = check("Er zijn 38 000 mensen hervestigd [1].", SOURCES)
    assert checked.flagged == ("Er zijn 38 000 mensen hervestigd [1].",)
    assert check("Er zijn 38 000 mensen hervestigd [2].", SOURCES).flagged == ()


def test_a_sentence_without_markers_is_checked_against_all_sources() -> None:
    answer = "In 2019 waren er 698 000 aanvragen [1]. Er zijn ook 38 000 mensen hervestigd. Er zijn 99 999 mensen."
    assert check(answer, SOURCES).flagged == ("Er zijn 99 999 mensen.",)


def test_a_decimal_number_must_match_to_the_last_digit() -> None:
    assert check("In 2015 waren het 1,28 miljoen aanvragen [1].", SOURCES).flagged == ()
    assert check("In 2015 waren het 1,29 miljoen aanvragen [1].", SOURCES).flagged


def test_a_decimal_point_does_not_end_the_sentence() -> None:
    assert check("In 2015 waren het 1.28 miljoen aanvragen [1].", SOURCES).flagged == ()


def test_an_abbreviation_does_not_hide_a_figure_from_the_check() -> None:
    # Cut at "o.", the first half loses its marker and is checked against every source, where 38 000 is.
    answer = "Er kwamen 38 000 mensen uit o.a. Syrië [1]."
    assert check("Er kwamen 38 000 mensen uit Syrië [1].", SOURCES).flagged  # without the abbreviation
    assert check(answer, SOURCES).flagged == (answer,)


# ---------------------------------------------------------------------------------------- names


def test_a_name_found_in_no_cited_source_flags_its_sentence() -> None:
    checked = check("De meeste aanvragers kwamen uit Syrië en Eritrea [1].", SOURCES)
    assert checked.flagged == ("De meeste aanvragers kwamen uit Syrië en Eritrea [1].",)


def test_a_name_in_the_cited_source_is_not_flagged_whatever_its_accents() -> None:
    assert check("De meeste aanvragers kwamen uit Syrië en Afghanistan [1].", SOURCES).flagged == ()
    assert check("De meeste aanvragers kwamen uit Syrie [1].", SOURCES).flagged == ()


def test_a_name_must_be_in_the_source_the_sentence_cites() -> None:
    # Polen is in source 3 only.
    assert check("Veel mensen vluchtten naar Polen [1].", SOURCES).flagged
    assert check("Veel mensen vluchtten naar Polen [3].", SOURCES).flagged == ()


def test_sentence_starts_and_common_capitalised_words_are_not_names() -> None:
    answer = "Volgens de Commissie werden 698 000 aanvragen ingediend [1]. Deze aanvragen kwamen uit Syrië [1]."
    assert check(answer, SOURCES).flagged == ()


def test_english_names_count_as_found_in_their_dutch_form_when_translating() -> None:
    answer = "Millions of people fled from Ukraine to Poland [3]."
    assert check(answer, SOURCES, translate=True).flagged == ()  # Ukraine -> Oekraïne, Poland -> Polen
    assert check(answer, SOURCES, translate=False).flagged == (answer,)


def test_translation_does_not_excuse_a_name_the_source_lacks() -> None:
    answer = "Millions of people fled from Ukraine to Hungary [3]."
    assert check(answer, SOURCES, translate=True).flagged == (answer,)


def test_every_flagged_sentence_is_reported_once() -> None:
    answer = "Er kwamen 5 000 mensen uit Eritrea [1]. Er kwamen 698 000 aanvragen [1]. Er zijn 7 mensen hervestigd [2]."
    assert check(answer, SOURCES).flagged == (
        "Er kwamen 5 000 mensen uit Eritrea [1].",
        "Er zijn 7 mensen hervestigd [2].",
    )
