"""Question analysis: the answer type asked for, the constraints on it and the focus, in Dutch and English."""

from __future__ import annotations

import pytest

from assistant.lexical import terms
from assistant.question import analyse, places_in


@pytest.mark.parametrize(
    ("question", "language", "expects"),
    [
        ("Hoeveel geld trekt de EU uit voor de opvang op de Griekse eilanden?", "nl", "money"),
        ("Welk bedrag is er voor terugkeer uitgetrokken?", "nl", "money"),
        ("How much funding did the Commission set aside for border management?", "en", "money"),
        ("What minimum salary threshold applies to highly qualified workers?", "en", "money"),
        ("Hoeveel asielaanvragen werden in 2019 ingediend?", "nl", "count"),
        ("How many people were resettled since 2015?", "en", "count"),
        ("Welk percentage van de terugkeerbesluiten wordt uitgevoerd?", "nl", "percentage"),
        ("Hoe groot was het aandeel van Cyprus in de aankomsten?", "nl", "percentage"),
        ("What was the EU's effective return rate in 2021?", "en", "percentage"),
        ("Wanneer werd de blauwe kaart herzien?", "nl", "date"),
        ("In which year was the Global Approach adopted?", "en", "date"),
        ("Hoe lang mag de screening aan de buitengrens duren?", "nl", "duration"),
        ("Wie is de coördinator voor terugkeer?", "nl", "person"),
        ("Which Commissioner presented the strategy?", "en", "person"),
        ("Which organisation runs the transit mechanism?", "en", "organisation"),
        ("Which contractor carries out the external study?", "en", "organisation"),
        ("Welk bedrijf bouwt het nieuwe systeem?", "nl", "organisation"),
        ("Waar is de Europese Arbeidsautoriteit gevestigd?", "nl", "place"),
        ("In welke derde landen zijn verbindingsfunctionarissen gestationeerd?", "nl", "place"),
        ("Welke maatregelen stelt de Commissie voor tegen smokkel?", "nl", "list"),
        ("Waarom wil de Commissie de terugkeerrichtlijn herzien?", "nl", "reason"),
        ("What does the Pact say about solidarity?", "en", "other"),
    ],
)
def test_the_expected_answer_type(question: str, language: str, expects: str) -> None:
    assert analyse(question, language).expects == expects  # type: ignore[arg-type]


def test_the_earliest_question_word_decides_not_a_relative_pronoun() -> None:
    assert (
        analyse("Why does the Commission want to act against employers who hire people without papers?", "en").expects
        == "reason"
    )


def test_years_and_periods() -> None:
    year = analyse("Hoeveel asielaanvragen werden in 2023 ingediend?", "nl").constraints
    assert [(c.kind, c.start, c.end) for c in year] == [("year", 2023, 2023)]
    half = analyse("Hoeveel aankomsten waren er in de eerste helft van 2025?", "nl").constraints[0]
    assert (half.start, half.end, half.half) == (2025, 2025, 1)
    span = analyse("How many people were resettled between 2015 and 2019?", "en").constraints[0]
    assert (span.kind, span.start, span.end) == ("period", 2015, 2019)
    since = analyse("Hoeveel mensen zijn sinds 2015 hervestigd?", "nl").constraints[0]
    assert (since.start, since.end) == (2015, None)
    ranged = analyse("Hoeveel plaatsen waren er voor 2021-2022?", "nl").constraints[0]
    assert (ranged.start, ranged.end) == (2021, 2022)
    so_far = analyse("Hoeveel terugkeerbevelen zijn er tot dusver uitgevaardigd?", "nl").constraints[0]
    assert so_far.so_far and so_far.start is None


def test_a_year_that_names_a_document_is_no_constraint() -> None:
    asks = analyse("Hoeveel asielaanvragen ontving Denemarken volgens het verslag van 2022?", "nl").asks
    assert not asks[0].years
    assert not analyse("How many arrivals does the 2022 report give for Malta?", "en").asks[0].years


def test_places_in_either_language_and_as_adjectives() -> None:
    assert [c.text for c in analyse("How many asylum applications did Denmark receive?", "en").constraints] == [
        "Denemarken"
    ]
    assert [p.nl for p in places_in("Eritrean and Syrian applicants")] == ["Eritrea", "Syrië"]
    assert [p.nl for p in places_in("de Oekraïense vluchtelingen in Polen")] == ["Oekraïne", "Polen"]
    # The EU and Europe are the documents' whole frame, not a place asked about.
    assert not places_in("de EU en Europa")


def test_named_programmes_and_instruments_are_constraints_and_documents_are_not() -> None:
    asks = analyse("Hoeveel geld trekt de EU uit voor het noodtransitmechanisme?", "nl").asks
    assert [c.text for c in asks[0].constraints if c.kind == "entity"] == ["noodtransitmechanisme"]
    english = analyse("What does Frontex spend on EUNAVFOR MED IRINI?", "en").constraints
    assert {c.text for c in english if c.kind == "entity"} == {"Frontex", "EUNAVFOR MED IRINI"}
    named = analyse("Wat zegt het pact over solidariteit?", "nl", is_document=lambda text: "pact" in text.lower())
    assert not [c for c in named.constraints if c.kind == "entity"]


def test_english_focus_maps_to_dutch_terms_through_the_glossary() -> None:
    focus = analyse("How many unaccompanied minors applied for asylum?", "en").focus
    assert [c.text for c in focus] == ["unaccompanied minors", "asylum"]  # the glossary's phrase, longest first
    assert terms("niet-begeleide minderjarigen")[0] in focus[0].terms and focus[1].terms == tuple(terms("asiel"))
    # An English word neither the glossary nor the corpus knows is dropped (no idf: the corpus lacks it) ...
    assert not any(c.text == "actually" for c in analyse("How many were actually returned?", "en", {"x": 1.0}).focus)
    # ... and one the corpus holds is kept as it is.
    kept = analyse("How many hotspots were opened?", "en", {terms("hotspots")[0]: 3.0}).focus
    assert [c.terms for c in kept] == [tuple(terms("hotspots"))]


def test_english_words_the_glossary_gained() -> None:
    # Dev split: "Green Paper", "ACP", "programmes", "home affairs" had no Dutch and left answered items partial.
    green = analyse("When did the Commission plan a Green Paper on economic migration?", "en").constraints
    assert [c.groups for c in green if c.kind == "entity"] == [(tuple(terms("groenboek")),)]
    focus = analyse("How many home affairs programmes were approved?", "en").focus
    assert [c.terms for c in focus] == [tuple(terms(w)) for w in ("binnenlandse zaken", "programma", "goedkeuring")]
    britain = analyse("Which governments agreed the trial scheme on small-boat trips to Britain?", "en").constraints
    assert [c.text for c in britain if c.kind == "place"] == ["Verenigd Koninkrijk"]


def test_a_place_question_s_own_noun_is_no_focus() -> None:
    # "welke landen" says the answer is places; the sentence names them ("Syrië, Afghanistan en Venezuela").
    focus = analyse("Uit welke landen kwamen de meeste aanvragers?", "nl").asks[0].focus
    assert [c.text for c in focus] == ["kwamen", "meeste", "aanvragers"]
    assert [c.text for c in analyse("Welke landen?", "nl").asks[0].focus] == ["landen"]  # nothing else to go by


def test_a_later_part_pointing_back_takes_the_first_part_s_named_thing() -> None:
    question = (
        "Wat is onder het vrijwillige solidariteitsmechanisme de voorkeursvorm van solidariteit, en hoe lang loopt het?"
    )
    asks = analyse(question, "nl").asks
    assert [c.text for c in asks[1].focus] == ["loopt", "solidariteitsmechanisme"]  # "het": the mechanism


def test_a_question_in_words_the_documents_lack_is_not_understood() -> None:
    # Far passages stand only for a question the check understands (assistant.core): what it asks about must be
    # the documents' vocabulary.
    idf = {t: 2.0 for t in terms("asielaanvragen zee")}
    assert analyse("How many asylum applications were lodged in 2023?", "en", idf).understood
    assert not analyse("Which planet is closest to the sun?", "en", idf).understood
    assert not analyse("What is the boiling point of water at sea level?", "en", idf).understood  # "sea" only


def test_a_question_of_two_parts_asks_two_things_and_the_second_keeps_the_period() -> None:
    asks = analyse(
        "Hoeveel onderdanen keerden in 2021 terug, en hoeveel van hen waren afgewezen asielzoekers?", "nl"
    ).asks
    assert [a.expects for a in asks] == ["count", "count"]
    assert [c.start for c in asks[1].years] == [2021]
    money = analyse("How much funding went to Turkey, and what share went to education?", "en").asks
    assert money[1].expects == "percentage" and "money" in money[1].also


def test_a_second_part_opened_by_a_preposition_is_its_own_ask() -> None:
    asks = analyse(
        "Welke lidstaten ontvingen de meeste aanvragen, en uit welke landen kwamen de aanvragers?", "nl"
    ).asks
    assert [a.expects for a in asks] == ["place", "place"]


def test_the_year_before_or_after_the_one_asked_first() -> None:
    asks = analyse(
        "Met hoeveel procent daalden de aankomsten in 2025, en hoe groot was de daling het jaar daarvoor?", "nl"
    ).asks
    assert [c.start for c in asks[1].years] == [2024]
    assert "percentage" in asks[1].also  # the size of a fall: a count or a percentage
    later = analyse("How many people arrived in 2020, and how many the following year?", "en").asks
    assert [c.start for c in later[1].years] == [2021]


def test_a_follow_up_asking_its_own_kind_of_thing_keeps_its_type() -> None:
    asks = analyse(
        "Welke steun geeft de Commissie daarbij — Met welke landen zet de Commissie proefprojecten op?", "nl"
    ).asks
    assert asks[0].expects == "other"


def test_a_rule_made_follow_up_asks_its_own_part_with_the_earlier_type() -> None:
    asks = analyse("En voor Frontex? — Hoeveel geld stelt de Commissie voor in het MFK?", "nl").asks
    assert len(asks) == 1 and asks[0].expects == "money"
    assert any(c.text == "Frontex" for c in asks[0].constraints)


def test_the_subject_of_the_answer_in_the_question_s_words() -> None:
    assert analyse("Hoeveel asielaanvragen ontving Cyprus in 2022?", "nl").asks[0].subject == "asielaanvragen"
    assert analyse("Hoeveel geld trekt de EU uit voor de talentpartnerschappen?", "nl").asks[0].subject == (
        "talentpartnerschappen"
    )
    # The verb first, its subject after: the "missing" line names the screening, not "may the screening".
    assert analyse("How long may the screening at the external border take?", "en").asks[0].subject == (
        "screening at the external border"
    )
    assert analyse("Hoe lang mag de screening aan de buitengrens duren?", "nl").asks[0].subject == (
        "screening aan de buitengrens"
    )
    assert analyse("How much money goes to the Talent Partnerships?", "en").asks[0].subject == "Talent Partnerships"


def test_analysis_is_deterministic() -> None:
    question = "Hoeveel geld heeft de EU sinds 2015 aan Afrika besteed, en welk deel ging naar Libië?"
    assert analyse(question, "nl") == analyse(question, "nl")
