"""English-to-Dutch expansion: phrase matching, normalisation, the data file, and hits in the real corpus."""

from __future__ import annotations

import importlib.resources
import re
from pathlib import Path

import pytest

from assistant.glossary import GLOSSARY_FILE, expand_english, glossary, lookup, parse_glossary, translate_terms
from errors import ConfigError

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def _glossary_lines() -> list[tuple[int, str]]:
    text = importlib.resources.files("assistant").joinpath(GLOSSARY_FILE).read_text(encoding="utf-8")
    return [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]


def test_phrase_wins_over_its_words() -> None:
    assert expand_english("external borders") == ["buitengrenzen", "buitengrens"]
    assert "grens" not in expand_english("How are the external borders protected?")
    assert expand_english("unaccompanied minors") == ["niet-begeleide minderjarigen"]
    assert expand_english("third-country nationals") == ["onderdanen van derde landen"]


def test_a_whole_phrase_is_looked_up_with_the_same_normalisation() -> None:
    assert lookup("unaccompanied minors") == ("niet-begeleide minderjarigen",)
    assert lookup("Unaccompanied minor") == lookup("unaccompanied minors")  # case and plural do not matter
    assert lookup("unaccompanied") != lookup("unaccompanied minors")  # only a whole entry
    assert lookup("no such phrase at all") == ()


def test_longest_phrase_wins() -> None:
    terms = expand_english("the New Pact on Migration and Asylum")
    assert terms[0] == "nieuw migratie- en asielpact"
    assert "pact" not in terms and "asiel" not in terms


def test_single_words_next_to_phrases_still_expand() -> None:
    terms = expand_english("Frontex support at the external borders and returns")
    assert terms == [
        "frontex",
        "steun",
        "ondersteuning",
        "buitengrenzen",
        "buitengrens",
        "terugkeer",
        "terugkeren",
    ]


@pytest.mark.parametrize(
    ("english", "dutch"),
    [
        ("return", "terugkeer"),
        ("returns", "terugkeer"),
        ("returned", "terugkeer"),
        ("returning", "terugkeer"),
        ("border", "grens"),
        ("borders", "grenzen"),
        ("countries", "landen"),
        ("policies", "beleid"),
        ("smuggling", "migrantensmokkel"),
        ("asylum seekers", "asielzoekers"),
        ("asylum-seekers", "asielzoekers"),
        ("member states", "lidstaten"),
        ("processes", "proces"),
        ("refugees", "vluchtelingen"),
        ("Commission's", "commissie"),
    ],
)
def test_plural_ing_and_possessive_forms_are_normalised(english: str, dutch: str) -> None:
    assert dutch in expand_english(english)


def test_case_does_not_matter() -> None:
    assert expand_english("BLUE CARD") == expand_english("blue card") == expand_english("Blue Card") == ["blauwe kaart"]
    assert expand_english("Ukraine") == ["oekraïne"]


def test_unknown_words_are_dropped() -> None:
    assert expand_english("Could you please tell me something about it?") == []
    assert expand_english("") == []
    assert expand_english("zxqv asylum blorf") == ["asiel"]


def test_terms_are_deduplicated_in_query_order() -> None:
    assert expand_english("returns, return and return policy, asylum") == [
        "terugkeer",
        "terugkeren",
        "terugkeerbeleid",
        "asiel",
    ]


def test_numbers_are_dropped_unless_asked_for() -> None:
    assert expand_english("refugees in 2022") == ["vluchtelingen", "vluchteling"]
    assert expand_english("refugees in 2022", keep_numbers=True) == ["vluchtelingen", "vluchteling", "2022"]


def test_may_the_verb_is_not_a_month_but_may_the_month_is() -> None:
    assert "mei" not in expand_english("May asylum seekers work while they wait?")
    assert "mei" in expand_english("What happened in May 2022?")


def test_translate_terms_joins_with_spaces() -> None:
    assert translate_terms("temporary protection for Ukrainians") == "tijdelijke bescherming oekraïners oekraïense"
    assert translate_terms("hello") == ""


def test_tsv_is_well_formed() -> None:
    lines = _glossary_lines()
    english_keys = []
    for number, line in lines:
        fields = line.split("\t")
        assert len(fields) == 2, f"line {number}: {line!r}"
        english, dutch = fields
        assert english and english == english.strip() and english == english.lower(), f"line {number}"
        alternatives = dutch.split("|")
        assert all(a and a == a.strip() for a in alternatives), f"line {number}: {dutch!r}"
        assert len(set(alternatives)) == len(alternatives), f"line {number}: repeated alternative"
        english_keys.append(english)
    duplicates = {k for k in english_keys if english_keys.count(k) > 1}
    assert not duplicates
    assert len(glossary()) == len(english_keys) >= 400  # and no two keys collide after normalisation


def test_malformed_glossary_lines_are_rejected_with_line_number() -> None:
    with pytest.raises(ConfigError, match="line 2"):
        parse_glossary("asylum\tasiel\nborder grens\n")
    with pytest.raises(ConfigError, match="line 1.*empty"):
        parse_glossary("asylum\tasiel||asielzoeker\n")
    with pytest.raises(ConfigError, match="line 3.*duplicates line 1"):
        parse_glossary("return\tterugkeer\n# comment\nreturns\tterugkeer\n")


# Questions a staff member might type in English, written without looking at any evaluation set.
STAFF_QUESTIONS = [
    "What does the new pact say about returns?",
    "How many people were resettled to the EU?",
    "Which countries have a talent partnership with the EU?",
    "What is the Blue Card for highly skilled workers?",
    "How does screening at the external borders work?",
    "What is the role of Frontex?",
    "How is solidarity between member states organised?",
    "What happened after the Russian invasion of Ukraine?",
    "How many refugees from Ukraine received temporary protection?",
    "What is the EU doing against migrant smuggling?",
    "How does the EU fight human trafficking?",
    "What are the legal pathways to Europe?",
    "Which third countries signed readmission agreements?",
    "How are unaccompanied minors protected?",
    "What is the global approach to migration and mobility?",
    "How much funding goes to migration in Africa?",
    "What is Eurodac used for?",
    "What are the labour shortages in the EU?",
    "What about irregular arrivals on the Central Mediterranean route?",
    "What is the instrumentalisation of migrants by Belarus?",
    "How does visa policy support cooperation on return?",
    "What does the report say about relocation from Italy and Greece?",
]


@pytest.fixture(scope="module")
def corpus_text() -> str:
    files = sorted(CORPUS.glob("*.txt"))
    assert files, f"no corpus documents in {CORPUS}"
    return " ".join(f.read_text(encoding="utf-8").lower() for f in files)


@pytest.mark.parametrize("question", STAFF_QUESTIONS)
def test_staff_question_expands_to_terms_found_in_the_corpus(question: str, corpus_text: str) -> None:
    terms = expand_english(question)
    assert any(term in corpus_text for term in terms), f"{question!r} -> {terms}"


def test_expansion_turns_an_english_question_into_words_the_dutch_text_contains(corpus_text: str) -> None:
    content_words = ["seekers", "returned", "external", "borders"]  # "asylum" occurs, in URLs
    question = "How are asylum seekers returned from the external borders?"
    assert not [w for w in content_words if re.search(rf"\b{w}\b", corpus_text)]  # why expansion is needed
    found = [t for t in expand_english(question) if t in corpus_text]
    assert {"asielzoekers", "terugkeer", "buitengrenzen"} <= set(found)
