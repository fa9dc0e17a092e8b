"""The service against a hostile caller on the same network (issue 16): bounded metrics, conversations that
belong to their caller, model requests that end with their client, plain error replies, workers that end with
their master. Real HTTP against the service under uvicorn on 127.0.0.1, answering from the real corpus index."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from assistant.build import Parts
from errors import NotFoundError
from tests.assistant import openai_server
from tests.assistant.openai_server import ScriptedOpenAIServer
from tests.service import ServiceThread, free_port, sse_events
from tests.ui.test_service import NL_QUESTION, TOKEN, ask, openai_parts, service_parts
from ui.service import create_service

scripted_openai = openai_server.scripted_openai

pytestmark = pytest.mark.server

OTHER_TOKEN = "another-s3cret-token-9876543210"
A = {"Authorization": f"Bearer {TOKEN}"}
B = {"Authorization": f"Bearer {OTHER_TOKEN}"}


def _series(metrics: str) -> list[str]:
    return [line.rsplit(" ", 1)[0] for line in metrics.splitlines() if line and not line.startswith("#")]


def test_random_paths_do_not_add_metric_series(corpus_components: Parts, tmp_path: Path) -> None:
    parts = service_parts(corpus_components, tmp_path, api_tokens=SecretStr(TOKEN))
    with ServiceThread(create_service(parts, web=False)) as svc, httpx.Client(base_url=svc.url) as client:
        # One of each kind first: refused (401), not found (404), wrong method (405); then measure.
        assert client.get(f"/v1/{secrets.token_hex(8)}").status_code == 401
        assert client.get(f"/v1/{secrets.token_hex(8)}", headers=A).status_code == 404
        assert client.get("/v1/ask", headers=A).status_code == 405
        assert client.get("/v1/documents", headers=A).status_code == 200
        client.get("/metrics", headers=A)  # the scrape itself is counted from the next one on
        before = _series(client.get("/metrics", headers=A).text)
        for _ in range(1000):
            path = f"/v1/{secrets.token_urlsafe(12)}/{secrets.token_hex(4)}"
            assert client.post(path, json={}).status_code == 401
        for _ in range(20):
            assert client.get(f"/v1/{secrets.token_hex(8)}", headers=A).status_code == 404
        after = _series(client.get("/metrics", headers=A).text)
    assert len(after) == len(before) and set(after) == set(before)
    assert 'assistant_requests_total{route="other",status="401"}' in after
    assert 'assistant_requests_total{route="/v1/documents",status="200"}' in after  # a route is named as itself
    assert set(re.findall(r'route="([^"]*)"', " ".join(after))) == {"other", "/v1/ask", "/v1/documents", "/metrics"}


def test_a_conversation_belongs_to_its_token(corpus_components: Parts, tmp_path: Path) -> None:
    parts = service_parts(corpus_components, tmp_path, api_tokens=SecretStr(f"{TOKEN},{OTHER_TOKEN}"))
    with ServiceThread(create_service(parts, web=False)) as svc:
        first = ask(svc, {"question": NL_QUESTION}, headers=A).json()
        ident = first["conversation_id"]
        assert ident and len(ident) >= 32  # issued by the server, random
        # B can neither read nor extend A's conversation, on either API.
        stolen = ask(svc, {"question": "En in 2020?", "conversation_id": ident}, headers=B)
        chat = httpx.post(
            f"{svc.url}/v1/chat/completions",
            json={"messages": [{"role": "user", "content": "En in 2020?"}], "conversation_id": ident},
            headers=B,
            timeout=60,
        )
        streamed = ask(svc, {"question": "En in 2020?", "conversation_id": ident, "stream": True}, headers=B)
        # An id nobody was given is no way to start a conversation under a name of one's choosing.
        chosen = ask(svc, {"question": NL_QUESTION, "conversation_id": "team-gesprek-1"}, headers=B)
        follow = ask(svc, {"question": "En in 2015?", "conversation_id": ident}, headers=A).json()
        own = ask(svc, {"question": NL_QUESTION}, headers=B).json()
    for refused in (stolen, chat, streamed, chosen):
        assert refused.status_code == 404, refused.text
        assert refused.json()["error"]["type"] == "NotFoundError" and "detail" not in refused.json()
        assert NL_QUESTION not in refused.text and "2019" not in refused.text
    assert "2015" in follow["standalone_question"] and "1,28 miljoen" in follow["answer"]
    history = parts.conversations.history(ident)
    assert [t.answer.question for t in history] == [NL_QUESTION, "En in 2015?"]
    with pytest.raises(NotFoundError):
        parts.conversations.get("team-gesprek-1")
    assert own["conversation_id"] != ident
    with pytest.raises(NotFoundError):
        parts.conversations.get(own["conversation_id"], "api:" + "0" * 16)


@pytest.fixture
def service(corpus_components: Parts, tmp_path: Path) -> Iterator[ServiceThread]:
    with ServiceThread(create_service(service_parts(corpus_components, tmp_path), web=False)) as svc:
        yield svc


def test_chat_completions_continue_only_an_own_conversation(service: ServiceThread) -> None:
    url = f"{service.url}/v1/chat/completions"
    first = httpx.post(url, json={"messages": [{"role": "user", "content": NL_QUESTION}]}, timeout=60).json()
    ident = first["policy_assistant"]["conversation_id"]
    follow = httpx.post(
        url, json={"messages": [{"role": "user", "content": "En in 2015?"}], "conversation_id": ident}, timeout=60
    ).json()
    assert "2015" in follow["policy_assistant"]["standalone_question"]
    assert "1,28 miljoen" in follow["choices"][0]["message"]["content"]


def test_cut_streams_close_their_model_requests(
    corpus_components: Parts, tmp_path: Path, scripted_openai: ScriptedOpenAIServer
) -> None:
    scripted_openai.reply_slow_stream(["Het aantal ", "aanvragen "] * 200, interval=0.1, times=5)
    parts = openai_parts(corpus_components, tmp_path, scripted_openai, openai_breaker_failures=100)
    with ServiceThread(create_service(parts, web=False)) as svc:
        requests: list[tuple[str, dict[str, Any]]] = [
            *[("/v1/ask", {"question": NL_QUESTION, "stream": True})] * 3,
            *[("/v1/chat/completions", {"messages": [{"role": "user", "content": NL_QUESTION}], "stream": True})] * 2,
        ]
        clients = [httpx.Client(base_url=svc.url, timeout=30) for _ in requests]
        streams = [c.stream("POST", path, json=body) for c, (path, body) in zip(clients, requests, strict=True)]
        readers = []  # kept: a reader dropped mid-stream closes its connection (httpcore does)
        seen: list[list[str]] = []
        for s in streams:
            response = s.__enter__()
            assert response.status_code == 200
            readers.append(sse_events(response))
            seen.append([])
            for event, data in readers[-1]:
                seen[-1].append(f"{event}:{_model_delta(event, data)!r}")
                # The model's own second delta, not just any line holding the word (an extractive
                # fallback's text holds "asielaanvragen" too): the model has begun, now the client goes.
                if _model_delta(event, data) == "aanvragen ":
                    break
        assert scripted_openai.open_requests == 5, f"each stream's events until the cut: {seen}"
        for s, c in zip(streams, clients, strict=True):
            s.__exit__(None, None, None)
            c.close()
        deadline = time.monotonic() + 3
        while scripted_openai.open_requests and time.monotonic() < deadline:
            time.sleep(0.05)
        still_open = scripted_openai.open_requests
        time.sleep(0.3)
        inflight = [
            line for line in httpx.get(f"{svc.url}/metrics").text.splitlines()
            if line.startswith("assistant_inflight_requests ")
        ]  # fmt: skip
    assert still_open == 0, f"{still_open} model requests outlived their clients"
    assert inflight == ["assistant_inflight_requests 0.0"]


def _model_delta(event: str, data: Any) -> str:
    """The text of one model delta in either stream format (`/v1/ask` events, OpenAI chunks); "" else."""
    if event == "delta" and isinstance(data, dict):
        return str(data.get("text", ""))
    if event == "message" and isinstance(data, dict) and data.get("choices"):
        return str(data["choices"][0].get("delta", {}).get("content") or "")
    return ""


def test_a_cut_stream_counts_in_flight_until_its_model_request_ends(
    corpus_components: Parts, tmp_path: Path, scripted_openai: ScriptedOpenAIServer
) -> None:
    # A delta every 2 s: when the client goes after the first, the model request lasts until the second.
    scripted_openai.reply_slow_stream(["Het aantal ", "aanvragen ", "was "] * 20, interval=2.0)
    parts = openai_parts(corpus_components, tmp_path, scripted_openai, api_max_inflight=1)
    search = {"query": NL_QUESTION, "k": 1}
    with ServiceThread(create_service(parts, web=False)) as svc:
        with httpx.stream("POST", f"{svc.url}/v1/ask", json={"question": NL_QUESTION, "stream": True}) as r:
            next(e for e, _ in sse_events(r) if e == "delta")
        cut = time.monotonic()
        time.sleep(0.3)
        during = httpx.post(f"{svc.url}/v1/search", json=search)  # the one slot: still the model's
        assert time.monotonic() - cut < 1.5, "too slow to probe while the model request lasts"
        deadline = time.monotonic() + 5
        while scripted_openai.open_requests and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        after = httpx.post(f"{svc.url}/v1/search", json=search)
    assert during.status_code == 429
    assert scripted_openai.open_requests == 0 and after.status_code == 200


def test_feedback_rates_only_an_answer_the_service_gave(corpus_components: Parts, tmp_path: Path) -> None:
    parts = service_parts(corpus_components, tmp_path, api_tokens=SecretStr(f"{TOKEN},{OTHER_TOKEN}"))
    with ServiceThread(create_service(parts, web=False)) as svc:
        given = ask(svc, {"question": NL_QUESTION}, headers=A).json()
        url = f"{svc.url}/v1/feedback"
        forged = dict(given, answer="Er waren er 5 [1].", sources=[{"n": 1, "doc_id": "verzonnen"}])
        tries = [
            httpx.post(url, json={"answer": forged, "rating": "up"}, headers=A),  # a client's own copy
            httpx.post(url, json={"answer_id": given["answer_id"], "rating": "up"}, headers=B),  # not B's
            httpx.post(url, json={"answer_id": "0" * 32, "rating": "up"}, headers=A),  # never issued
            httpx.post(url, json={"answer_id": [given["answer_id"]], "rating": "up"}, headers=A),
        ]
        with httpx.stream("POST", f"{svc.url}/v1/ask", json={"question": NL_QUESTION, "stream": True}, headers=B) as r:
            streamed = [d for e, d in sse_events(r) if e == "answer"][0]
        own = httpx.post(url, json={"answer_id": given["answer_id"], "rating": "down", "comment": "klopt"}, headers=A)
        theirs = httpx.post(url, json={"answer_id": streamed["answer_id"], "rating": "up"}, headers=B)
    assert [t.status_code for t in tries] == [422, 404, 404, 422]
    for t in tries:
        assert set(t.json()) == {"error"} and str(tmp_path) not in t.text
    assert own.status_code == 201 and theirs.status_code == 201
    stored = parts.feedback.all()
    assert [(f.rating, f.comment) for f in stored] == [("down", "klopt"), ("up", "")]
    assert stored[0].answer.text == given["answer"] and stored[0].answer.conversation_id == given["conversation_id"]
    assert stored[0].answer.sources[0].doc_id == "pact-2020"


# ------------------------------------------------------------------------------------------- low


def test_readyz_without_a_token_shows_only_the_status(corpus_components: Parts, tmp_path: Path) -> None:
    parts = service_parts(corpus_components, tmp_path, api_tokens=SecretStr(TOKEN))
    with ServiceThread(create_service(parts, web=False)) as svc:
        anonymous = httpx.get(f"{svc.url}/readyz")
        holder = httpx.get(f"{svc.url}/readyz", headers=A)
    assert anonymous.status_code == 200 and anonymous.json() == {"ready": True}
    assert "service.sqlite3" not in anonymous.text
    assert holder.json()["checks"]["conversations"] == "ok"


@pytest.mark.parametrize(
    ("method", "path", "content", "ctype", "status"),
    [
        ("POST", "/v1/ask", b"{not json", "application/json", 422),
        ("POST", "/v1/ask", b"[1, 2]", "application/json", 422),
        ("POST", "/v1/ask", b"\xff\xfe\x00", "application/json", 400),
        ("POST", "/v1/ask", b"question=wat", "application/x-www-form-urlencoded", 422),
        ("POST", "/v1/ask", b'{"question": "Wat?"}', "text/plain", 422),
        ("POST", "/v1/feedback", b'"up"', "application/json", 422),
        ("POST", "/v1/chat/completions", b'{"messages": "hallo"}', "application/json", 422),
        ("GET", "/v1/ask", b"", "application/json", 405),
        ("GET", "/v1/bestaat-niet", b"", "application/json", 404),
    ],
)
def test_unusable_requests_get_the_service_error_shape(
    service: ServiceThread, method: str, path: str, content: bytes, ctype: str, status: int
) -> None:
    response = httpx.request(method, service.url + path, content=content, headers={"content-type": ctype})
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"} and body["error"]["type"] and body["error"]["message"]


@pytest.mark.parametrize("k", ["3", True, 3.0, "drie"])
def test_k_must_be_a_whole_number(service: ServiceThread, k: Any) -> None:
    asked = ask(service, {"question": NL_QUESTION, "k": k})
    searched = httpx.post(f"{service.url}/v1/search", json={"query": NL_QUESTION, "k": k})
    assert asked.status_code == 422 and searched.status_code == 422
    assert "k:" in asked.json()["error"]["message"]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_workers_end_with_a_killed_master(corpus_components: Parts, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "ASSISTANT_DATA_DIR": str(corpus_components.settings.data_dir),
        "ASSISTANT_DATABASE_URL": f"sqlite:///{tmp_path / 'service.sqlite3'}",
        "ASSISTANT_WARM_UP": "false",
    }
    command = [sys.executable, "-m", "ui.cli", "serve", "--no-web", "--port", str(port), "--workers", "2"]
    root = Path(__file__).resolve().parents[2]
    log = (tmp_path / "serve.log").open("wb")
    master = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                up = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
                if up and len(_children(master.pid)) >= 2:
                    break
            except httpx.HTTPError:
                pass
            assert master.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.3)
        workers = _children(master.pid)
        master.send_signal(signal.SIGKILL)
        master.wait(timeout=10)
        deadline = time.monotonic() + 15
        while any(_alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        survivors = [p for p in workers if _alive(p)]
    finally:
        for p in workers:
            if _alive(p):
                os.kill(p, signal.SIGKILL)
        log.close()
    assert workers and not survivors, f"workers {survivors} outlived their master"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
