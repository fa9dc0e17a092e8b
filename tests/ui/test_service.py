"""`policy-assistant serve`: the JSON API, the OpenAI-compatible endpoint, auth, limits, metrics and logs,
over real HTTP against the service running under uvicorn on 127.0.0.1, answering from the real corpus index."""

from __future__ import annotations

import argparse
import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from pydantic import SecretStr

from assistant.build import Parts, build_assistant
from errors import ConfigError
from tests.assistant import openai_server
from tests.assistant.openai_server import ScriptedOpenAIServer
from tests.service import ServiceThread, sse_events
from ui.service import create_service, logs, run

scripted_openai = openai_server.scripted_openai

pytestmark = pytest.mark.server

NL_QUESTION = "Hoeveel asielaanvragen werden in 2019 in de EU ingediend?"
EN_QUESTION = "What is the EU talent pool meant to do?"
TOKEN = "s3cret-token-for-tests-0123456789"


def service_parts(corpus_components: Parts, tmp_path: Path, **overrides: Any) -> Parts:
    """Parts on the shared corpus index, with the service's own database in `tmp_path`."""
    update: dict[str, Any] = {
        "database_url": SecretStr(f"sqlite:///{tmp_path / 'service.sqlite3'}"),
        "warm_up": False,
        **overrides,
    }
    parts = build_assistant(corpus_components.settings.model_copy(update=update))
    # The heavy read-only parts are shared; the assistant, its policy and the stores come from the settings.
    parts.embedder = corpus_components.embedder  # type: ignore[misc]
    parts.store = corpus_components.store  # type: ignore[misc]
    parts.tokens = corpus_components.tokens  # type: ignore[misc]
    parts.answer_embedder = corpus_components.answer_embedder  # type: ignore[misc]
    parts.retriever = corpus_components.retriever  # type: ignore[misc]
    return parts


@pytest.fixture
def service(corpus_components: Parts, tmp_path: Path) -> Iterator[ServiceThread]:
    parts = service_parts(corpus_components, tmp_path)
    with ServiceThread(create_service(parts, web=False)) as svc:
        svc.parts = parts  # type: ignore[attr-defined]
        yield svc


def ask(svc: ServiceThread, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{svc.url}/v1/ask", json=body, timeout=60, **kwargs)


# ------------------------------------------------------------------------------------------------ ask


def test_ask_returns_the_same_object_as_ask_json(service: ServiceThread) -> None:
    response = ask(service, {"question": NL_QUESTION}, headers={"X-Request-ID": "vraag-42"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "vraag-42"
    body = response.json()
    assert set(body) == {
        "question", "standalone_question", "language", "mode", "answer", "refused", "unverified", "sources",
        "latency_ms", "flagged", "notices", "conversation_id", "answer_id", "coverage", "missing",
    }  # fmt: skip
    assert body["coverage"] == "answered" and body["missing"] == []
    assert "698 000" in body["answer"] and "[1]" in body["answer"]
    assert body["language"] == "nl" and body["mode"] == "extractive" and not body["refused"]
    assert body["sources"][0]["doc_id"] == "pact-2020" and body["sources"][0]["section"]


def test_english_question_is_answered_in_english(service: ServiceThread) -> None:
    body = ask(service, {"question": EN_QUESTION}).json()
    assert body["language"] == "en" and body["answer"].startswith("The documents say")
    assert "talentenpool" in body["answer"] and not body["refused"]


def test_streamed_answer_ends_with_the_checked_answer(service: ServiceThread) -> None:
    with httpx.stream("POST", f"{service.url}/v1/ask", json={"question": NL_QUESTION, "stream": True}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = list(sse_events(r))
    kinds = [e for e, _ in events]
    assert kinds[0] == "delta" and kinds[-1] == "answer" and "error" not in kinds
    assert "698 000" in "".join(d["text"] for e, d in events if e == "delta")
    assert events[-1][1]["sources"] and "698 000" in events[-1][1]["answer"]


def test_follow_up_question_uses_the_conversation(service: ServiceThread) -> None:
    first = ask(service, {"question": NL_QUESTION}).json()
    ident = first["conversation_id"]  # issued by the server
    follow = ask(service, {"question": "En in 2015?", "conversation_id": ident}).json()
    assert follow["conversation_id"] == ident
    assert "2015" in follow["standalone_question"] and "1,28 miljoen" in follow["answer"]
    history = service.parts.conversations.history(ident)  # type: ignore[attr-defined]
    assert [t.answer.question for t in history] == [NL_QUESTION, "En in 2015?"]
    unknown = ask(service, {"question": "En in 2015?", "conversation_id": "team-gesprek-1"})
    assert unknown.status_code == 404 and "unknown conversation" in unknown.json()["error"]["message"]


def test_document_filter_and_unknown_document(service: ServiceThread) -> None:
    body = ask(service, {"question": "Wat is de talentenpool?", "doc_ids": ["strategy-2026"]}).json()
    assert {s["doc_id"] for s in body["sources"]} == {"strategy-2026"}
    # The original corpus file name works as well as the project id.
    wrong = ask(service, {"question": "Wat is de talentenpool?", "doc_ids": ["bestaat-niet"]})
    assert wrong.status_code == 400
    assert "unknown document 'bestaat-niet'" in wrong.json()["error"]["message"]
    assert "strategy-2026" in wrong.json()["error"]["message"]


def test_search_returns_ranked_passages(service: ServiceThread) -> None:
    response = httpx.post(f"{service.url}/v1/search", json={"query": NL_QUESTION, "k": 3}, timeout=30)
    assert response.status_code == 200
    body = response.json()
    assert body["language"] == "nl" and [r["rank"] for r in body["results"]] == [1, 2, 3]
    assert "698 000" in body["results"][0]["text"]
    english = httpx.post(f"{service.url}/v1/search", json={"query": EN_QUESTION, "doc_ids": ["strategy-2026"]})
    assert english.json()["language"] == "en"
    assert {r["doc_id"] for r in english.json()["results"]} == {"strategy-2026"}


def test_feedback_is_stored_with_the_answer(service: ServiceThread) -> None:
    answer = ask(service, {"question": NL_QUESTION}).json()
    response = httpx.post(
        f"{service.url}/v1/feedback",
        json={"answer_id": answer["answer_id"], "rating": "down", "comment": "bron klopt niet"},
    )
    assert response.status_code == 201
    stored = service.parts.feedback.all()  # type: ignore[attr-defined]
    assert [(f.id, f.channel, f.rating, f.comment) for f in stored] == [
        (response.json()["id"], "api", "down", "bron klopt niet")
    ]
    assert stored[0].answer.question == NL_QUESTION and stored[0].answer.sources[0].doc_id == "pact-2020"


# ------------------------------------------------------------------------------------- OpenAI-compatible


def test_openai_client_gets_an_answer_with_sources(service: ServiceThread) -> None:
    client = openai.OpenAI(base_url=f"{service.url}/v1", api_key="unused", max_retries=0)
    assert [m.id for m in client.models.list()] == ["policy-assistant"]
    reply = client.chat.completions.create(
        model="policy-assistant", messages=[{"role": "user", "content": NL_QUESTION}]
    )
    content = reply.choices[0].message.content or ""
    assert "698 000" in content and "Bronnen:" in content and "[1] " in content
    extra = reply.model_extra or {}
    assert extra["sources"][0]["doc_id"] == "pact-2020"
    assert reply.usage is not None and reply.usage.completion_tokens > 0


def test_openai_client_streams_and_follows_up(service: ServiceThread) -> None:
    client = openai.OpenAI(base_url=f"{service.url}/v1", api_key="unused", max_retries=0)
    first = client.chat.completions.create(model="x", messages=[{"role": "user", "content": NL_QUESTION}])
    history = [
        {"role": "system", "content": "Je bent een assistent."},
        {"role": "user", "content": NL_QUESTION},
        {"role": "assistant", "content": first.choices[0].message.content or ""},
        {"role": "user", "content": "En in 2015?"},
    ]
    stream = client.chat.completions.create(model="policy-assistant", messages=history, stream=True)  # type: ignore[arg-type]
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "1,28 miljoen" in text and "Bronnen:" in text
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert (chunks[-1].model_extra or {})["sources"]


# ------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"question": "   "}, 400, "the question is empty"),
        ({"question": "x" * 2500}, 400, "keep it under 2000 characters"),
        ({"question": "x" * 5000}, 422, "question"),
        ({"question": "Wat?", "years": [20]}, 422, "20 is not a plausible year"),
        ({"question": "Wat?", "doc_ids": ["a"] * 21}, 422, "doc_ids"),
        ({"question": "Wat?", "k": 500}, 422, "k:"),
        ({"question": "Wat?", "mode": "magic"}, 422, "mode"),
        ({"question": "Wat?", "conversation_id": "../etc/passwd"}, 422, "conversation_id"),
        ({"question": "Wat?", "unknown": 1}, 422, "unknown"),
        ({}, 422, "question: Field required"),
    ],
)
def test_bad_input_gets_a_4xx_with_a_plain_message(
    service: ServiceThread, body: dict[str, Any], status: int, words: str
) -> None:
    response = ask(service, body)
    assert response.status_code == status
    assert words in response.json()["error"]["message"]


def test_malformed_json_and_oversized_body(service: ServiceThread) -> None:
    broken = httpx.post(f"{service.url}/v1/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 422 and broken.json()["error"]["type"] == "invalid_request"
    huge = httpx.post(f"{service.url}/v1/ask", json={"question": "x" * 100_000})
    assert huge.status_code == 413 and "ASSISTANT_API_MAX_BODY_BYTES" in huge.json()["error"]["message"]

    def chunked() -> Iterator[bytes]:  # no Content-Length: the limit is enforced while reading
        yield b'{"question": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}'

    streamed = httpx.post(
        f"{service.url}/v1/ask", content=chunked(), headers={"content-type": "application/json"}, timeout=30
    )
    assert streamed.status_code == 413


def test_chat_completions_limits(service: ServiceThread) -> None:
    url = f"{service.url}/v1/chat/completions"
    too_long = [{"role": "user", "content": "vraag"}] * 41
    assert httpx.post(url, json={"model": "m", "messages": too_long}).status_code == 422
    last_not_user = [{"role": "user", "content": "vraag"}, {"role": "assistant", "content": "antwoord"}]
    response = httpx.post(url, json={"model": "m", "messages": last_not_user})
    assert response.status_code == 400 and "last message must be the user's question" in response.text


# ----------------------------------------------------------------------------------- auth and startup


def test_bearer_token_is_required_when_configured(corpus_components: Parts, tmp_path: Path) -> None:
    parts = service_parts(corpus_components, tmp_path, api_tokens=SecretStr(f"other,{TOKEN}"))
    with ServiceThread(create_service(parts, web=False)) as svc:
        assert ask(svc, {"question": NL_QUESTION}).status_code == 401
        wrong = ask(svc, {"question": NL_QUESTION}, headers={"Authorization": "Bearer wrong"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        right = ask(svc, {"question": NL_QUESTION}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status_code == 200
        assert httpx.get(f"{svc.url}/metrics").status_code == 401
        assert httpx.get(f"{svc.url}/healthz").status_code == 200  # load balancers probe without a token
        assert httpx.get(f"{svc.url}/readyz").status_code == 200


def test_serving_beyond_loopback_needs_a_token_and_a_login(corpus_components: Parts, tmp_path: Path) -> None:
    args = argparse.Namespace(host="0.0.0.0", port=8080, workers=1, no_web=False, log_level="info")
    with pytest.raises(ConfigError, match="ASSISTANT_API_TOKENS"):
        run(service_parts(corpus_components, tmp_path), args)
    with_token = service_parts(corpus_components, tmp_path, api_tokens=SecretStr(TOKEN))
    with pytest.raises(ConfigError, match="ASSISTANT_WEB_USERS"):
        run(with_token, args)


def test_openapi_schema_lists_the_api(service: ServiceThread) -> None:
    schema = httpx.get(f"{service.url}/openapi.json").json()
    for path in ("/v1/ask", "/v1/search", "/v1/feedback", "/v1/chat/completions", "/readyz", "/metrics"):
        assert path in schema["paths"]
    ask_body = schema["components"]["schemas"]["AskRequest"]["properties"]
    assert {"question", "conversation_id", "doc_ids", "years", "mode", "stream"} <= set(ask_body)


def test_web_ui_is_served_at_the_root(corpus_components: Parts, tmp_path: Path) -> None:
    parts = service_parts(corpus_components, tmp_path)
    with ServiceThread(create_service(parts, web=True)) as svc:
        page = httpx.get(f"{svc.url}/", timeout=30)
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert ask(svc, {"question": NL_QUESTION}).status_code == 200  # the API still answers beside it


# --------------------------------------------------------------------------------- metrics and logs


def test_metrics_count_requests_stages_and_tokens(service: ServiceThread) -> None:
    ask(service, {"question": NL_QUESTION})
    ask(service, {"question": ""})
    text = httpx.get(f"{service.url}/metrics").text
    assert 'assistant_requests_total{route="/v1/ask",status="200"} 1.0' in text
    assert 'assistant_requests_total{route="/v1/ask",status="400"} 1.0' in text
    assert 'assistant_errors_total{kind="InputError",route="/v1/ask"} 1.0' in text
    for stage in ("retrieve", "rerank", "verdict"):
        assert f'assistant_stage_seconds_count{{stage="{stage}"}} 1.0' in text
    tokens = {
        line.split("{")[1].split('"')[1]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("assistant_tokens_total")
    }
    assert tokens["context"] > 100 and tokens["answer"] > 10
    assert 'assistant_answers_total{mode="extractive",outcome="answered"} 1.0' in text


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(old_level)


def _records(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]


def test_logs_are_json_with_the_request_id_and_no_question_or_token(
    corpus_components: Parts, tmp_path: Path, json_log: io.StringIO
) -> None:
    parts = service_parts(corpus_components, tmp_path, api_tokens=SecretStr(TOKEN))
    with ServiceThread(create_service(parts, web=False)) as svc:
        headers = {"Authorization": f"Bearer {TOKEN}", "X-Request-ID": "req-1"}
        assert ask(svc, {"question": NL_QUESTION}, headers=headers).status_code == 200
    records = [r for r in _records(json_log) if r["request_id"] == "req-1"]
    assert {r["message"] for r in records} >= {"answered", "request"}
    request = next(r for r in records if r["message"] == "request")
    assert request["status"] == 200 and request["path"] == "/v1/ask" and request["duration_ms"] > 0
    answered = next(r for r in records if r["message"] == "answered")
    assert answered["question_chars"] == len(NL_QUESTION) and "question" not in answered
    assert set(answered["timings_ms"]) >= {"retrieve", "rerank", "verdict"}
    whole = json_log.getvalue()
    assert TOKEN not in whole and "asielaanvragen" not in whole


def test_question_text_is_logged_only_when_allowed(
    corpus_components: Parts, tmp_path: Path, json_log: io.StringIO
) -> None:
    parts = service_parts(corpus_components, tmp_path, log_questions=True)
    with ServiceThread(create_service(parts, web=False)) as svc:
        ask(svc, {"question": NL_QUESTION})
    answered = next(r for r in _records(json_log) if r["message"] == "answered")
    assert answered["question"] == NL_QUESTION


# --------------------------------------------------------------------- the language model misbehaves


def openai_parts(corpus_components: Parts, tmp_path: Path, srv: ScriptedOpenAIServer, **extra: Any):  # type: ignore[no-untyped-def]
    return service_parts(
        corpus_components,
        tmp_path,
        answer_mode="openai",
        openai_base_url=srv.base_url,
        openai_model="test-model",
        openai_max_retries=0,
        openai_timeout=5.0,
        **extra,
    )


def test_llm_dying_mid_stream_gives_a_complete_fallback_answer(
    corpus_components: Parts, tmp_path: Path, scripted_openai: ScriptedOpenAIServer
) -> None:
    scripted_openai.reply_die_mid_stream(["Het aantal ", "asielaanvragen "])
    parts = openai_parts(corpus_components, tmp_path, scripted_openai)
    with (
        ServiceThread(create_service(parts, web=False)) as svc,
        httpx.stream("POST", f"{svc.url}/v1/ask", json={"question": NL_QUESTION, "stream": True}) as r,
    ):
        events = list(sse_events(r))
    kinds = [e for e, _ in events]
    assert kinds[:2] == ["delta", "delta"] and "reset" in kinds and kinds[-1] == "answer"
    final = events[-1][1]
    assert final["mode"] == "extractive" and "698 000" in final["answer"]
    assert any("taalmodel" in n for n in final["notices"])


def test_circuit_breaker_stops_calling_a_dead_endpoint(
    corpus_components: Parts, tmp_path: Path, scripted_openai: ScriptedOpenAIServer
) -> None:
    scripted_openai.reply_status(500, times=10)
    parts = openai_parts(
        corpus_components, tmp_path, scripted_openai, openai_breaker_failures=2, openai_breaker_cooldown=60.0
    )
    with ServiceThread(create_service(parts, web=False)) as svc:
        answers = [ask(svc, {"question": NL_QUESTION}).json() for _ in range(4)]
        metrics = httpx.get(f"{svc.url}/metrics").text
    assert len(scripted_openai.chat_requests) == 2  # the 3rd and 4th question did not wait for the endpoint
    assert all("698 000" in a["answer"] and a["mode"] == "extractive" for a in answers)
    assert "not asked again" in answers[-1]["notices"][0]
    assert 'assistant_answers_total{mode="extractive",outcome="fallback"} 4.0' in metrics


def test_busy_service_answers_429(
    corpus_components: Parts, tmp_path: Path, scripted_openai: ScriptedOpenAIServer
) -> None:
    scripted_openai.reply_delay(2.0, "Het waren er 698 000 [1].")
    parts = openai_parts(corpus_components, tmp_path, scripted_openai, api_max_inflight=1)
    with ServiceThread(create_service(parts, web=False)) as svc:
        slow: dict[str, httpx.Response] = {}
        worker = threading.Thread(target=lambda: slow.setdefault("r", ask(svc, {"question": NL_QUESTION})))
        worker.start()
        deadline = time.monotonic() + 10
        while not scripted_openai.chat_requests and time.monotonic() < deadline:
            time.sleep(0.02)
        busy = ask(svc, {"question": NL_QUESTION})
        worker.join(timeout=30)
        after = httpx.get(f"{svc.url}/readyz")
    assert busy.status_code == 429 and busy.headers["retry-after"] == "1"
    assert "busy" in busy.json()["error"]["message"]
    assert slow["r"].status_code == 200 and after.status_code == 200


def test_serve_command_with_two_workers(corpus_components: Parts, tmp_path: Path) -> None:
    """`policy-assistant serve --workers 2` as a user starts it: both processes answer, metrics add up."""
    import os
    import subprocess
    import sys

    from tests.service import free_port

    port = free_port()
    env = {
        **os.environ,
        "ASSISTANT_DATA_DIR": str(corpus_components.settings.data_dir),
        "ASSISTANT_DATABASE_URL": f"sqlite:///{tmp_path / 'service.sqlite3'}",
        "ASSISTANT_WARM_UP": "false",
        "ASSISTANT_API_TOKENS": TOKEN,
    }
    command = [sys.executable, "-m", "ui.cli", "serve", "--no-web", "--port", str(port), "--workers", "2"]
    root = Path(__file__).resolve().parents[2]
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "serve did not become ready"
            time.sleep(0.5)
        answers = [
            httpx.post(f"{url}/v1/ask", json={"question": NL_QUESTION}, headers=headers, timeout=60) for _ in range(6)
        ]
        metrics = httpx.get(f"{url}/metrics", headers=headers).text
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    assert all(a.status_code == 200 and "698 000" in a.json()["answer"] for a in answers)
    assert 'assistant_requests_total{route="/v1/ask",status="200"} 6.0' in metrics
    lines = [json.loads(line) for line in (tmp_path / "serve.log").read_text().splitlines() if line.startswith("{")]
    requests = [r for r in lines if r["message"] == "request" and r["path"] == "/v1/ask"]
    assert len(requests) == 6 and all(isinstance(r["process"], int) and r["status"] == 200 for r in requests)
    assert TOKEN not in (tmp_path / "serve.log").read_text()
