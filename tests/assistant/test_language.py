"""Dutch vs English detection of staff questions: full sentences, short follow-ups and mixed terms."""

from __future__ import annotations

import pytest

from assistant.language import detect_language, language_name

DUTCH = [
    "Wat is het nieuwe migratie- en asielpact?",
    "Hoeveel mensen zijn sinds 2015 hervestigd?",
    "Welke landen krijgen een talentpartnerschap?",
    "Waarom wil de Commissie een nieuwe blauwe kaart?",
    "Wanneer moet de screening aan de buitengrenzen klaar zijn?",
    "Wie is verantwoordelijk voor de behandeling van een asielverzoek?",
    "Hoe werkt het solidariteitsmechanisme tussen de lidstaten?",
    "Wat zegt het verslag over de oorlog in Oekraïne?",
    "Hoeveel Oekraïners kregen tijdelijke bescherming in 2022?",
    "Wat doet de EU tegen migrantensmokkel?",
    "Welke rol speelt Frontex bij terugkeer?",
    "Is er een termijn voor de grensprocedure?",
    "Wat betekent de totaalaanpak van migratie en mobiliteit?",
    "Hoe worden niet-begeleide minderjarigen beschermd?",
    "Welke afspraken zijn er met Turkije gemaakt?",
    "Wat staat er in de strategie over legale migratie?",
    "Kun je uitleggen wat Eurodac doet?",
    "Geef een overzicht van de maatregelen tegen mensenhandel.",
    "Wat is de EU Blue Card?",
    "Hoe zit het met de Talent Pool van de EU?",
    "Wat zijn de plannen voor search and rescue op de Middellandse Zee?",
    "Welke rol heeft het EUAA in de nieuwe aanpak?",
    "Vat de belangrijkste punten van het pact samen.",
    "Noem de drie pijlers van de strategie.",
    "Zijn er cijfers over irreguliere grensoverschrijdingen?",
    "Door wie wordt het Fonds voor asiel, migratie en integratie beheerd?",
    "Met welke derde landen werkt de EU samen op het gebied van overname?",
    "Hoeveel geld is er voor migratie uitgetrokken?",
    "Waar komen de meeste asielzoekers vandaan?",
    "Wordt Belarus genoemd in het verslag?",
    "Wat vindt de Commissie van de instrumentalisering van migranten?",
    "Hebben studenten en onderzoekers recht op een verblijfsvergunning?",
    "En in 2022?",
    "En de kinderen?",
    "Waarom?",
    "Hoeveel?",
    "Wanneer?",
    "Welke landen?",
    "En Libië?",
    "Wat bedoel je daarmee?",
    "Kan dat korter?",
    "Dank je wel",
    "Bedankt!",
    "Nog iets over terugkeer?",
    "Wat kost dat?",
    "Hoe zit het met Marokko en Tunesië?",
    "Wat is 'talent partnerships' precies?",
    "Wat is het verschil tussen relocation en resettlement?",
    "En wat zegt het pact over Frontex?",
    "Geldt dat ook voor de Westelijke Balkan?",
]

ENGLISH = [
    "What is the new pact on migration and asylum?",
    "How many people have been resettled since 2015?",
    "Which countries get a talent partnership?",
    "Why does the Commission want a new Blue Card?",
    "When does the screening at the external borders have to be ready?",
    "Who is responsible for examining an asylum application?",
    "How does the solidarity mechanism between member states work?",
    "What does the report say about the war in Ukraine?",
    "How many Ukrainians received temporary protection in 2022?",
    "What is the EU doing against migrant smuggling?",
    "What role does Frontex play in returns?",
    "Is there a deadline for the border procedure?",
    "What does the global approach to migration and mobility mean?",
    "How are unaccompanied minors protected?",
    "Which agreements were made with Turkey?",
    "What does the strategy say about legal migration?",
    "Can you explain what Eurodac does?",
    "Give an overview of the measures against human trafficking.",
    "What is the 'blauwe kaart'?",
    "Tell me about the 'tijdelijke bescherming' for Ukrainians.",
    "What are the plans for search and rescue in the Mediterranean?",
    "What role does the EUAA have in the new approach?",
    "Summarise the main points of the pact.",
    "List the three pillars of the strategy.",
    "Are there figures on irregular border crossings?",
    "Who manages the Asylum, Migration and Integration Fund?",
    "Which third countries does the EU cooperate with on readmission?",
    "How much money is set aside for migration?",
    "Where do most asylum seekers come from?",
    "Is Belarus mentioned in the report?",
    "What does the Commission think of the instrumentalisation of migrants?",
    "Do students and researchers have a right to a residence permit?",
    "And in 2022?",
    "What about children?",
    "Why?",
    "How many?",
    "When?",
    "Which countries?",
    "And Libya?",
    "What do you mean by that?",
    "Can you make it shorter?",
    "Thank you",
    "Thanks!",
    "Anything else on returns?",
    "What does that cost?",
    "What about Morocco and Tunisia?",
    "What does the document say about the 'solidariteitspool'?",
    "What is the difference between herplaatsing and hervestiging?",
    "And what does the pact say about Frontex?",
    "Does that also apply to the Western Balkans?",
]


@pytest.mark.parametrize("question", DUTCH)
def test_dutch_questions_are_dutch(question: str) -> None:
    assert detect_language(question, default="en") == "nl"


@pytest.mark.parametrize("question", ENGLISH)
def test_english_questions_are_english(question: str) -> None:
    assert detect_language(question, default="nl") == "en"


def test_lists_are_large_enough_to_mean_something() -> None:
    assert len(DUTCH) >= 40 and len(ENGLISH) >= 40


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "2022?", "2015 - 2020", "?", "...", "EU", "Frontex?"])
@pytest.mark.parametrize("default", ["nl", "en"])
def test_text_without_language_cues_falls_back_to_default(text: str, default: str) -> None:
    assert detect_language(text, default=default) == default  # type: ignore[arg-type]


def test_default_is_dutch() -> None:
    assert detect_language("") == "nl"
    assert detect_language("2022") == "nl"


def test_quoted_dutch_term_does_not_outvote_english_question() -> None:
    assert detect_language("Explain 'niet-begeleide minderjarigen' and 'hervestiging' please.") == "en"


def test_english_term_in_dutch_question_stays_dutch() -> None:
    assert detect_language("Wat is 'search and rescue' in de Middellandse Zee?", default="en") == "nl"


def test_longer_texts_follow_the_language_of_the_text() -> None:
    nl = "De Commissie wil de procedures aan de buitengrenzen versnellen en de terugkeer verbeteren."
    en = "The Commission proposes to speed up the procedures at the external borders and to improve returns."
    assert detect_language(nl, default="en") == "nl"
    assert detect_language(en, default="nl") == "en"


def test_case_and_punctuation_do_not_matter() -> None:
    assert detect_language("WAT ZEGT HET PACT OVER TERUGKEER", default="en") == "nl"
    assert detect_language("what does the pact say about returns", default="nl") == "en"


def test_language_name_in_both_languages() -> None:
    assert language_name("nl", "nl") == "Nederlands"
    assert language_name("nl", "en") == "Dutch"
    assert language_name("en", "en") == "English"
    assert language_name("en", "nl") == "Engels"


@pytest.mark.parametrize(
    ("topic", "lang"),
    [
        ("climate change", "en"),
        ("return", "en"),
        ("blue card", "en"),
        ("resettlement", "en"),
        ("border procedure", "en"),
        ("klimaatverandering", "nl"),
        ("terugkeer", "nl"),
        ("hervestiging", "nl"),
        ("blauwe kaart", "nl"),
    ],
)
def test_a_bare_topic_is_read_by_the_glossary_side_it_is_on(topic: str, lang: str) -> None:
    # A comparison's topic often has no function word: "compare climate change" must answer in English.
    assert detect_language(topic) == lang


def test_a_glossary_term_does_not_outvote_function_words() -> None:
    assert detect_language("Wat zegt het pact over return en resettlement?") == "nl"
    assert detect_language("What does the strategy say about terugkeer?") == "en"
