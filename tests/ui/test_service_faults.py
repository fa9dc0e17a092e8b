"""The service under faults, as a team deployment meets them: a Chroma server restarted under load, the
PostgreSQL database restarted, a re-index while two service instances answer. Real servers on 127.0.0.1:
`chroma run`, Debian's PostgreSQL, the service under uvicorn; bounded in time."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from assistant.build import Parts, build_assistant
from assistant.settings import Settings, load_settings
from index.embed import Embedder
from tests import postgres as _postgres
from tests.chroma import ChromaServer, free_port
from tests.postgres import PostgresServer
from tests.service import ServiceThread
from tests.tiny_corpus import Q_SCREENING, write_tiny_corpus
from ui.service import create_service

pytestmark = pytest.mark.server

postgres = _postgres.postgres

RETURN_TXT = """Terugkeer en overname


1. INLEIDING

Slechts ongeveer een derde van de personen die het bevel kregen de Unie te verlaten, keert ook
daadwerkelijk terug naar het land van herkomst. De terugkeerbesluiten worden te weinig uitgevoerd.


2. SAMENWERKING MET DERDE LANDEN

De Unie sluit overnameovereenkomsten met derde landen, zodat zij hun onderdanen zonder verblijfsrecht
terugnemen. Visumbeleid kan worden ingezet om die samenwerking te bevorderen.
"""
PASSWORD = "Geheim-9f2c41"
Q_RETURN = "Welk deel van de mensen met een bevel om de Unie te verlaten keert werkelijk terug?"


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    root = tmp_path_factory.mktemp("chroma-faults")
    server = ChromaServer(path=root / "db", port=free_port(), log=root / "chroma.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(chroma: ChromaServer, postgres: PostgresServer, tmp_path: Path) -> Settings:
    corpus = write_tiny_corpus(tmp_path / "corpus")
    postgres.start()  # an earlier test may have left it stopped
    user = f"svc_{uuid.uuid4().hex[:8]}"
    postgres.create_user(user, PASSWORD)  # a password, so the tests can check it never shows
    return load_settings(
        _env_file=None,
        data_dir=tmp_path / "data",
        corpus_dir=corpus,
        chroma_host="127.0.0.1",
        chroma_port=chroma.port,
        database_url=SecretStr(postgres.create_database(owner=user)),
        warm_up=False,
    )


def instance(settings: Settings, embedder: Embedder | None = None) -> Parts:
    parts = build_assistant(settings)
    if embedder is not None:
        parts.embedder = embedder  # type: ignore[misc]  # one model in memory for every instance
    return parts


@dataclass
class Load:
    """Clients asking questions back to back against one or more services until stopped."""

    urls: list[str]
    question: str
    clients: int = 4
    results: list[tuple[float, int, dict[str, Any]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Load:
        for n in range(self.clients):
            url = self.urls[n % len(self.urls)]
            thread = threading.Thread(target=self._run, args=(url,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _run(self, url: str) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            while not self._stop.is_set():
                try:
                    r = http.post("/v1/ask", json={"question": self.question})
                    self.results.append((time.monotonic(), r.status_code, r.json()))
                except httpx.HTTPError as err:
                    self.results.append((time.monotonic(), 0, {"error": {"message": repr(err)}}))
                time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        time.sleep(0.2)


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=10).status_code == 200
    except httpx.HTTPError:
        return False


def test_chroma_restarted_under_load(settings: Settings, chroma: ChromaServer) -> None:
    parts = instance(settings)
    parts.indexer.run()
    with ServiceThread(create_service(parts, web=False)) as svc:
        assert ready(svc.url)
        with Load([svc.url], Q_SCREENING) as load:
            time.sleep(1.0)
            chroma.stop()
            wait_for(lambda: not ready(svc.url), 15, "readyz turning false")
            readyz = httpx.get(f"{svc.url}/readyz").json()
            time.sleep(1.5)  # questions keep coming while Chroma is away
            outage_end = time.monotonic()
            chroma.start()
            wait_for(lambda: ready(svc.url), 30, "the service recovering")
            recovered = time.monotonic()
            time.sleep(1.5)
    assert readyz["ready"] is False and "Chroma" in readyz["checks"]["store"]
    statuses = {status for _, status, _ in load.results}
    assert statuses <= {200, 503}, statuses  # never a crash or a 500
    failed = [body for _, status, body in load.results if status == 503]
    assert failed, "no question arrived while Chroma was down"
    messages = {body["error"]["message"] for body in failed}
    assert all("Chroma" in message for message in messages), messages
    after = [(status, body) for t, status, body in load.results if t > recovered + 0.5]
    assert after and all(status == 200 and "vijf dagen" in body["answer"] for status, body in after)
    before_outage = [status for t, status, _ in load.results if t < outage_end - 5]
    assert all(status == 200 for status in before_outage)


def test_database_restarted_loses_no_feedback(settings: Settings, postgres: PostgresServer) -> None:
    parts = instance(settings)
    parts.indexer.run()
    url_log: list[int] = []
    with ServiceThread(create_service(parts, web=False)) as svc:
        http = httpx.Client(base_url=svc.url, timeout=30)
        answer = http.post("/v1/ask", json={"question": Q_SCREENING}).json()
        conversation, rated = answer["conversation_id"], answer["answer_id"]
        for n in range(5):
            r = http.post("/v1/feedback", json={"answer_id": rated, "rating": "up", "comment": f"nummer {n}"})
            assert r.status_code == 201
            url_log.append(r.json()["id"])

        postgres.stop()
        try:
            readyz = http.get("/readyz")
            down = http.post("/v1/feedback", json={"answer_id": rated, "rating": "down", "comment": "tijdens storing"})
            follow = http.post("/v1/ask", json={"question": "En hoe lang?", "conversation_id": conversation})
            one_off = http.post("/v1/ask", json={"question": Q_SCREENING})
        finally:
            postgres.start()

        assert readyz.status_code == 503 and "PostgreSQL" in readyz.json()["checks"]["feedback"]
        assert down.status_code == 503 and "ASSISTANT_DATABASE_URL" in down.json()["error"]["message"]
        assert follow.status_code == 503
        assert one_off.status_code == 200 and "vijf dagen" in one_off.json()["answer"]  # needs no database
        assert PASSWORD not in down.text and PASSWORD not in readyz.text

        wait_for(lambda: ready(svc.url), 30, "the service recovering")
        again = http.post("/v1/feedback", json={"answer_id": rated, "rating": "down", "comment": "na storing"})
        assert again.status_code == 201
        later = http.post("/v1/ask", json={"question": "En hoe lang?", "conversation_id": conversation})
        assert later.status_code == 200
        http.close()
    comments = [f.comment for f in parts.feedback.all()]
    assert comments == [f"nummer {n}" for n in range(5)] + ["na storing"]
    history = parts.conversations.history(conversation)
    assert [t.answer.question for t in history] == [Q_SCREENING, "En hoe lang?"]


def test_reindex_while_two_instances_answer(settings: Settings) -> None:
    first = instance(settings)
    first.indexer.run()
    second = instance(settings, embedder=first.embedder)
    old_ids = {c.id for c in first.store.chunks()}
    with (
        ServiceThread(create_service(first, web=False)) as a,
        ServiceThread(create_service(second, web=False)) as b,
        Load([a.url, b.url], Q_SCREENING, clients=4) as load,
    ):
        time.sleep(0.5)
        corpus = settings.corpus_dir
        manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
        manifest["documents"].append(
            {
                "id": "terugkeer-2020",
                "file": "terugkeer.txt",
                "title": "Terugkeer en overname",
                "short_title": "Terugkeer",
                "year": 2020,
                "doc_type": "communication",
                "reference": None,
            }
        )
        (corpus / "terugkeer.txt").write_text(RETURN_TXT, encoding="utf-8")
        (corpus / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        report = first.indexer.run()  # a re-index while both instances serve
        assert report.sync.changed
        new_ids = {c.id for c in first.store.chunks()}

        def both_know_the_new_document() -> bool:
            for url in (a.url, b.url):
                body = httpx.post(f"{url}/v1/ask", json={"question": Q_RETURN}, timeout=30).json()
                if not body.get("sources") or body["sources"][0]["doc_id"] != "terugkeer-2020":
                    return False
            return True

        wait_for(both_know_the_new_document, 10, "both instances answering from the new index")
        time.sleep(0.5)
    assert new_ids - old_ids and len(load.results) > 20
    assert {status for _, status, _ in load.results} == {200}
    for _, _, body in load.results:
        ids = {s["chunk_id"] for s in body["sources"]}
        # Every answer comes wholly from the old index or wholly from the new one, never from a half-built one.
        assert ids <= old_ids or ids <= new_ids
        assert len(body["sources"]) == 5 and "vijf dagen" in body["answer"]
    assert os.environ.get("ASSISTANT_CHROMA_HOST") is None  # the settings came from the test, not the env


def test_database_down_at_start(settings: Settings, postgres: PostgresServer) -> None:
    """`serve` starts with the database down: one-off questions are answered, `/readyz` says 503, and the
    service recovers by itself when the database comes up."""
    build_assistant(settings).indexer.run()
    postgres.stop()
    try:
        parts = instance(settings)
        with ServiceThread(create_service(parts, web=False)) as svc:
            http = httpx.Client(base_url=svc.url, timeout=30)
            readyz = http.get("/readyz")
            one_off = http.post("/v1/ask", json={"question": Q_SCREENING})
            postgres.start()
            wait_for(lambda: ready(svc.url), 30, "the service recovering")
            later = http.post("/v1/ask", json={"question": Q_SCREENING})
            follow = http.post(
                "/v1/ask", json={"question": "En hoe lang?", "conversation_id": later.json()["conversation_id"]}
            )
            http.close()
    finally:
        postgres.start()
    assert readyz.status_code == 503 and PASSWORD not in readyz.text
    assert one_off.status_code == 200 and "vijf dagen" in one_off.json()["answer"], one_off.text
    assert one_off.json()["conversation_id"] is None and one_off.json()["answer_id"] is None
    assert later.status_code == 200 and later.json()["conversation_id"] and later.json()["answer_id"]
    assert follow.status_code == 200
