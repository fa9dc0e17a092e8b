"""Follow-up questions in a conversation: in `openai` mode the model rewrites "En in 2020?" into a standalone
question with the `condense` prompt; when the model fails, or its rewrite is unusable, the rule-based rewrite
(`assistant.conversation.condense`) is used. A real index of a tiny corpus and the real scripted HTTP server.

Which questions are follow-ups (`is_followup`): those without a topic of their own, not those with a common
function word, measured on eval/conversations/followup_pairs.jsonl (bench/followup.py prints the figures).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.build import Parts, build_assistant
from assistant.conversation import Conversation, condense, is_followup, standalone_question, turns_from_messages
from assistant.settings import Settings, load_settings
from assistant.types import Turn

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # `tests.*` needs the repository root (see test_llm.py)
    sys.path.insert(0, _ROOT)

from tests.assistant import openai_server  # noqa: E402
from tests.assistant.openai_server import ScriptedOpenAIServer  # noqa: E402
from tests.tiny_corpus import write_tiny_corpus  # noqa: E402

scripted_openai = openai_server.scripted_openai

APPLICATIONS_TXT = """Asielaanvragen in de Unie


1. AANTALLEN

In 2019 werden in de Unie 698 000 asielaanvragen ingediend. In 2020 daalde het aantal asielaanvragen
tot 472 000, vooral door de reisbeperkingen tijdens de pandemie.
"""
FIRST = "Hoeveel asielaanvragen werden in 2019 in de Unie ingediend?"
FIRST_ANSWER = "In 2019 werden 698 000 asielaanvragen ingediend [1]."
FOLLOW_UP = "En in 2020?"
RULE_REWRITE = "Hoeveel asielaanvragen werden in 2020 in de Unie ingediend?"  # what `condense` makes of it
MODEL_REWRITE = "Hoeveel asielaanvragen werden er in 2020 in de Europese Unie ingediend?"
SECOND_ANSWER = "In 2020 waren het 472 000 asielaanvragen [1]."
RULE_NOTICE = "follow-up rewritten without the language model"


def _corpus(folder: Path) -> Path:
    corpus = write_tiny_corpus(folder)
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    manifest["documents"].append(
        {
            "id": "aanvragen-2021",
            "file": "aanvragen.txt",
            "title": "Asielaanvragen in de Unie",
            "short_title": "Asielaanvragen",
            "year": 2021,
            "doc_type": "report",
            "reference": None,
        }
    )
    (corpus / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (corpus / "aanvragen.txt").write_text(APPLICATIONS_TXT, encoding="utf-8")
    return corpus


def _settings(data_dir: Path, corpus: Path, base_url: str = "http://127.0.0.1:9/v1") -> Settings:
    return load_settings(
        _env_file=None,
        data_dir=data_dir,
        corpus_dir=corpus,
        openai_base_url=base_url,
        openai_model="scripted-model",
        openai_max_retries=0,
        openai_timeout=5.0,
        warm_up=False,
    )


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The data folder and corpus of a built index, shared by the module's tests."""
    root = tmp_path_factory.mktemp("followup")
    corpus = _corpus(root / "corpus")
    build_assistant(_settings(root / "data", corpus)).indexer.run()
    yield root / "data", corpus


@pytest.fixture
def parts(indexed: tuple[Path, Path], scripted_openai: ScriptedOpenAIServer) -> Parts:
    data_dir, corpus = indexed
    return build_assistant(_settings(data_dir, corpus, scripted_openai.base_url))


def _user_message(request: openai_server.RecordedRequest) -> str:
    messages = request.body["messages"]
    return str(messages[-1]["content"])


def _question_in(request: openai_server.RecordedRequest) -> str:
    match = re.search(r"^<question>\n(.*)\n</question>$", _user_message(request), re.MULTILINE | re.DOTALL)
    assert match, "the answer request has no <question> block"
    return match.group(1)


def test_the_first_question_is_not_rewritten(parts: Parts, scripted_openai: ScriptedOpenAIServer) -> None:
    scripted_openai.reply_text(FIRST_ANSWER)
    answer = parts.assistant.ask(FIRST, Conversation(), mode="openai")
    assert answer.standalone_question == FIRST
    assert len(scripted_openai.chat_requests) == 1  # the answer only, no condense request
    assert _question_in(scripted_openai.chat_requests[0]) == FIRST


def test_the_model_rewrites_a_follow_up_from_the_conversation(
    parts: Parts, scripted_openai: ScriptedOpenAIServer
) -> None:
    scripted_openai.reply_text(FIRST_ANSWER)
    scripted_openai.reply_text(MODEL_REWRITE)
    scripted_openai.reply_text(SECOND_ANSWER)
    conversation = Conversation()
    first = parts.assistant.ask(FIRST, conversation, mode="openai")
    follow = parts.assistant.ask(FOLLOW_UP, conversation, mode="openai")

    assert first.text == FIRST_ANSWER and not first.unverified
    answer_request, condense_request, second_request = scripted_openai.chat_requests
    prompt = _user_message(condense_request)
    assert [m["role"] for m in condense_request.body["messages"]] == ["user"]
    assert prompt.startswith("Rewrite the follow-up question of a conversation as a standalone question")
    conversation_block = prompt[prompt.index("<conversation>\n") : prompt.index("\n</conversation>")]
    assert f"user: {FIRST}" in conversation_block
    assert f"assistant: {FIRST_ANSWER}" in conversation_block
    assert f"<follow_up>\n{FOLLOW_UP}\n</follow_up>" in prompt

    assert follow.question == FOLLOW_UP
    assert follow.standalone_question == MODEL_REWRITE
    assert _question_in(second_request) == MODEL_REWRITE  # the answer is asked for the rewritten question
    assert follow.text == SECOND_ANSWER and not follow.notices
    assert str(follow.mode) == str(first.mode) == "openai:scripted-model"


def test_the_next_follow_up_sees_the_rewritten_question(parts: Parts, scripted_openai: ScriptedOpenAIServer) -> None:
    for reply in (FIRST_ANSWER, MODEL_REWRITE, SECOND_ANSWER, "Hoeveel asielaanvragen werden er in 2021 ingediend?"):
        scripted_openai.reply_text(reply)
    scripted_openai.reply_text("Dat staat niet in de documenten.")
    conversation = Conversation()
    for question in (FIRST, FOLLOW_UP, "En in 2021?"):
        parts.assistant.ask(question, conversation, mode="openai")

    condense_request = scripted_openai.chat_requests[3]
    assert f"user: {MODEL_REWRITE}\nassistant: {SECOND_ANSWER}" in _user_message(condense_request)


def test_a_model_error_falls_back_to_the_rule_and_says_so(parts: Parts, scripted_openai: ScriptedOpenAIServer) -> None:
    scripted_openai.reply_text(FIRST_ANSWER)
    scripted_openai.reply_status(500)  # the condense request
    scripted_openai.reply_text(SECOND_ANSWER)
    conversation = Conversation()
    parts.assistant.ask(FIRST, conversation, mode="openai")
    follow = parts.assistant.ask(FOLLOW_UP, conversation, mode="openai")

    assert follow.standalone_question == RULE_REWRITE
    assert follow.standalone_question == condense(FOLLOW_UP, [Turn(FIRST, FIRST_ANSWER, FIRST)])
    assert any(RULE_NOTICE in n and "500" in n for n in follow.notices), follow.notices
    assert _question_in(scripted_openai.chat_requests[2]) == RULE_REWRITE
    assert follow.text == SECOND_ANSWER and str(follow.mode) == "openai:scripted-model"


def test_a_model_that_is_down_gives_the_rule_and_an_extractive_answer(
    parts: Parts, scripted_openai: ScriptedOpenAIServer
) -> None:
    scripted_openai.reply_text(FIRST_ANSWER)
    conversation = Conversation()
    parts.assistant.ask(FIRST, conversation, mode="openai")
    scripted_openai.stop()  # nothing listens on the port any more

    follow = parts.assistant.ask(FOLLOW_UP, conversation, mode="openai")
    assert follow.standalone_question == RULE_REWRITE
    assert any(RULE_NOTICE in n for n in follow.notices), follow.notices
    assert any("taalmodel" in n for n in follow.notices), follow.notices  # the answer itself fell back too
    assert str(follow.mode) == "extractive" and "472 000" in follow.text and not follow.refused


@pytest.mark.parametrize("rewrite", ["", '""', "   ", "Hoeveel? " * 300], ids=["empty", "quotes", "blank", "too-long"])
def test_an_empty_or_over_long_rewrite_is_ignored(
    parts: Parts, scripted_openai: ScriptedOpenAIServer, rewrite: str
) -> None:
    scripted_openai.reply_text(FIRST_ANSWER)
    scripted_openai.reply_text(rewrite)
    scripted_openai.reply_text(SECOND_ANSWER)
    conversation = Conversation()
    parts.assistant.ask(FIRST, conversation, mode="openai")
    follow = parts.assistant.ask(FOLLOW_UP, conversation, mode="openai")

    assert len(scripted_openai.chat_requests) == 3  # the model was asked, its rewrite not used
    assert follow.standalone_question == RULE_REWRITE
    assert _question_in(scripted_openai.chat_requests[2]) == RULE_REWRITE
    assert follow.text == SECOND_ANSWER


def test_quotes_and_line_breaks_around_a_rewrite_are_removed(
    parts: Parts, scripted_openai: ScriptedOpenAIServer
) -> None:
    scripted_openai.reply_text(FIRST_ANSWER)
    scripted_openai.reply_text('"Hoeveel asielaanvragen werden er\nin 2020 in de Europese Unie ingediend?"\n')
    scripted_openai.reply_text(SECOND_ANSWER)
    conversation = Conversation()
    parts.assistant.ask(FIRST, conversation, mode="openai")
    follow = parts.assistant.ask(FOLLOW_UP, conversation, mode="openai")
    assert follow.standalone_question == MODEL_REWRITE


def test_extractive_mode_rewrites_by_rule_without_calling_the_model(
    parts: Parts, scripted_openai: ScriptedOpenAIServer
) -> None:
    conversation = Conversation()
    first = parts.assistant.ask(FIRST, conversation, mode="extractive")
    follow = parts.assistant.ask(FOLLOW_UP, conversation, mode="extractive")

    assert scripted_openai.chat_requests == []
    assert "698 000" in first.text
    assert follow.standalone_question == RULE_REWRITE
    assert "472 000" in follow.text and not follow.notices


# ---------------------------------------------------------------------------------------- which questions follow up

PAIRS = Path(_ROOT) / "eval" / "conversations" / "followup_pairs.jsonl"
# Test-split accuracy of `is_followup` on PAIRS as measured by bench/followup.py when the rule was set (25 of 26
# pairs in each language); the guard allows 0.05 less.
MEASURED_TEST_ACCURACY = {"nl": 0.96, "en": 0.96, "all": 0.96}

AMIF_HISTORY = [
    Turn(
        "Hoeveel geld krijgt het Fonds voor asiel, migratie en integratie?",
        "Het verslag van 2022 beschrijft de middelen van het AMIF, zonder totaalbedrag per lidstaat.",
        "Hoeveel geld krijgt het Fonds voor asiel, migratie en integratie?",
        "nl",
    )
]
TUNISIA_HISTORY = [
    Turn(
        "What did the EU agree with Tunisia on migration?",
        "A dialogue on migration, mobility and security was opened with Tunisia.",
        "What did the EU agree with Tunisia on migration?",
        "en",
    )
]


@pytest.mark.parametrize(
    "question",
    [
        "Wat is het doel van de talentpartnerschappen?",
        "Wie beheert het AMIF?",
        "Wat is het percentage ingewilligde verzoeken dat Eurostat voor 2024 noemt?",
        "Hoe helpt de EU landen die veel vluchtelingen opvangen?",
        "Welke landen vallen onder het Oostelijk Partnerschap?",
        "En wat is de gemeenschappelijke databank voor asiel en migratie?",
        "What is Frontex?",
        "Who manages the AMIF?",
        "Is it true that Frontex gets more border guards?",
        "How does the EU help countries that host many refugees?",
    ],
)
def test_a_new_topic_with_function_words_is_asked_as_it_stands(question: str) -> None:
    # Each of these the old rule took for a follow-up (at most 12 words with "het", "die", "that", "it" …).
    assert not is_followup(question, AMIF_HISTORY)
    assert condense(question, AMIF_HISTORY) == question
    assert standalone_question(question, AMIF_HISTORY) == (question, None)


@pytest.mark.parametrize(
    "question",
    [
        "Wie beheert dat fonds?",  # a noun pointing back
        "Hoeveel waren dat er?",
        "Waarom?",  # no content word at all
        "En in 2022?",  # a bare year
        "Wat zijn de voorwaarden?",  # only a noun that needs a complement
        "Welke rol speelt Frontex daarbij?",  # pointing back, one topic word of its own
        "Wanneer is het ingevoerd?",
        "And for Libya?",  # an "and X?" fragment
        "What about the Blue Card?",
        "How much will that cost?",
        "Which countries are involved?",
    ],
)
def test_a_question_without_a_topic_of_its_own_is_a_follow_up(question: str) -> None:
    assert is_followup(question, AMIF_HISTORY)
    assert condense(question, AMIF_HISTORY) != question


def test_a_noun_pointing_back_to_the_last_answer_makes_a_follow_up_whatever_else_it_names() -> None:
    question = "Welk deel van dat fonds gaat naar integratie van migranten in steden en regio's?"
    assert is_followup(question, AMIF_HISTORY), "'dat fonds' is the fund of the last answer"
    other = [Turn("Wat doet Frontex?", "Frontex ondersteunt de lidstaten bij het grensbeheer.", language="nl")]
    assert not is_followup(question, other), "no fund in the conversation: the question stands on its own"


def test_without_history_nothing_is_a_follow_up() -> None:
    assert not is_followup("Wie beheert dat fonds?", [])
    assert condense("Wie beheert dat fonds?", []) == "Wie beheert dat fonds?"


def test_the_standalone_question_of_a_follow_up_carries_the_history_topic() -> None:
    fund = condense("Wie beheert dat fonds?", AMIF_HISTORY)
    assert "beheert" in fund and "Fonds voor asiel, migratie en integratie" in fund
    libya = condense("And for Libya?", TUNISIA_HISTORY)
    assert "Libya" in libya and "agree with Tunisia on migration" in libya


def test_a_new_topic_in_a_conversation_is_searched_without_the_previous_question(parts: Parts) -> None:
    conversation = Conversation()
    parts.assistant.ask(FIRST, conversation, mode="extractive")
    question = "Wat is het doel van de Europese blauwe kaart?"
    answer = parts.assistant.ask(question, conversation, mode="extractive")
    assert answer.standalone_question == question
    assert answer.sources and answer.sources[0].doc_id == "talent-2019"


def test_a_follow_up_in_a_conversation_is_searched_with_the_history_topic(parts: Parts) -> None:
    conversation = Conversation()
    parts.assistant.ask(FIRST, conversation, mode="extractive")
    answer = parts.assistant.ask("Waardoor daalde dat aantal daarna?", conversation, mode="extractive")
    assert answer.standalone_question.startswith("Waardoor daalde dat aantal daarna")
    assert FIRST in answer.standalone_question  # "dat aantal": the number of asylum applications asked about


def _pairs() -> list[tuple[str, str, list[Turn], str, bool]]:
    rows = []
    for line in PAIRS.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        turns = turns_from_messages([(m["role"], m["content"]) for m in item["history"]])
        rows.append((item["split"], item["lang"], turns, item["question"], bool(item["followup"])))
    return rows


def test_the_conversation_pairs_are_balanced_and_split_by_language_and_label() -> None:
    rows = _pairs()
    assert len(rows) >= 80
    for lang in ("nl", "en"):
        for label in (True, False):
            group = [r for r in rows if r[1] == lang and r[4] is label]
            dev = sum(1 for r in group if r[0] == "dev")
            assert len(group) >= 20 and abs(dev / len(group) - 0.6) < 0.05, (lang, label, dev, len(group))
    assert all(r[2] for r in rows), "every pair has a history"


@pytest.mark.parametrize("lang", ["nl", "en", "all"])
def test_follow_up_detection_on_the_test_split_does_not_regress(lang: str) -> None:
    rows = [r for r in _pairs() if r[0] == "test" and lang in (r[1], "all")]
    right = sum(1 for _, _, turns, question, label in rows if is_followup(question, turns) == label)
    assert right / len(rows) >= MEASURED_TEST_ACCURACY[lang] - 0.05, (right, len(rows))
