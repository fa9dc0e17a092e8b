"""The web UI's callbacks (`ui.web.chat.WebChat`) on real parts over the corpus index, with conversations and
feedback in real SQLite files; `/healthz` and the login through FastAPI's test client; the `web` command's
exposure policy. The browser test is in test_web_browser.py."""

from __future__ import annotations

import argparse
import re
import socket
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from assistant.build import Parts, build_assistant
from assistant.settings import load_settings
from assistant.types import Answer, Mode
from errors import ConfigError, InputError
from storage.feedback import FeedbackStore
from tests import postgres as _postgres
from tests.postgres import PostgresServer
from ui.commands import add_web_parser
from ui.network import is_loopback, web_users
from ui.web import Exchange, WebChat, create_app
from ui.web import run as run_web
from ui.web.render import plain

NL_QUESTION = "Hoeveel mensen zijn sinds 2015 via hervestiging in de EU opgevangen?"
EN_QUESTION = "How many people have been resettled in the EU since 2015?"
OWNER = "web:session:test-browser-session-0000000"
postgres = _postgres.postgres  # the session's PostgreSQL server (a fixture)


def web_parts(corpus_components: Parts, data_dir: Path, **settings: Any) -> Parts:
    """Real parts over the shared corpus index and model, with conversations, feedback and the web secret in
    `data_dir` (so tests do not share state); `settings` override the corpus settings (e.g. an LLM endpoint)."""
    parts = build_assistant(corpus_components.settings.model_copy(update={"data_dir": data_dir, **settings}))
    parts.embedder = corpus_components.embedder  # the index built once per session, not a new one in data_dir
    parts.answer_embedder = corpus_components.answer_embedder
    parts.store = corpus_components.store
    parts.retriever = corpus_components.retriever
    return parts


@pytest.fixture
def chat(corpus_components: Parts, tmp_path: Path) -> WebChat:
    return WebChat(web_parts(corpus_components, tmp_path))


def last(events):  # type: ignore[no-untyped-def]
    *_, final = list(events)
    return final


def test_answer_streams_with_linked_citations_and_highlighted_sources(chat: WebChat) -> None:
    steps = list(chat.respond(NL_QUESTION, [], "", "auto", None, "nl", owner=OWNER))
    assert len(steps) >= 2, "the question appears before the answer is complete"
    first_messages = steps[0][0]
    assert first_messages[-1]["role"] == "assistant" and first_messages[-2]["content"] == plain(NL_QUESTION)
    messages, sources, turns, conversation_id = steps[-1]
    answer = messages[-1]["content"]
    assert "38 000" in answer
    assert re.search(r'<a href="#src-1-(\d+)" class="pa-cite"', answer)
    n = re.search(r'href="#src-1-(\d+)"', answer).group(1)  # type: ignore[union-attr]
    assert f'id="src-1-{n}"' in sources, "every linked citation has its source in the panel"
    assert "<mark>" in sources and "38 000" in sources.split("<mark>", 1)[1].split("</mark>", 1)[0]
    assert "Legale migratie" in sources and "(2018)" in sources and "Hervestiging" in sources
    assert "Hele sectie lezen" in sources
    assert conversation_id and turns[0].answer.conversation_id == conversation_id


def test_whole_section_holds_more_than_the_passage(chat: WebChat) -> None:
    _, _, turns, _ = last(chat.respond(NL_QUESTION, [], "", "auto", None, "nl", owner=OWNER))
    source = turns[0].answer.sources[0]
    whole = chat.section_text(source.doc_id, source.section_path)
    assert source.text.split()[0] in whole and len(whole) >= len(source.text) * 0.9


def test_english_question_gets_an_english_answer_and_the_override_forces_dutch(chat: WebChat) -> None:
    _, _, turns, conversation_id = last(chat.respond(EN_QUESTION, [], "", "auto", None, "en", owner=OWNER))
    assert turns[0].answer.language == "en"
    _, _, turns, _ = last(chat.respond(EN_QUESTION, turns, conversation_id, "nl", None, "en", owner=OWNER))
    assert turns[1].answer.language == "nl"


def test_document_filter_limits_the_sources(chat: WebChat) -> None:
    _, _, turns, _ = last(
        chat.respond("Wat is het solidariteitsmechanisme?", [], "", "auto", ["pact-2020"], "nl", owner=OWNER)
    )
    assert {s.doc_id for s in turns[0].answer.sources} == {"pact-2020"}


def test_refusal_is_marked_and_lists_the_nearest_passages(chat: WebChat) -> None:
    messages, sources, _, _ = last(
        chat.respond("Which planet is closest to the sun?", [], "", "auto", None, "en", owner=OWNER)
    )
    assert "🚫" in messages[-1]["content"] and "the documents do not cover this" in messages[-1]["content"]
    assert 'class="pa-source"' in sources


def test_unverified_and_flagged_answers_are_marked(chat: WebChat) -> None:
    answer = Answer(
        question="q",
        standalone_question="q",
        language="nl",
        mode=Mode("openai", "m"),
        text="Er kwamen 12 miljoen mensen.",
        sources=(),
        unverified=True,
        flagged=("Er kwamen 12 miljoen mensen.",),
    )
    content = chat.messages([Exchange("q", answer)], "en")[-1]["content"]
    assert "Unverified" in content and "Check: " + plain("Er kwamen 12 miljoen mensen.") in content


def test_conversation_resumes_by_id_and_new_conversation_starts_empty(chat: WebChat) -> None:
    _, _, turns, conversation_id = last(chat.respond(NL_QUESTION, [], "", "auto", None, "nl", owner=OWNER))
    _, _, turns, _ = last(chat.respond("En in 2017?", turns, conversation_id, "auto", None, "nl", owner=OWNER))
    (messages, sources, resumed, resumed_id), notice = chat.resume(conversation_id, "nl", owner=OWNER)
    assert resumed_id == conversation_id and notice == ""
    assert [m["content"] for m in messages if m["role"] == "user"] == [plain(NL_QUESTION), plain("En in 2017?")]
    assert 'id="src-2-' in sources and "pa-cite" in messages[1]["content"]
    (messages, _, _, resumed_id), notice = chat.resume("unknown-id", "nl", owner=OWNER)
    assert messages == [] and resumed_id == "" and "niet gevonden" in notice
    empty, _, new_turns, new_id = chat.new_conversation("nl")
    assert empty == [] and new_turns == [] and new_id == "", "the first question makes the new conversation"
    _, _, _, next_id = last(chat.respond(NL_QUESTION, new_turns, new_id, "auto", None, "nl", owner=OWNER))
    assert next_id and next_id != conversation_id


def test_feedback_goes_to_sqlite_with_the_answer(chat: WebChat) -> None:
    _, _, turns, conversation_id = last(chat.respond(NL_QUESTION, [], "", "auto", None, "nl", owner=OWNER))
    feedback_id, message = chat.rate(turns, 1, False, "nl")
    assert feedback_id and "Bedankt" in message
    assert chat.comment(feedback_id, "Bron klopt niet", "nl") == ("", "Bedankt, uw toelichting is opgeslagen.")
    rows = (
        sqlite3.connect(chat.parts.feedback.path)
        .execute(
            "SELECT question, standalone_question, answer, sources, mode, language, rating, comment, created, "
            "conversation_id, channel FROM feedback"
        )
        .fetchall()
    )
    assert len(rows) == 1
    question, standalone, answer, sources, mode, language, rating, comment, created, conv, channel = rows[0]
    assert (question, mode, language, rating, comment, conv, channel) == (
        NL_QUESTION, "extractive", "nl", "down", "Bron klopt niet", conversation_id, "web"
    )  # fmt: skip
    assert standalone and "38 000" in answer and "doc_title" in sources and created > 0


def test_rating_without_an_answer_asks_to_rate_first(chat: WebChat) -> None:
    assert chat.rate([], 1, True, "en") == (None, "Rate an answer with 👍 or 👎 first.")
    assert chat.comment(None, "x", "en")[1] == "Rate an answer with 👍 or 👎 first."


def test_export_has_questions_answers_and_sources(chat: WebChat) -> None:
    _, _, turns, conversation_id = last(chat.respond(NL_QUESTION, [], "", "auto", None, "nl", owner=OWNER))
    text = Path(chat.export_file(turns, conversation_id, "nl") or "").read_text(encoding="utf-8")
    assert text.startswith(f"# Gesprek {conversation_id}")
    assert f"**Vraag:** {NL_QUESTION}" in text and "38 000" in text
    assert "### Bronnen" in text and "[1] **Legale migratie" in text
    assert chat.export_file([], conversation_id, "nl") is None


def test_export_of_any_id_leaves_no_folders_behind(chat: WebChat, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # where the chat's private export folder goes
    fresh = WebChat(chat.parts)
    _, _, turns, _ = last(fresh.respond(NL_QUESTION, [], "", "auto", None, "nl", owner=OWNER))
    paths = [fresh.export_file(turns, conversation_id, "nl") for conversation_id in ("a/b/../c", "../../x", "", "ok")]
    assert all(p is not None and p.exists() for p in paths)
    assert "# Gesprek a/b/../c" in paths[0].read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert len({p.parent for p in paths if p}) == 1, "one folder for every export"
    assert [p.name for p in temp.iterdir()] == [paths[0].parent.name]  # type: ignore[union-attr]
    fresh._exports.cleanup()  # what happens when the process ends
    assert list(temp.iterdir()) == []


def test_empty_question_does_nothing_and_a_too_long_one_is_explained(chat: WebChat) -> None:
    assert list(chat.respond("   ", [], "", "auto", None, "nl", owner=OWNER)) == []
    messages, _, turns, _ = last(chat.respond("x" * 2500, [], "", "auto", None, "nl", owner=OWNER))
    assert "Er ging iets mis" in messages[-1]["content"] and "2000 characters" in messages[-1]["content"]
    assert turns[0].error


def test_endpoint_down_is_a_plain_message_and_the_chat_goes_on(corpus_components: Parts, tmp_path: Path) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = {
        "openai_base_url": f"http://127.0.0.1:{port}/v1",
        "openai_model": "absent-model",
        "openai_timeout": 2.0,
        "openai_max_retries": 0,
        "answer_mode": "openai",
        "fallback_on_error": False,
    }
    chat = WebChat(web_parts(corpus_components, tmp_path, **endpoint))
    messages, _, turns, conversation_id = last(chat.respond(NL_QUESTION, [], "", "auto", None, "en", owner=OWNER))
    assert messages[-1]["content"].startswith("⚠️ **Something went wrong:**")
    messages, _, turns, _ = last(
        chat.respond("Wat is het solidariteitsmechanisme?", turns, conversation_id, owner=OWNER)
    )
    assert len(messages) == 4 and turns[1].error


def test_missing_index_is_a_plain_message(tmp_path: Path) -> None:
    chat = WebChat(build_assistant(load_settings(data_dir=tmp_path, _env_file=None)))
    messages, _, _, _ = last(chat.respond(NL_QUESTION, [], "", "auto", None, "nl", owner=OWNER))
    assert plain("policy-assistant index") in messages[-1]["content"]
    assert "leeg" in chat.banner("nl")


def test_banner_shows_mode_and_index_status(chat: WebChat) -> None:
    assert re.search(r"`extractive`.*5 documenten, \d+ fragmenten, laatst geïndexeerd 20\d\d-", chat.banner("nl"))
    assert "5 documents" in chat.banner("en")


def test_interface_speaks_dutch_by_default_and_english_on_request(chat: WebChat) -> None:
    assert "De bronnen" in chat.sources_html([])
    assert "The sources" in chat.sources_html([], "en")


def test_healthz_answers_when_the_index_is_loaded(corpus_components: Parts, tmp_path: Path) -> None:
    app = create_app(web_parts(corpus_components, tmp_path))
    with TestClient(app) as client:
        reply = client.get("/healthz")
        assert reply.status_code == 200 and reply.json()["chunks"] > 0
        assert client.get("/").status_code == 200


def test_healthz_is_unavailable_without_an_index(tmp_path: Path) -> None:
    app = create_app(build_assistant(load_settings(data_dir=tmp_path, _env_file=None)))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 503


def test_login_is_required_when_users_are_configured(corpus_components: Parts, tmp_path: Path) -> None:
    app = create_app(web_parts(corpus_components, tmp_path), users=[("ana", "s3cret")])
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200, "health checks need no login"
        assert client.get("/config").status_code == 401
        assert client.post("/login", data={"username": "ana", "password": "wrong"}).status_code == 400
        assert client.post("/login", data={"username": "ana", "password": "s3cret"}).status_code == 200
        assert client.get("/config").status_code == 200


def test_users_come_from_the_web_users_setting(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, web_users="ana:pw1, bob:pw:2", _env_file=None)
    assert web_users(settings) == [("ana", "pw1"), ("bob", "pw:2")]
    assert web_users(load_settings(data_dir=tmp_path, _env_file=None)) == []
    with pytest.raises(InputError, match="user:password"):
        web_users(load_settings(data_dir=tmp_path, web_users="ana", _env_file=None))


def test_loopback_detection_for_the_login_policy() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")


def web_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_web_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["web", *argv])


def test_web_refuses_to_serve_beyond_loopback_without_a_login(tmp_path: Path) -> None:
    parts = build_assistant(load_settings(data_dir=tmp_path, _env_file=None))
    with pytest.raises(ConfigError, match=r"on 0\.0\.0\.0 needs a login: set ASSISTANT_WEB_USERS=user:password"):
        run_web(parts, web_args("--host", "0.0.0.0"))
    with pytest.raises(InputError, match="--port 0 is out of range"):
        run_web(parts, web_args("--port", "0"))


def test_feedback_store_rejects_bad_ratings_and_unknown_ids(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    with pytest.raises(InputError, match="rating"):
        store.add(Answer.from_json({"question": "q"}), "meh")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown feedback"):
        store.set_comment(42, "x")
    answer = Answer.from_json({"question": "q", "answer": "a", "sources": [{"n": 1}]})
    feedback_id = store.add(answer, "up", channel="slack")
    (row,) = store.all()
    assert (row.id, row.rating, row.channel, [s.n for s in row.answer.sources]) == (feedback_id, "up", "slack", [1])


def test_web_subcommand_defaults_to_loopback_port_7860() -> None:
    args = web_args()
    assert (args.command, args.host, args.port) == ("web", "127.0.0.1", 7860)
    assert web_args("--host", "0.0.0.0", "--port", "8080").port == 8080


def test_database_down_at_start_answers_one_off_questions_and_recovers(
    corpus_components: Parts, tmp_path: Path, postgres: PostgresServer
) -> None:
    postgres.start()
    url = postgres.create_database()
    postgres.stop()
    try:
        parts = web_parts(corpus_components, tmp_path, database_url=SecretStr(url))
        with TestClient(create_app(parts)) as client:  # the app starts without its database
            assert client.get("/healthz").status_code == 200
        chat = WebChat(parts)
        (messages, _, _, _), notice = chat.resume("a1b2c3", "nl", owner=OWNER)
        assert messages == [] and "niet beschikbaar" in notice
        messages, _, turns, conversation_id = last(chat.respond(NL_QUESTION, [], "", "auto", None, "nl", owner=OWNER))
        assert "38 000" in turns[0].answer.text and conversation_id == "", "answered, not kept"
        assert plain("niet beschikbaar") in messages[-1]["content"]
        postgres.start()
        messages, _, turns, conversation_id = last(chat.respond(NL_QUESTION, [], "", "auto", None, "nl", owner=OWNER))
        assert conversation_id and "niet beschikbaar" not in messages[-1]["content"]
        assert [t.answer.question for t in parts.conversations.history(conversation_id, OWNER)] == [NL_QUESTION]
    finally:
        postgres.start()
