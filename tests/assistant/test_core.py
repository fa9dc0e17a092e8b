"""The assistant end to end on the real corpus index: extractive and generative answers, citations,
refusals and conversations (prompt injection is in test_injection.py). The generative endpoint is a real
local HTTP server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.answer import ExtractiveAnswerer, GenerativeAnswerer
from assistant.core import Assistant, Delta, Done, Policy
from assistant.llm import OpenAIChat
from errors import InputError, LLMError
from eval.gold import load_gold
from eval.metrics import evidence_in
from storage.conversations import ConversationStore
from tests.assistant import openai_server
from tests.assistant.openai_server import ScriptedOpenAIServer

scripted_openai = openai_server.scripted_openai

GOLD = load_gold()


def make_assistant(
    components,
    *,
    llm=None,
    policy: Policy | None = None,
    conversations=None,  # type: ignore[no-untyped-def]
    mode: str = "extractive",
) -> Assistant:
    return Assistant(
        retriever=components.retriever,
        extractive=ExtractiveAnswerer(components.embedder),
        generative=GenerativeAnswerer(llm) if llm else None,
        llm=llm,
        conversations=conversations,
        policy=policy or Policy(),
        default_mode=mode,
    )


@pytest.fixture(scope="module")
def assistant(corpus_components) -> Assistant:  # type: ignore[no-untyped-def]
    return make_assistant(corpus_components)


def _fold(text: str) -> str:
    from eval.metrics import normalise

    return normalise(text)


# ---------------------------------------------------------------------------------------- extractive


def test_dutch_gold_answers_hold_their_key_facts_and_cite_the_source(assistant: Assistant) -> None:
    items = [i for i in GOLD if i.lang == "nl" and i.kind in ("factoid", "number") and i.key_facts]
    good = 0
    failures = []
    for item in items:
        answer = assistant.ask(item.question)
        facts = all(_fold(f) in _fold(answer.text) for f in item.key_facts)
        cited_sources = [s for s in answer.sources if f"[{s.n}]" in answer.text]
        cites_evidence = any(evidence_in(e, s.text) for s in cited_sources for e in item.evidence) or any(
            _fold(f) in _fold(s.text) for s in cited_sources for f in item.key_facts
        )
        if facts and cites_evidence and not answer.refused:
            good += 1
        else:
            failures.append(f"{item.id}: {answer.text[:120]}")
    share = good / len(items)
    assert share >= 0.6, f"only {share:.0%} of {len(items)} answers hold their key facts:\n" + "\n".join(failures)


OFF_TOPIC = [
    "Wat is de hoofdstad van Australië en hoeveel inwoners heeft Sydney?",
    "Welk team won het wereldkampioenschap voetbal in 2014?",
    "Hoe maak ik een appeltaart met kaneel?",
    "Wat is de formule voor de oppervlakte van een cirkel?",
    "Who painted the Mona Lisa?",
    "What is the boiling point of water at sea level?",
    "How do I reset my router password?",
    "Which planet is closest to the sun?",
]


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_questions_outside_the_documents_are_refused(assistant: Assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert answer.refused, answer.text
    assert answer.text.startswith(("Dat staat niet in de documenten.", "The documents don't cover this."))
    assert answer.sources, "a refusal still offers the nearest sources"


def test_gold_unanswerable_questions_get_a_verdict_that_names_the_gap(assistant: Assistant) -> None:
    # Issue 14: an unanswerable question counts as caught when its verdict is not_covered or partial (the
    # documents discuss the topic, not the detail asked). A regression guard below the level measured on the
    # dev split (0.82; the evaluation's floor of 0.75 is checked on the whole set by `eval`); the test split
    # stays out of the tests, which are run while tuning.
    items = [i for i in GOLD if i.kind == "unanswerable" and i.split == "dev"]
    answers = {i.id: assistant.ask(i.question) for i in items}
    caught = [i for i, a in answers.items() if a.coverage != "answered"]
    assert len(caught) / len(items) >= 0.7, f"caught only {caught} of {list(answers)}"
    assert all(answers[i].missing for i in caught if answers[i].coverage == "partial"), "a partial names the gap"


def test_answerable_questions_are_rarely_refused(assistant: Assistant) -> None:
    items = [i for i in GOLD if i.answerable and i.kind in ("factoid", "number") and i.lang == "nl"]
    refused = [i.id for i in items if assistant.ask(i.question).refused]
    assert len(refused) / len(items) <= 0.15, f"false refusals: {refused}"


def test_english_question_gets_english_framing_with_quoted_dutch(assistant: Assistant) -> None:
    answer = assistant.ask("How many vulnerable people were resettled in the EU since 2015?")
    assert answer.language == "en"
    assert answer.text.startswith("The documents say (quoted in Dutch):")
    assert "“" in answer.text and re.search(r"\[\d\]", answer.text)
    assert "38 000" in answer.text


def test_extractive_answers_are_deterministic(assistant: Assistant) -> None:
    question = "Welke landen waren betrokken bij de proefprojecten voor legale migratie?"
    assert assistant.ask(question).text == assistant.ask(question).text


def test_every_marker_resolves_and_sources_are_structured(assistant: Assistant) -> None:
    answer = assistant.ask("Wat is het doel van de screening vóór binnenkomst?")
    data = answer.to_json()
    assert set(data) >= {
        "question",
        "standalone_question",
        "language",
        "mode",
        "answer",
        "refused",
        "unverified",
        "sources",
        "latency_ms",
    }
    assert data["mode"] == "extractive"
    numbers = {s["n"] for s in data["sources"]}
    assert set(int(n) for n in re.findall(r"\[(\d+)\]", data["answer"])) <= numbers
    first = data["sources"][0]
    assert {"n", "doc_id", "doc_title", "section", "text", "score"} <= set(first)


def test_filters_restrict_the_sources(assistant: Assistant) -> None:
    answer = assistant.ask("Wat zegt de tekst over terugkeer?", doc_ids=["gamm-2011"])
    assert answer.sources and {s.doc_id for s in answer.sources} == {"gamm-2011"}
    by_year = assistant.ask("Wat zegt de tekst over terugkeer?", years=[2022])
    assert {s.year for s in by_year.sources} == {2022}


@pytest.mark.parametrize("question", ["", "   ", "x" * 2001])
def test_bad_questions_get_a_clear_message(assistant: Assistant, question: str) -> None:
    with pytest.raises(InputError, match="question"):
        assistant.ask(question)


# ---------------------------------------------------------------------------------------- conversation


def test_follow_up_uses_the_previous_question_and_survives_a_restart(corpus_components, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = ConversationStore(tmp_path / "conversations.sqlite3")
    assistant = make_assistant(corpus_components, conversations=store)
    first = assistant.ask("Hoeveel asielaanvragen werden in 2019 in de EU ingediend?", "gesprek-1")
    assert "698 000" in first.text
    store.close()

    reopened = ConversationStore(tmp_path / "conversations.sqlite3")  # as after a restart
    assistant = make_assistant(corpus_components, conversations=reopened)
    follow = assistant.ask("En in 2015?", "gesprek-1")
    assert "2015" in follow.standalone_question and "asielaanvragen" in follow.standalone_question
    assert "1,28 miljoen" in follow.text
    history = reopened.history("gesprek-1")
    assert [t.answer.question for t in history] == [
        "Hoeveel asielaanvragen werden in 2019 in de EU ingediend?",
        "En in 2015?",
    ]


# ---------------------------------------------------------------------------------------- generative


@pytest.fixture
def generative(corpus_components, scripted_openai: ScriptedOpenAIServer):  # type: ignore[no-untyped-def]
    def build(**policy: object) -> Assistant:
        llm = OpenAIChat(scripted_openai.base_url, "scripted-model", timeout=2.0, max_retries=1)
        return make_assistant(corpus_components, llm=llm, mode="openai", policy=Policy(**policy))  # type: ignore[arg-type]

    return build


QUESTION = "Hoeveel asielaanvragen werden in 2019 ingediend?"


def test_a_far_passage_refuses_only_where_the_check_finds_no_answer(corpus_components) -> None:  # type: ignore[no-untyped-def]
    # The similarity gate alone refused 3 of 64 answered English dev items (issue 14); below `min_dense` the
    # evidence check now decides: answered stands, partial or not covered is refused.
    far = make_assistant(corpus_components, policy=Policy(min_dense=0.99))  # every passage counts as far
    answered = far.ask(QUESTION)
    assert answered.coverage == "answered" and "698 000" in answered.text
    partly = far.ask("Hoeveel asielaanvragen werden in 2031 ingediend?")
    assert partly.refused and partly.coverage == "not_covered" and partly.missing
    assert far.ask(OFF_TOPIC[1]).refused


def test_a_far_passage_in_openai_mode_reaches_the_model_only_when_the_check_finds_the_answer(  # type: ignore[no-untyped-def]
    generative, scripted_openai
) -> None:
    scripted_openai.reply_text("In 2019 werden 698 000 aanvragen ingediend [1].")
    far = generative(min_dense=0.99)
    assert not far.ask(QUESTION).refused and len(scripted_openai.chat_requests) == 1
    off_topic = far.ask(OFF_TOPIC[1])
    assert off_topic.refused and len(scripted_openai.chat_requests) == 1


def test_generative_answer_streams_and_keeps_valid_citations(generative, scripted_openai) -> None:  # type: ignore[no-untyped-def]
    scripted_openai.reply_text(["In 2019 ", "werden ", "698 000 ", "aanvragen ", "ingediend [1]."])
    events = list(generative().ask_stream(QUESTION))
    deltas = [e.text for e in events if isinstance(e, Delta)]
    answer = next(e.answer for e in events if isinstance(e, Done))
    assert deltas == ["In 2019 ", "werden ", "698 000 ", "aanvragen ", "ingediend [1]."]
    assert answer.text == "In 2019 werden 698 000 aanvragen ingediend [1]."
    assert str(answer.mode) == "openai:scripted-model" and not answer.unverified and not answer.refused
    sent = scripted_openai.chat_requests[0].body["messages"]
    assert sent[0]["role"] == "system" and "Dat staat niet in de documenten." in sent[0]["content"]
    assert "<sources>" in sent[1]["content"] and QUESTION in sent[1]["content"]


def test_marker_pointing_nowhere_is_removed(generative, scripted_openai) -> None:  # type: ignore[no-untyped-def]
    scripted_openai.reply_text("In 2019 werden 698 000 aanvragen ingediend [1][7].")
    answer = generative().ask(QUESTION, k=3)
    assert "[7]" not in answer.text and "[1]" in answer.text
    assert any("[7]" in n for n in answer.notices)


def test_answer_without_citations_is_unverified(generative, scripted_openai) -> None:  # type: ignore[no-untyped-def]
    scripted_openai.reply_text("Er werden heel veel aanvragen ingediend.")
    answer = generative().ask(QUESTION)
    assert answer.unverified and answer.sources
    scripted_openai.reply_text("Er werden heel veel aanvragen ingediend.")
    fallback = generative(unverified_fallback=True).ask(QUESTION)
    assert not fallback.unverified and str(fallback.mode) == "extractive" and "698 000" in fallback.text
    assert fallback.notices


def test_unsupported_number_is_flagged(generative, scripted_openai) -> None:  # type: ignore[no-untyped-def]
    scripted_openai.reply_text("In 2019 werden 123 456 aanvragen ingediend [1].")
    answer = generative().ask(QUESTION)
    assert answer.flagged and "123 456" in answer.flagged[0]


def test_model_refusal_is_a_refusal(generative, scripted_openai) -> None:  # type: ignore[no-untyped-def]
    scripted_openai.reply_text("Dat staat niet in de documenten.")
    answer = generative().ask(QUESTION)
    assert answer.refused and answer.text.startswith("Dat staat niet in de documenten.")


def test_rate_limit_then_success(generative, scripted_openai) -> None:  # type: ignore[no-untyped-def]
    scripted_openai.reply_status(429, retry_after=0)
    scripted_openai.reply_text("In 2019 werden 698 000 aanvragen ingediend [1].")
    answer = generative().ask(QUESTION)
    assert str(answer.mode) == "openai:scripted-model" and "698 000" in answer.text
    assert len(scripted_openai.chat_requests) == 2


@pytest.mark.parametrize("failure", ["timeout", "500", "die"])
def test_endpoint_failure_falls_back_to_extractive(generative, scripted_openai, failure: str) -> None:  # type: ignore[no-untyped-def]
    if failure == "timeout":
        scripted_openai.reply_delay(5.0)
        scripted_openai.reply_delay(5.0)
    elif failure == "500":
        scripted_openai.reply_status(500, times=2)
    else:
        scripted_openai.reply_die_mid_stream()
    answer = generative().ask(QUESTION)
    assert str(answer.mode) == "extractive" and "698 000" in answer.text
    assert answer.notices and "taalmodel" in answer.notices[0]


def test_endpoint_failure_without_fallback_is_a_clear_error(generative, scripted_openai) -> None:  # type: ignore[no-untyped-def]
    scripted_openai.reply_status(500, times=2)
    with pytest.raises(LLMError, match="500"):
        generative(fallback_on_error=False).ask(QUESTION)
