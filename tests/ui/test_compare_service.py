"""`POST /v1/compare` and the `comparison` of `/v1/ask`, over real HTTP against the service under uvicorn on
127.0.0.1, answering from the real corpus index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.build import Parts
from tests.service import ServiceThread, sse_events
from tests.ui.test_service import service_parts
from ui.service import create_service

pytestmark = pytest.mark.server

RETURN_QUESTION = "Hoe veranderde de aanpak van terugkeer tussen 2011 en 2026?"


@pytest.fixture
def service(corpus_components: Parts, tmp_path: Path) -> Iterator[ServiceThread]:
    with ServiceThread(create_service(service_parts(corpus_components, tmp_path), web=False)) as svc:
        yield svc


def post(svc: ServiceThread, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{svc.url}{path}", json=body, timeout=60)


def test_compare_returns_the_entries_in_year_order_within_the_range(service: ServiceThread) -> None:
    response = post(service, "/v1/compare", {"topic": "terugkeer", "year_from": 2011, "year_to": 2022})
    assert response.status_code == 200
    body = response.json()
    assert [e["year"] for e in body["entries"]] == [2011, 2018, 2020, 2022]
    assert body["topic"] == "terugkeer" and body["language"] == "nl" and body["mode"] == "extractive"
    assert body["changed"].startswith("In volgorde: 2011")
    numbers = {s["n"] for s in body["sources"]}
    assert {c["source"] for e in body["entries"] for c in e["sentences"]} <= numbers
    assert all(s["year"] <= 2022 for s in body["sources"])


def test_compare_with_documents_and_years_and_its_errors(service: ServiceThread) -> None:
    body = post(service, "/v1/compare", {"topic": "talentenpool", "doc_ids": ["gamm-2011", "strategy-2026"]}).json()
    assert [(e["doc_id"], e["addressed"]) for e in body["entries"]] == [("gamm-2011", False), ("strategy-2026", True)]
    only = post(service, "/v1/compare", {"topic": "hervestiging", "years": [2018, 2022]}).json()
    assert [e["year"] for e in only["entries"]] == [2018, 2022]

    unknown = post(service, "/v1/compare", {"topic": "terugkeer", "doc_ids": ["bestaat-niet"]})
    assert unknown.status_code == 400 and "unknown document 'bestaat-niet'" in unknown.json()["error"]["message"]
    empty = post(service, "/v1/compare", {"topic": "  "})
    assert empty.status_code == 400 and "the question is empty" in empty.json()["error"]["message"]
    nothing = post(service, "/v1/compare", {"topic": "terugkeer", "year_from": 2012, "year_to": 2017})
    assert nothing.status_code == 400 and "no indexed document is dated 2012–2017" in nothing.json()["error"]["message"]
    extra = post(service, "/v1/compare", {"topic": "terugkeer", "question": "x"})
    assert extra.status_code == 422
    no_model = post(service, "/v1/compare", {"topic": "terugkeer", "mode": "openai"})
    assert no_model.status_code == 400 and "--mode extractive" in no_model.json()["error"]["message"]


def test_a_comparative_question_gets_a_comparison_in_ask(service: ServiceThread) -> None:
    body = post(service, "/v1/ask", {"question": RETURN_QUESTION}).json()
    comparison = body["comparison"]
    years = [e["year"] for e in comparison["entries"]]
    assert years == sorted(years) and {2011, 2026} <= set(years)
    answer_sources = {s["chunk_id"]: s["n"] for s in body["sources"]}
    for source in comparison["sources"]:
        if source["chunk_id"] in answer_sources:  # the answer's own passages keep their numbers
            assert source["n"] == answer_sources[source["chunk_id"]]
        else:
            assert source["n"] > len(body["sources"])
    plain = post(service, "/v1/ask", {"question": "Hoeveel asielaanvragen werden in 2019 in de EU ingediend?"}).json()
    assert "comparison" not in plain and plain["answer_id"]


def test_a_streamed_comparative_answer_ends_with_its_comparison(service: ServiceThread) -> None:
    with httpx.stream("POST", f"{service.url}/v1/ask", json={"question": RETURN_QUESTION, "stream": True}) as r:
        events = list(sse_events(r))
    kind, last = events[-1]
    assert kind == "answer" and last["answer_id"] and {2011, 2026} <= {e["year"] for e in last["comparison"]["entries"]}


def test_openapi_schema_documents_compare_and_the_comparison_field(service: ServiceThread) -> None:
    schema = httpx.get(f"{service.url}/openapi.json").json()
    assert "/v1/compare" in schema["paths"]
    schemas = schema["components"]["schemas"]
    assert {"topic", "doc_ids", "years", "year_from", "year_to", "mode", "language"} <= set(
        schemas["CompareRequest"]["properties"]
    )
    assert {"entries", "changed", "sources"} <= set(schemas["ComparisonReply"]["properties"])
    assert "comparison" in schemas["AskReply"]["properties"]
    ok = schema["paths"]["/v1/compare"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/ComparisonReply")
