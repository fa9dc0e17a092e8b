"""The evaluation's scoring functions on small hand-made cases."""

from __future__ import annotations

import pytest

from assistant.types import Source
from eval.metrics import (
    answer_language,
    citation_precision,
    citations_valid,
    confusion,
    evidence_in,
    fact_in,
    first_hit_rank,
    key_fact_recall,
    key_facts_found,
    mean,
    parse_judge_reply,
    percentile,
    verdict_rates,
)


def source(n: int, text: str) -> Source:
    return Source(
        n=n,
        chunk_id=f"c{n}",
        doc_id="pact-2020",
        doc_title="Pact",
        doc_short_title="Pact",
        year=2020,
        section="1. Inleiding",
        section_path="1. Inleiding",
        text=text,
        similarity=0.9,
    )


# ------------------------------------------------------------------------------------------- key facts


@pytest.mark.parametrize(
    "text", ["ruim 38 000 mensen", "ruim 38.000 mensen", "more than 38,000 people", "ruim 38\u00a0000 mensen", "38000"]
)
def test_thousands_written_any_way_are_the_same_number(text: str) -> None:
    assert fact_in("38 000", text)
    assert fact_in("38.000", text)


@pytest.mark.parametrize("text", ["380 000 mensen", "3 800 mensen", "in 2038 werden 000"])
def test_a_different_number_is_not_the_key_fact(text: str) -> None:
    assert not fact_in("38 000", text)


@pytest.mark.parametrize("text", ["4.7%", "4,7 %", "4,7 procent", "4.7 percent", "a rise of 4.7 per cent"])
def test_decimal_comma_and_percent_sign_are_normalised(text: str) -> None:
    assert fact_in("4,7 %", text)


def test_a_percentage_with_other_digits_is_not_found() -> None:
    assert not fact_in("4,7 %", "47 %")
    assert not fact_in("4,7 %", "4,75 %")


@pytest.mark.parametrize(
    ("fact", "text"),
    [
        ("twaalf", "twelve"),
        ("twaalf", "12"),
        ("12", "twaalf"),
        ("twelve", "twaalf"),
        ("zes", "six"),
        ("six", "6"),
        ("6", "zes"),
        ("twaalf weken", "within 12 weeks"),
        ("twaalf weken", "binnen twaalf weken"),
        ("twaalf weken", "twelve weeks"),
        ("elf miljoen", "11 million"),
        ("1,28 miljoen", "1.28 million applications"),
        ("een derde", "only about a third left"),
        ("een derde", "one third"),
        ("juni 2016", "in June 2016"),
    ],
)
def test_dutch_and_english_number_words_and_units_match(fact: str, text: str) -> None:
    assert fact_in(fact, text)


def test_a_number_is_matched_whole_not_inside_a_year() -> None:
    assert not fact_in("12", "in 2012")
    assert not fact_in("twaalf", "in 2012")
    assert not fact_in("zes", "zestig landen")


@pytest.mark.parametrize(
    ("fact", "text"),
    [
        ("Oekraïne", "de oorlog in oekraine"),
        ("oekraine", "de oorlog in Oekraïne"),
        ("EUROSUR", "het Eurosur-systeem"),
        ("Tunesië", "TUNESIE"),
    ],
)
def test_case_and_diacritics_are_ignored(fact: str, text: str) -> None:
    assert fact_in(fact, text)


def test_dutch_inflections_and_compounds_count() -> None:
    assert fact_in("blauwe kaart", "een herziene blauwekaartregeling")
    assert fact_in("veilig derde land", "het begrip veilige derde landen")
    assert fact_in("terugkeerhubs", "een terugkeerhub buiten de EU")


def test_glossary_translations_of_dutch_key_facts_count_in_english_answers() -> None:
    assert fact_in("blauwe kaart", "The revised EU Blue Card scheme [1]")
    assert fact_in("vingerafdrukken", "fingerprints are taken at the border")
    assert not fact_in("blauwe kaart", "a residence permit")


def test_citation_markers_are_not_numbers_of_the_answer() -> None:
    assert not fact_in("2", "De Commissie stelt een screening voor. [2]")


def test_key_fact_recall_is_the_share_of_facts_found() -> None:
    answer = "Sinds 2015 hebben ruim 38.000 kwetsbare mensen onderdak gekregen. [1]"
    assert key_fact_recall(["38 000", "2015"], answer) == 1.0
    assert key_fact_recall(["38 000", "2015", "Juncker"], answer) == pytest.approx(2 / 3)
    assert key_facts_found(["38 000", "Juncker"], answer) == (["38 000"], ["Juncker"])


def test_a_deliberately_wrong_answer_scores_low() -> None:
    wrong = "Sinds 2016 zijn 83 000 mensen via hervestiging naar Canada gegaan. [1]"
    assert key_fact_recall(["38 000", "2015"], wrong) == 0.0
    assert key_fact_recall(["een derde", "irreguliere migratie"], "Ongeveer de helft keert terug. [1]") == 0.0


def test_no_key_facts_means_no_recall_score() -> None:
    assert key_fact_recall([], "Dat staat niet in de documenten.") is None


# ------------------------------------------------------------------------------------------- retrieval


def test_evidence_is_found_across_whitespace_footnote_markers_and_chunk_boundaries() -> None:
    evidence = "Sinds 2015 is er met twee succesvolle EU-hervestigingsregelingen toe bijgedragen dat ruim 38 000"
    assert evidence_in(
        evidence,
        "Sinds 2015 is er met twee\nsuccesvolle   EU-hervestigingsregelingen toe "
        "bijgedragen dat ruim 38 000 van de meest kwetsbare mensen",
    )
    assert evidence_in("de Commissie heeft een voorstel ingediend", "de Commissie12 heeft een voorstel ingediend")
    # the chunk ends after more than half of the quote; a quarter is not enough
    assert evidence_in(evidence, "... tekst ervoor. Sinds 2015 is er met twee succesvolle EU-hervestigingsregelingen")
    assert not evidence_in(evidence, "... tekst ervoor. Sinds 2015 is er")
    assert not evidence_in(evidence, "Een tekst over iets anders, zonder hervestiging.")


def test_first_hit_rank_is_where_the_last_evidence_appears() -> None:
    third = "Van de mensen die het bevel krijgen uit een lidstaat terug te keren, vertrekt momenteel slechts een derde."
    quarter = "Momenteel doet slechts ongeveer een kwart van de migranten die de Unie moet verlaten dat ook werkelijk."
    texts = ["Over visumbeleid en grenzen.", third, "Over legale migratie en talent.", quarter]
    assert first_hit_rank([third], texts) == 2
    assert first_hit_rank([third, quarter], texts) == 4  # a cross-document item needs both passages
    missing = "Een zin die in geen enkele bron van deze lijst voorkomt, hoe dan ook."
    assert first_hit_rank([third, missing], texts) is None
    assert first_hit_rank([], texts) is None


# ------------------------------------------------------------------------------------------- citations


def test_citations_are_valid_only_when_every_marker_points_at_a_source() -> None:
    sources = [source(1, "a"), source(2, "b")]
    assert citations_valid("Zin een [1]. Zin twee [2][1].", sources) is True
    assert citations_valid("Zin een [1]. Zin twee [3].", sources) is False
    assert citations_valid("Zin [1, 4].", sources) is False
    assert citations_valid("Geen bronnen genoemd.", sources) is None


def test_citation_precision_counts_cited_sources_holding_the_evidence_or_a_key_fact() -> None:
    sources = [
        source(1, "Na de piek in 2015, toen 1,28 miljoen asielaanvragen werden ingediend, nam het aantal af."),
        source(2, "De screening omvat identificatie en vingerafdrukken."),
        source(3, "In 2019 werden 698 000 aanvragen ingediend."),
    ]
    evidence = ["toen 1,28 miljoen asielaanvragen werden ingediend"]
    facts = ["1,28 miljoen", "698 000"]
    assert citation_precision("In 2015 [1].", sources, evidence, facts) == 1.0
    assert citation_precision("In 2015 [1]. Screening [2].", sources, evidence, facts) == 0.5
    assert citation_precision("In 2019 [3].", sources, evidence, facts) == 1.0  # holds a key fact
    assert citation_precision("Screening [2].", sources, evidence, facts) == 0.0
    assert citation_precision("Geen markers.", sources, evidence, facts) is None
    assert citation_precision("Iets [1].", sources, [], []) is None  # an unanswerable item


# ------------------------------------------------------------------------------------------- language


def test_english_extractive_answer_quoting_dutch_is_english() -> None:
    text = (
        "The documents say (quoted in Dutch): “De Commissie heeft in juni 2016 een herziene regeling inzake "
        "de Europese blauwe kaart voorgesteld.” [1] “Daarom is het van belang dat de lidstaten dit doen.” [2]"
    )
    assert answer_language(text, refused=False, language="nl") == "en"


def test_dutch_answer_is_dutch() -> None:
    text = "De Commissie heeft in juni 2016 een herziene regeling inzake de Europese blauwe kaart voorgesteld. [1]"
    assert answer_language(text, refused=False, language="en") == "nl"


def test_a_refusal_is_in_the_answers_own_language() -> None:
    text = "The documents don't cover this. The nearest passages: [1] Migratie- en asielpact — 2.1 Nieuwe procedures"
    assert answer_language(text, refused=True, language="en") == "en"
    assert answer_language("Dat staat niet in de documenten.", refused=True, language="nl") == "nl"


# ------------------------------------------------------------------------------------------- refusal, latency


def test_verdict_rates_count_partial_naming_the_missing_element_as_a_refusal() -> None:
    expected = ["not_covered", "not_covered", "not_covered", "answered", "answered", "answered", "partial"]
    got = ["not_covered", "partial", "partial", "not_covered", "partial", "answered", "partial"]
    named = [False, True, False, False, True, False, True]
    rates = verdict_rates(expected, got, named)
    assert rates["recall"] == pytest.approx(2 / 3)  # the partial that names nothing missing does not count
    assert rates["false_rate"] == pytest.approx(1 / 4)  # not_covered on one of four answerable items
    assert rates["partial_rate"] == pytest.approx(1 / 3)  # of the three fully answerable items
    assert rates["partial_recall"] == 1.0
    assert verdict_rates(["answered"], ["answered"], [False])["recall"] is None


def test_confusion_counts_every_verdict_pair() -> None:
    table = confusion(["not_covered", "answered", "answered"], ["partial", "answered", "not_covered"])
    assert table["not_covered"] == {"answered": 0, "partial": 1, "not_covered": 0}
    assert table["answered"] == {"answered": 1, "partial": 0, "not_covered": 1}
    assert sum(table["partial"].values()) == 0


def test_latency_percentiles_use_the_nearest_rank() -> None:
    latencies = [float(n) for n in range(1, 21)]  # 1 .. 20 ms
    assert percentile(latencies, 50) == 10.0
    assert percentile(latencies, 95) == 19.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_mean_skips_items_a_metric_does_not_apply_to() -> None:
    assert mean([True, False, None, True]) == pytest.approx(2 / 3)
    assert mean([None, None]) is None


# ------------------------------------------------------------------------------------------- judge


@pytest.mark.parametrize(
    ("reply", "score"),
    [
        ('{"score": 0.75, "reason": "one claim unsupported"}', 0.75),
        ('```json\n{"score": 1, "reason": "all supported"}\n```', 1.0),
        ('Here you go: {"score": 1.4, "reason": "x"}', 1.0),
        ('{"score": -1, "reason": "x"}', 0.0),
    ],
)
def test_judge_replies_are_parsed_and_clamped(reply: str, score: float) -> None:
    assert parse_judge_reply(reply)[0] == score


@pytest.mark.parametrize("reply", ["I think it is fine.", '{"reason": "no score"}', '{"score": "high"}'])
def test_a_judge_reply_without_a_score_is_an_error(reply: str) -> None:
    with pytest.raises(ValueError, match="JSON score"):
        parse_judge_reply(reply)
