"""The coverage verdict: sentences answer a question only with a value of the type asked, tied to its focus
and meeting its constraints. Unit checks on sentences, then the real assistant on the real corpus index, in
extractive mode and in openai mode over HTTP with the scripted server."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from assistant.answer import ExtractiveAnswerer, GenerativeAnswerer
from assistant.core import Assistant, Delta, Done
from assistant.coverage import VerdictLineFilter, check, combine, parse_stated, values_in
from assistant.lexical import terms
from assistant.llm import OpenAIChat
from assistant.question import analyse
from assistant.types import Answer, Language, Mode, Source
from storage.conversations import ConversationStore
from tests.assistant import openai_server
from tests.assistant.openai_server import ScriptedOpenAIServer

scripted_openai = openai_server.scripted_openai


def source(text: str, n: int = 1, *, year: int | None = 2022, section: str = "2. Opvang", **kw: object) -> Source:
    return Source(
        n=n,
        chunk_id=f"c{n}",
        doc_id="report-2022",
        doc_title="Verslag over migratie en asiel",
        doc_short_title="Verslag migratie en asiel",
        year=year,
        section=section,
        section_path=section,
        text=text,
        similarity=0.85,
        **kw,  # type: ignore[arg-type]
    )


def verdict(question: str, *texts: str, language: Language = "nl", **kw: object):  # type: ignore[no-untyped-def]
    sources = [source(t, n, **kw) for n, t in enumerate(texts, start=1)]  # type: ignore[arg-type]
    return check(analyse(question, language), sources)


# ---------------------------------------------------------------------------------------- values


def test_money_is_an_amount_of_euros_not_a_count() -> None:
    assert values_in("Daarvoor is 6 miljard EUR uitgetrokken.", "money")
    assert values_in("De EU stelde € 485 miljoen beschikbaar.", "money")
    assert values_in("Er is 800 miljoen euro beschikbaar gesteld.", "money")
    assert not values_in("Er werden 4 400 mensen opgevangen.", "money")
    assert values_in("Er werden 4 400 mensen opgevangen.", "count")
    # A year, a sum of money, a percentage, an article number or a date is no count.
    assert not values_in("In 2021 is 3 miljoen EUR (12 %) besteed, zie artikel 5 van 4 maart 2022.", "count")


def test_number_words_fractions_and_ranges() -> None:
    assert values_in("Slechts een derde van de betrokkenen wordt teruggestuurd.", "percentage")
    assert values_in("Ongeveer de helft van de aankomsten zijn kinderen.", "percentage")
    assert values_in("Het ging om ruim twee miljoen mensen.", "count")
    assert values_in("Drie lidstaten namen deel.", "count")
    assert values_in("De screening duurt ten hoogste vijf dagen.", "duration")
    assert values_in("De procedure moet binnen 12 weken zijn afgerond.", "duration")


# ---------------------------------------------------------------------------------------- the check


def test_a_money_question_is_not_answered_by_a_count() -> None:
    question = "Hoeveel geld is er uitgetrokken voor de opvang in Griekenland?"
    counted = verdict(question, "In Griekenland werden in 2022 ongeveer 4 400 mensen in de opvang ondergebracht.")
    assert counted.coverage == "partial" and counted.missing and counted.missing[0].startswith("bedrag")
    paid = verdict(question, "Voor de opvang in Griekenland is 276 miljoen EUR uitgetrokken.")
    assert paid.coverage == "answered" and not paid.missing
    assert paid.answering[0].text.startswith("Voor de opvang")


def test_the_year_asked_not_a_neighbouring_one() -> None:
    question = "Hoeveel asielaanvragen werden in 2023 ingediend?"
    other_year = verdict(question, "In 2022 werden 966 000 asielaanvragen ingediend.")
    assert other_year.coverage == "partial" and other_year.missing == ("cijfer voor 2023",)
    same_year = verdict(question, "In 2023 werden 1,1 miljoen asielaanvragen ingediend.")
    assert same_year.coverage == "answered"
    english = verdict(
        "How many asylum applications were lodged in 2023?",
        "In 2022 werden 966 000 asielaanvragen ingediend.",
        language="en",
    )
    assert english.coverage == "partial" and english.missing == ("figure for 2023",)


def test_periods_halves_ranges_and_so_far() -> None:
    half = "Welk percentage van de asielzoekers kreeg in de eerste helft van 2025 bescherming?"
    assert (
        verdict(half, "In de eerste helft van 2025 kreeg 33 % van de asielzoekers bescherming.").coverage == "answered"
    )
    assert (
        verdict(half, "In de tweede helft van 2025 kreeg 42 % van de asielzoekers bescherming.").coverage != "answered"
    )
    span = "How many people were resettled between 2015 and 2019?"
    assert verdict(span, "In 2017 werden 24 000 mensen hervestigd.", language="en").coverage == "answered"
    assert verdict(span, "In 2021 werden 24 000 mensen hervestigd.", language="en").coverage != "answered"
    so_far = "Hoeveel terugkeerbevelen zijn er tot dusver uitgevaardigd?"
    assert verdict(so_far, "Er zijn 1 200 terugkeerbevelen uitgevaardigd.", year=None).coverage == "answered"


def test_the_place_asked() -> None:
    question = "Hoeveel irreguliere aankomsten waren er in 2022 op Cyprus?"
    malta = verdict(question, "In 2022 waren er 1 200 irreguliere aankomsten op Malta.")
    assert malta.coverage == "partial" and malta.missing == ("cijfer voor Cyprus",)
    assert verdict(question, "Op Cyprus waren er in 2022 ruim 20 000 irreguliere aankomsten.").coverage == "answered"


def test_a_person_question_needs_a_name() -> None:
    question = "Wie is de voorzitter van de Europese Commissie?"
    assert verdict(question, "De voorzitter van de Commissie kondigde een nieuw pact aan.").coverage != "answered"
    named = verdict(question, "De voorzitter van de Commissie, voorzitter Von der Leyen, kondigde een nieuw pact aan.")
    assert named.coverage == "answered"


def test_a_figure_in_a_footnote_answers_with_the_sentence_that_cites_it() -> None:
    footnote = source(
        "Bron: Frontex, 12 347 aankomsten tot 25 september.",
        footnote=45,
        context="Op de Atlantische route naar de Canarische Eilanden waren er tot dusver minder aankomsten.",
    )
    question = "Hoeveel aankomsten waren er in 2022 op de Canarische Eilanden?"
    assert check(analyse(question, "nl"), [footnote]).coverage == "answered"


def test_sentences_about_something_else_do_not_cover_a_question() -> None:
    result = verdict(
        "Hoeveel asielaanvragen ontving Denemarken?",
        "De Commissie zal een strategie voor digitalisering van visumprocedures voorstellen.",
        "Het pact legt de nadruk op partnerschappen met derde landen.",
    )
    assert result.coverage == "not_covered"


def test_a_question_of_two_parts_is_partial_when_one_is_answered() -> None:
    result = verdict(
        "Hoeveel mensen zijn in 2022 hervestigd, en hoeveel geld is daarvoor uitgetrokken?",
        "In 2022 zijn ruim 20 000 mensen hervestigd in de EU.",
    )
    assert result.coverage == "partial" and result.missing and result.missing[0].startswith("bedrag")


def test_more_number_words_count() -> None:
    assert values_in("Het netwerk is actief in meer dan zeventig landen.", "count")
    assert values_in("Vijfentwintig lidstaten dienden een plan in.", "count")
    assert values_in("Twenty-five member states submitted a plan.", "count")
    assert values_in("Er lopen tientallen projecten.", "count")
    assert not values_in("Een aantal landen doet mee.", "count")  # "een" is an article, not a number


def test_a_year_the_sentence_compares_with_is_not_its_own() -> None:
    # "net als in 2021", "tegen … in 2021", "Ter vergelijking: … 2019" name the year compared with; the sentence's
    # own year is its document's (dev split: 2 answered items were partial on the compared year).
    question = "Welke lidstaten ontvingen in 2022 de meeste asielaanvragen?"
    said = (
        "Afghanen dienden de meeste aanvragen in, en net als in 2021 ontvingen Duitsland, Frankrijk en Spanje de "
        "meeste asielaanvragen."
    )
    assert verdict(question, said).coverage == "answered"
    assert verdict(question, said, year=2021).coverage == "partial"  # a 2021 document: the figure is 2021's
    compared = "Ter vergelijking: in dezelfde periode van 2019 waren dat er 375 288."
    assert verdict(question, f"{compared} {said}").coverage == "answered"  # nor the sentence before it
    against = "In de eerste zeven maanden werden bijna 480 000 asielaanvragen ingediend, tegen 290 000 in 2021."
    assert verdict("Hoeveel asielaanvragen werden in 2022 ingediend?", against).coverage == "answered"


def test_a_web_address_holds_no_year_and_no_count() -> None:
    footnote = source(
        "https://ec.europa.eu/eurostat/web/interactive-publications/migration-2025#protection; de drie "
        "belangrijkste landen van herkomst zijn Syrië, Afghanistan en Venezuela.",
        footnote=12,
        context="Alleen al in 2024 kregen ongeveer 438 000 asielzoekers bescherming.",
    )
    question = "Uit welke drie landen van herkomst kwamen de meeste asielzoekers die in 2024 bescherming kregen?"
    assert check(analyse(question, "nl"), [footnote]).coverage == "answered"
    assert not values_in("Zie https://home-affairs.ec.europa.eu/news/2022-07/item_1 voor de verklaring.", "count")


def test_dutch_ten_is_no_number() -> None:
    assert not values_in("De lidstaten worden ten volle ondersteund, ten opzichte van vorig jaar.", "count")
    assert values_in("Ten member states took part.", "count")


def test_a_value_of_something_the_documents_never_name_does_not_answer() -> None:
    # No chunk holds "contractant" or "aannemer": an organisation in a sentence is no contractor.
    idf = {t: 0.0 for t in terms("contractant contractanten aannemer")}
    idf |= {t: 3.0 for t in terms("externe studie digitalisering asiel")}
    said = source("Het Asielagentschap voert de externe studie over digitalisering van asiel uit.")
    contractor = analyse("Which contractor carries out the external study on digitalising asylum?", "en", idf)
    assert check(contractor, [said]).coverage == "partial"
    organisation = analyse("Which organisation carries out the external study on digitalising asylum?", "en", idf)
    assert check(organisation, [said]).coverage == "answered"


def test_a_later_part_pointing_back_is_about_the_named_thing() -> None:
    question = (
        "Wat is onder het vrijwillige solidariteitsmechanisme de voorkeursvorm van solidariteit, en hoe lang loopt het?"
    )
    said = (
        "Herplaatsing is de voorkeursvorm van solidariteit, maar de lidstaten kunnen ook financiële bijdragen "
        "leveren. In juni 2022 is een vrijwillig solidariteitsmechanisme ingesteld. Het mechanisme wordt na één "
        "jaar stopgezet."
    )
    result = verdict(question, said)
    assert result.coverage == "answered", result.missing
    assert result.answering[1].text.startswith("Het mechanisme wordt na één jaar")


def test_a_why_question_is_not_answered_by_its_own_premise() -> None:
    question = "Waarom worden de opvangcentra in Griekenland te weinig gebruikt?"
    premise = verdict(
        question, "Omdat de opvangcentra in Griekenland te weinig worden gebruikt, zal de Commissie steun bieden."
    )
    assert premise.coverage == "partial" and premise.missing[0].startswith("reden")
    reason = verdict(
        question, "De opvangcentra in Griekenland worden te weinig gebruikt omdat zij ver van de steden liggen."
    )
    assert reason.coverage == "answered"
    led_to = verdict(
        question, "Het gebrek aan vervoer heeft geleid tot te weinig gebruik van de opvangcentra in Griekenland."
    )
    assert led_to.coverage == "answered"


def test_a_count_of_something_else_does_not_answer() -> None:
    question = "Hoeveel asielzoekers zijn in 2022 herplaatst?"
    places = verdict(question, "De opvang van herplaatste asielzoekers groeide in 2022 tot 8 000 plaatsen.")
    assert places.coverage == "partial"
    people = verdict(question, "In 2022 zijn 8 000 asielzoekers herplaatst.")
    assert people.coverage == "answered"
    total = verdict(question, "In 2022 zal het aantal herplaatste asielzoekers 8 000 bedragen.")
    assert total.coverage == "answered"


def test_the_year_before_in_a_second_part() -> None:
    question = "Met hoeveel procent daalde het aantal aankomsten in 2024, en hoe groot was de daling het jaar daarvoor?"
    both = verdict(question, "Het aantal aankomsten daalde in 2024 met 20 %, na een daling van 30 % in 2023.")
    assert both.coverage == "answered"
    one = verdict(question, "Het aantal aankomsten daalde in 2024 met 20 %.", year=None)
    assert one.coverage == "partial" and one.missing == ("cijfer voor 2023",)


def test_an_adjective_of_a_country_is_no_place_answer() -> None:
    question = "Waar in Italië komt het nieuwe opvangcentrum?"
    french = verdict(question, "Het nieuwe opvangcentrum in Italië werd door het Franse voorzitterschap besproken.")
    assert french.coverage == "partial"
    named = verdict(question, "Het nieuwe opvangcentrum in Italië komt op Lampedusa.")
    assert named.coverage == "answered"


def test_a_follow_up_needs_one_of_the_earlier_questions_names() -> None:
    question = "Hoeveel deskundigen zet het in — Sinds wanneer werkt het Asielagentschap als opvolger van EASO?"
    result = verdict(
        question,
        "Sinds 2022 werkt het Asielagentschap als opvolger van het bureau; het zet 1 000 deskundigen in.",
    )
    assert result.coverage == "answered"


def test_a_contractor_question_needs_an_organisation() -> None:
    result = verdict(
        "Which contractor carries out the study on digital asylum systems?",
        "De Commissie is begonnen met een studie over digitale asielsystemen.",
        language="en",
    )
    assert result.coverage == "partial" and result.missing[0].startswith("organisation")


def test_a_count_of_other_things_does_not_answer_a_question_counting_a_noun_of_two_words() -> None:
    question = "How many asylum seekers had been relocated under the voluntary solidarity mechanism?"
    states = verdict(
        question,
        "Naast 18 lidstaten hebben ook Noorwegen en Zwitserland de verklaring voor het vrijwillig "
        "solidariteitsmechanisme ondertekend.",
        language="en",
    )
    assert states.coverage == "partial", states.missing
    people = verdict(
        question, "Onder het vrijwillig solidariteitsmechanisme zijn 1 200 asielzoekers herplaatst.", language="en"
    )
    assert people.coverage == "answered"


def test_a_list_question_is_not_answered_by_how_many_there_are() -> None:
    question = "Welke beroepen heeft de EU-talentenpool geïdentificeerd?"
    count = verdict(question, "De EU-talentenpool heeft al 42 beroepen geïdentificeerd waarvoor er tekorten zijn.")
    assert count.coverage == "partial" and count.missing[0].startswith("opsomming")
    named = verdict(
        question, "De EU-talentenpool heeft de beroepen verpleegkundige, lasser en chauffeur geïdentificeerd."
    )
    assert named.coverage == "answered"


def test_a_phrase_between_commas_or_after_a_colon_is_no_list() -> None:
    assert not values_in("De pool, het eerste instrument op EU-niveau dat werkgevers koppelt, zal helpen.", "list")
    assert not values_in("Zie het werk van de OESO: Building an EU Talent Pool, 2019.", "list")
    assert values_in("Zij komen vooral uit Syrië, Afghanistan en Venezuela.", "list")
    assert values_in("Het gaat om opvang, terugkeer, integratie, grensbeheer.", "list")
    assert values_in("De instrumenten: a) migratieprofielen b) migratiemissies.", "list")


def test_a_list_question_needs_its_noun_not_a_compound_that_starts_with_it() -> None:
    question = "Welke beroepen heeft de EU-talentenpool geïdentificeerd?"
    other = verdict(
        question, "De EU-talentenpool helpt de beroepsbevolking te activeren en heeft tekorten geïdentificeerd."
    )
    assert other.coverage == "partial"
    own = verdict(question, "De EU-talentenpool heeft beroepen in de zorg en de bouw geïdentificeerd.")
    assert own.coverage == "answered"


def test_a_place_that_the_question_is_about_must_be_named() -> None:
    question = (
        "Waarom is er met Kosovo geen statusovereenkomst gesloten, terwijl dat met de Westelijke Balkan wel is gebeurd?"
    )
    region = verdict(
        question,
        "Dankzij statusovereenkomsten met de partners van de Westelijke Balkan kunnen grenswachten daar samenwerken.",
    )
    assert region.coverage == "partial" and region.missing[0].startswith("reden")
    kosovo = verdict(
        question,
        "Met Kosovo is geen statusovereenkomst gesloten omdat niet alle lidstaten Kosovo erkennen, anders dan in "
        "de rest van de Westelijke Balkan.",
    )
    assert kosovo.coverage == "answered"


def test_a_cause_in_a_clause_about_another_country_is_no_reason() -> None:
    question = "Why did Hungary decide not to submit a national strategy?"
    other = verdict(
        question,
        "Denemarken is niet gehouden aan de verplichting om een nationale strategie in te dienen, terwijl Hongarije "
        "heeft meegedeeld dat het er geen zal indienen.",
        language="en",
    )
    assert other.coverage == "partial" and other.missing[0].startswith("reason")
    own = verdict(
        question,
        "Hongarije heeft geen nationale strategie ingediend omdat het de verordening niet steunt, terwijl "
        "Denemarken er niet aan gebonden is.",
        language="en",
    )
    assert own.coverage == "answered"


def test_an_extra_amount_is_not_the_amount_asked() -> None:
    question = "Hoeveel bedroeg de begroting voor humanitaire hulp in 2020?"
    extra = verdict(question, "In 2020 is 485 miljoen EUR extra vrijgemaakt voor humanitaire hulp.")
    assert extra.coverage == "partial"
    total = verdict(question, "In 2020 bedroeg de begroting voor humanitaire hulp 1,8 miljard EUR.")
    assert total.coverage == "answered"
    asked = verdict(
        "Hoeveel extra geld is in 2020 vrijgemaakt voor humanitaire hulp?",
        "In 2020 is 485 miljoen EUR extra vrijgemaakt voor humanitaire hulp.",
    )
    assert asked.coverage == "answered"


def test_in_a_sentence_of_items_a_value_belongs_to_its_own_item() -> None:
    question = "Naar welke landen zijn migratiemissies gestuurd?"
    items = (
        "De totaalaanpak gebruikte a) migratiemissies, gezonden naar zeventien landen, b) samenwerkingsplatforms in "
        "Ethiopië, en c) mobiliteitspartnerschappen met Moldavië en Georgië."
    )
    assert verdict(question, items).coverage == "partial"
    own = "De totaalaanpak gebruikte a) migratiemissies, gezonden naar Ethiopië en Niger, b) samenwerkingsplatforms."
    assert verdict(question, own).coverage == "answered"


# ---------------------------------------------------------------------------------------- a model's verdict


def test_the_verdict_line_is_read_and_taken_out_of_the_answer() -> None:
    text, stated = parse_stated(
        "In 2019 werden 698 000 aanvragen ingediend [1].\n\nDEKKING: volledig — ontbreekt: niets"
    )
    assert text == "In 2019 werden 698 000 aanvragen ingediend [1]." and stated is not None
    assert stated.coverage == "answered" and stated.missing == ()
    text, stated = parse_stated("The amount is not given [1].\n**COVERAGE: partial — missing: the amount; the year**")
    assert text == "The amount is not given [1]." and stated is not None
    assert (stated.coverage, stated.missing) == ("partial", ("the amount", "the year"))
    assert parse_stated("Geen regel hier [1].") == ("Geen regel hier [1].", None)


def test_the_verdict_line_never_streams_to_the_reader() -> None:
    hidden = VerdictLineFilter()
    pieces = ["In 2019 ", "werden 698 000 [1].\n", "\nDEK", "KING: vol", "ledig — ontbreekt: niets"]
    shown = "".join(hidden.feed(p) for p in pieces) + hidden.flush()
    assert "DEKKING" not in shown and shown.startswith("In 2019 werden 698 000 [1].")
    other = VerdictLineFilter()
    assert other.feed("Dekkingsgraad ") + other.feed("is hoog.") + other.flush() == "Dekkingsgraad is hoog."


def test_a_model_claiming_a_figure_no_source_holds_gets_partial_with_the_claim_flagged() -> None:
    analysis = analyse("Hoeveel asielaanvragen ontving Nederland in 2023?", "nl")
    sources = [source("In 2022 werden in de EU 966 000 asielaanvragen ingediend.")]
    offline = check(analysis, sources)
    _, stated = parse_stated("x\nDEKKING: volledig — ontbreekt: niets")
    claim = "Nederland ontving in 2023 45 000 asielaanvragen [1]."
    combined = combine(stated, offline, analysis, claim, sources)
    assert combined.coverage == "partial" and combined.flagged == (claim,) and combined.missing
    # A model that agrees with a check that finds the answer: answered.
    held = [source("In 2023 ontving Nederland 45 000 asielaanvragen.")]
    agreed = combine(stated, check(analysis, held), analysis, claim, held)
    assert agreed.coverage == "answered" and not agreed.flagged


# ---------------------------------------------------------------------------------------- the real assistant


@pytest.fixture(scope="module")
def assistant(corpus_components) -> Assistant:  # type: ignore[no-untyped-def]
    return corpus_components.assistant


def test_an_unanswerable_question_about_a_real_programme_names_what_is_missing(assistant: Assistant) -> None:
    for question in (
        "Hoeveel geld krijgt de EU-talentenpool elk jaar?",
        "How much money does the EU Talent Pool receive each year?",
    ):
        answer = assistant.ask(question)
        assert answer.coverage in ("partial", "not_covered"), answer.text
        assert answer.missing, answer.text
        assert answer.refused == (answer.coverage == "not_covered")
        if answer.coverage == "partial":
            assert answer.text.startswith(("De documenten noemen geen", "The documents give no")), answer.text
            assert "[1]" in answer.text or "[2]" in answer.text  # what the documents do give, cited


def test_a_figure_for_another_year_is_partial_not_an_answer(assistant: Assistant) -> None:
    answer = assistant.ask("Hoeveel asielaanvragen werden in 2017 in de EU ingediend?")
    assert answer.coverage != "answered" and any("2017" in m for m in answer.missing), answer.text


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("How many vulnerable people were resettled in the EU since 2015?", "38 000"),
        ("How many asylum applications were lodged in the EU in 2019?", "698 000"),
        ("What is the purpose of the screening before entry?", ""),
    ],
)
def test_answerable_english_questions_are_not_refused(assistant: Assistant, question: str, fact: str) -> None:
    answer = assistant.ask(question)
    assert answer.coverage != "not_covered" and not answer.refused, answer.text
    assert fact in answer.text


def test_the_verdict_travels_with_the_answer_and_is_stored_with_the_turn(assistant: Assistant, tmp_path: Path) -> None:
    answer = assistant.ask("Hoeveel asielaanvragen werden in 2017 in de EU ingediend?")
    data = answer.to_json()
    assert data["coverage"] == answer.coverage and data["missing"] == list(answer.missing)
    assert Answer.from_json(data).coverage == answer.coverage
    store = ConversationStore(tmp_path / "conversations.sqlite3")
    conversation = store.get_or_new(None)
    store.record(conversation, answer)
    stored = store.history(conversation.id)[-1].answer
    assert (stored.coverage, stored.missing, stored.refused) == (answer.coverage, answer.missing, answer.refused)
    store.close()


# ---------------------------------------------------------------------------------------- openai mode over HTTP


@pytest.fixture
def generative(corpus_components, scripted_openai: ScriptedOpenAIServer) -> Assistant:  # type: ignore[no-untyped-def]
    llm = OpenAIChat(scripted_openai.base_url, "scripted-model", timeout=2.0, max_retries=1)
    return Assistant(
        retriever=corpus_components.retriever,
        extractive=ExtractiveAnswerer(corpus_components.embedder),
        generative=GenerativeAnswerer(llm),
        llm=llm,
        default_mode="openai",
    )


def test_openai_agreeing_verdict(generative: Assistant, scripted_openai: ScriptedOpenAIServer) -> None:
    scripted_openai.reply_text(
        ["In 2019 werden ", "698 000 asielaanvragen ", "ingediend [1].\n", "DEKKING: volledig — ontbreekt: niets"]
    )
    events = list(generative.ask_stream("Hoeveel asielaanvragen werden in 2019 ingediend?"))
    answer = next(e.answer for e in events if isinstance(e, Done))
    streamed = "".join(e.text for e in events if isinstance(e, Delta))
    assert answer.coverage == "answered" and not answer.missing and not answer.refused
    assert "DEKKING" not in answer.text and "DEKKING" not in streamed and "698 000" in answer.text
    system = scripted_openai.chat_requests[0].body["messages"][0]["content"]
    assert "DEKKING: volledig|gedeeltelijk|niet" in system


def test_openai_claiming_a_figure_the_sources_lack_is_partial(
    generative: Assistant, scripted_openai: ScriptedOpenAIServer
) -> None:
    scripted_openai.reply_text(
        "Nederland ontving in 2023 45 123 asielaanvragen [1].\nDEKKING: volledig — ontbreekt: niets"
    )
    answer = generative.ask("Hoeveel asielaanvragen ontving Nederland in 2023?")
    assert answer.coverage == "partial" and answer.missing and not answer.refused
    assert any("45 123" in f for f in answer.flagged)


def test_openai_stated_partial_and_none(generative: Assistant, scripted_openai: ScriptedOpenAIServer) -> None:
    scripted_openai.reply_text(
        "The Talent Pool matches employers with jobseekers [1]. The documents give no budget.\n"
        "COVERAGE: partial — missing: the budget of the Talent Pool"
    )
    partial = generative.ask("What budget does the EU Talent Pool have?")
    assert partial.coverage == "partial" and partial.missing == ("the budget of the Talent Pool",)
    scripted_openai.reply_text(
        "Dat staat niet in de documenten.\nDEKKING: niet — ontbreekt: bedrag voor de talentenpool"
    )
    refused = generative.ask("Hoeveel geld krijgt de talentenpool?")
    assert refused.coverage == "not_covered" and refused.refused
    assert refused.missing == ("bedrag voor de talentenpool",) and refused.text.startswith(
        "Dat staat niet in de documenten."
    )


# ---------------------------------------------------------------------------------------- shown to the user


def _partial(language: Language) -> Answer:
    missing = ("bedrag voor de talentenpool",) if language == "nl" else ("amount for the Talent Pool",)
    return Answer(
        question="q",
        standalone_question="q",
        language=language,
        mode=Mode(),
        text="De documenten noemen geen bedrag voor de talentenpool; wel staat er: De talentenpool start. [1]",
        sources=(source("De talentenpool start."),),
        coverage="partial",
        missing=missing,
    )


def test_the_web_ui_shows_a_badge_and_what_is_missing() -> None:
    from ui.web.render import answer_markdown

    shown = answer_markdown(_partial("nl"), 1, "nl")
    assert "pa-coverage-partial" in shown and "Gedeeltelijk gedekt" in shown
    assert "bedrag voor de talentenpool" in shown.replace("\\", "")
    answered = answer_markdown(replace(_partial("nl"), coverage="answered", missing=()), 1, "en")
    assert "Covered by the documents" in answered


def test_slack_shows_the_verdict_and_what_is_missing() -> None:
    from ui.slack.blocks import answer_blocks

    blocks, fallback = answer_blocks(_partial("en"), "v")
    texts = " ".join(str(b) for b in blocks)
    assert "Partly covered" in texts and "amount for the Talent Pool" in texts
    assert fallback.startswith("⚠️")


def test_the_topic_check_for_comparisons() -> None:
    from assistant.answer import AnswerRequest
    from assistant.coverage import CoverageTopicCheck

    about = AnswerRequest(
        "terugkeer van afgewezen asielzoekers", "nl", (source("De terugkeer van afgewezen asielzoekers blijft laag."),)
    )
    elsewhere = AnswerRequest(
        "terugkeer van afgewezen asielzoekers", "nl", (source("De blauwe kaart trekt talent aan."),)
    )
    assert CoverageTopicCheck().addressed(about, [], 0.9)
    assert not CoverageTopicCheck().addressed(elsewhere, [], 0.9)
