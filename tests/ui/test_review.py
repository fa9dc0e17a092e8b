"""The review page over real HTTP (the web app served by uvicorn on 127.0.0.1, on the real corpus index), the
gold candidates it writes (checked by the gold set's rules, read by `eval --gold`), the `feedback` command,
and the retention setting at start."""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text
from starlette.requests import Request

from assistant.build import Parts, build_assistant
from assistant.settings import load_settings
from assistant.types import EXTRACTIVE, Answer, Source
from errors import ConfigError
from eval.gold import load_gold
from storage.review import ItemFilter
from tests.ui.test_web import web_parts
from tests.ui.test_web_browser import serving
from ui import cli
from ui.feedback import open_review, parse_since, start_retention
from ui.gold_candidates import Candidate, Corpus, Evidence, validate
from ui.web import create_app
from ui.web.review import COOKIE, Denied, ReviewAccess, candidate_from_form, parse_reviewers

pytestmark = pytest.mark.server

USERS = "ana:geheim-ana,bram:geheim-bram,cor:geheim-cor"
QUESTION = "Hoeveel asielaanvragen werden in 2019 in de EU ingediend?"
COMMENT = "Het cijfer voor 2015 hoort er niet bij"
PEAK = "Na de piek in 2015, toen 1,28 miljoen asielaanvragen werden ingediend"
INTRO = "1. INLEIDING: EEN NIEUW MIGRATIE- EN ASIELPACT"


def _seed(parts: Parts) -> tuple[str, str]:
    """A 👎 with a comment on a real answer in the web chat, and a refusal in Slack; their item keys."""
    conversation = parts.conversations.new("web:user:cor")
    answer = parts.assistant.ask(QUESTION, conversation)
    rated = parts.feedback.add(answer, "down", COMMENT, channel="web")
    slack = parts.conversations.new("slack:T1:C1:1.1")
    refusal = Answer(
        question="Wat kost het terugkeerprogramma per jaar?",
        standalone_question="Wat kost het terugkeerprogramma per jaar?",
        language="nl",
        mode=EXTRACTIVE,
        text="Dat staat niet in de documenten.",
        sources=answer.sources,
        refused=True,
        coverage="not_covered",
        missing=("het bedrag",),
        conversation_id=slack.id,
    )
    parts.conversations.record(slack, refusal)
    return f"f{rated}", f"t0-{slack.id}"


@pytest.fixture
def site(corpus_components: Parts, tmp_path: Path) -> Iterator[tuple[str, Parts, tuple[str, str]]]:
    parts = web_parts(corpus_components, tmp_path, web_users=SecretStr(USERS), reviewers="ana,bram")
    keys = _seed(parts)
    with serving(create_app(parts, [tuple(u.split(":")) for u in USERS.split(",")])) as url:  # type: ignore[misc]
        yield url, parts, keys


def _client(url: str, user: str | None = None) -> httpx.Client:
    client = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
    if user:
        response = client.post(
            "/review/login", data={"username": user, "password": f"geheim-{user}", "next": "/review"}
        )
        assert response.status_code == 303, response.text
    return client


def shown(response: httpx.Response) -> str:
    """The page's text as the reader sees it (entities resolved)."""
    return html.unescape(response.text)


def _token(page: str) -> str:
    match = re.search(r'name="token" value="([0-9a-f]+)"', page)
    assert match, "every form carries its token"
    return match.group(1)


def test_only_reviewers_get_in(site) -> None:  # type: ignore[no-untyped-def]
    url, _, _ = site
    anonymous = _client(url)
    response = anonymous.get("/review?channel=web")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/review/login?next=%2Freview%3Fchannel%3Dweb")
    assert anonymous.post("/review/login", data={"username": "ana", "password": "fout"}).status_code == 401
    assert anonymous.post("/review/items/f1/review", data={"note": "x"}).status_code == 401

    staff = _client(url, "cor")
    denied = staff.get("/review")
    assert denied.status_code == 403 and "alleen voor beoordelaars" in denied.text
    assert QUESTION not in denied.text, "questions are shown to reviewers only"
    assert httpx.get(f"{url}/review", auth=("cor", "geheim-cor")).status_code == 403
    assert httpx.get(f"{url}/review/overview", auth=("ana", "fout"), follow_redirects=False).status_code == 303

    reviewer = _client(url, "ana")
    page = reviewer.get("/review")
    assert page.status_code == 200 and QUESTION in page.text and COMMENT in page.text
    assert "ingelogd als ana" in page.text
    assert httpx.get(f"{url}/review", auth=("bram", "geheim-bram")).status_code == 200

    forged = _client(url)
    value = reviewer.cookies[COOKIE]
    forged.cookies.set(COOKIE, value[:-2] + ("00" if not value.endswith("00") else "11"), path="/review")
    assert forged.get("/review").status_code == 303, "a cookie that is not ours signs nobody in"
    elsewhere = {"username": "ana", "password": "geheim-ana", "next": "https://evil.example/review"}
    assert reviewer.post("/review/login", data=elsewhere).headers["location"] == "/review", "never sent elsewhere"
    out = reviewer.post("/review/logout", data={"lang": "nl"})
    assert out.status_code == 303 and reviewer.get("/review").status_code == 303


def test_list_filters_detail_and_a_single_review(site) -> None:  # type: ignore[no-untyped-def]
    url, parts, (rated, refused) = site
    client = _client(url, "ana")
    assert QUESTION in client.get("/review?channel=web").text
    slack = client.get("/review?channel=slack&verdict=not_covered").text
    assert "terugkeerprogramma" in slack and QUESTION not in slack and "niet gedekt" in slack
    assert QUESTION not in client.get("/review?language=en").text
    bad = client.get("/review?since=gisteren")
    assert bad.status_code == 400 and "since 'gisteren' is not a date; use YYYY-MM-DD" in shown(bad)
    assert client.get("/review?rating=sometimes").status_code == 400

    detail = client.get(f"/review/items/{rated}")
    assert detail.status_code == 200
    assert 'class="pa-cite"' in detail.text and "698 000" in detail.text and COMMENT in detail.text
    assert 'class="pa-source"' in detail.text and "Mededeling over een nieuw migratie- en asielpact" in detail.text
    assert "Toevoegen aan de gouden set" in detail.text
    english = client.get(f"/review/items/{rated}?lang=en").text
    assert "Add to the gold set" in english and "Mark as reviewed" in english

    store = open_review(parts)
    assert client.post(f"/review/items/{rated}/review", data={"note": "zonder token"}).status_code == 403
    assert store.get(rated).review is None, "a form from elsewhere changes nothing"
    token = _token(detail.text)
    done = client.post(f"/review/items/{rated}/review", data={"note": "bron klopt, cijfer uitgelegd", "token": token})
    assert done.status_code == 303
    assert "door ana op" in client.get(f"/review/items/{rated}").text
    again = client.post(f"/review/items/{rated}/review", data={"note": "nogmaals", "token": token})
    assert again.status_code == 409 and f"{rated} was already reviewed by ana" in shown(again)
    review = store.get(rated).review
    assert review is not None and (review.reviewer, review.note) == ("ana", "bron klopt, cijfer uitgelegd")
    row = f"/review/items/{rated}?"  # the item's link: its id alone ("f1") is also part of other ids
    assert row not in client.get("/review").text and row in client.get("/review?status=reviewed").text

    missing = client.get("/review/items/f99999")
    assert missing.status_code == 404 and "unknown review item 'f99999'" in shown(missing)
    assert client.post("/review/items/t0-nope/review", data={"note": "x", "token": token}).status_code == 404
    refusal = client.get(f"/review/items/{refused}")
    assert refusal.status_code == 200 and "het bedrag" in refusal.text and "Geen antwoord" in refusal.text
    overview = client.get("/review/overview")
    assert overview.status_code == 200 and "<svg" in overview.text and "Mediane antwoordtijd" in overview.text
    assert "<script" not in overview.text.split("<main>")[1], "charts are inline SVG, no script"


def test_the_gold_form_is_prefilled_checked_and_saved_for_eval(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, parts, (rated, _) = site
    client = _client(url, "ana")
    form = client.get(f"/review/items/{rated}/gold")
    assert form.status_code == 200
    assert '<option value="pact-2020" selected>' in form.text
    assert "698 000" in re.search(r'<textarea name="evidence_1"[^>]*>([^<]*)<', form.text).group(1)  # type: ignore[union-attr]
    assert 'class="rv-sentence"' in form.text and 'data-doc="pact-2020"' in form.text
    fields = {
        "token": _token(form.text),
        "lang": "nl",
        "id": "nl-review-test-1",
        "item_lang": "nl",
        "kind": "number",
        "coverage": "answered",
        "question": QUESTION,
        "answer": "In 2019 werden 698 000 asielaanvragen ingediend.",
        "key_facts": "698 000\n2019",
        "doc_1": "pact-2020",
        "section_1": INTRO,
        "evidence_1": "In 2019 werden er 2 miljoen asielaanvragen ingediend.",  # not what the document says
    }
    candidates = parts.settings.candidates_path
    bad = client.post(f"/review/items/{rated}/gold", data=fields)
    assert bad.status_code == 422 and "the evidence is not in the document's text" in shown(bad)
    assert not candidates.exists(), "nothing saved"
    wrong_kind = client.post(f"/review/items/{rated}/gold", data={**fields, "kind": "cross_doc", "evidence_1": PEAK})
    assert wrong_kind.status_code == 422 and "2 or more different documents" in wrong_kind.text

    saved = client.post(f"/review/items/{rated}/gold", data={**fields, "evidence_1": PEAK})
    assert saved.status_code == 303 and "done=nl-review-test-1" in saved.headers["location"]
    assert "Opgeslagen als kandidaat nl-review-test-1" in client.get(saved.headers["location"]).text
    (item,) = load_gold([candidates], corpus_dir=parts.settings.corpus_dir)
    assert (item.id, item.docs, item.key_facts, item.kind) == (
        "nl-review-test-1",
        ("pact-2020",),
        ("698 000", "2019"),
        "number",
    )
    line = json.loads(candidates.read_text(encoding="utf-8"))
    assert line["origin"] == rated and line["coverage"] == "answered" and line["section"] == INTRO
    taken = client.post(f"/review/items/{rated}/gold", data={**fields, "evidence_1": PEAK})
    assert taken.status_code == 422 and "is taken" in taken.text
    assert len(candidates.read_text(encoding="utf-8").splitlines()) == 1

    # `policy-assistant eval --gold FILE` runs the candidate through the assistant.
    parser = argparse.ArgumentParser()
    from eval.cli import add_parser, run

    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["eval", "--gold", str(candidates), "--out", str(tmp_path / "eval"), "--no-judge"])
    assert run(parts, args) == 0
    results = (tmp_path / "eval" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(r)["id"] for r in results] == ["nl-review-test-1"]


def test_without_logins_the_page_is_for_this_machine_only(corpus_components: Parts, tmp_path: Path) -> None:
    parts = web_parts(corpus_components, tmp_path)
    _seed(parts)
    with serving(create_app(parts)) as url:
        page = httpx.get(f"{url}/review")
        assert page.status_code == 200 and QUESTION in page.text and "ingelogd als local" in page.text
    access = ReviewAccess([], [], "geheim")

    def request(host: str) -> Request:
        return Request({"type": "http", "method": "GET", "path": "/review", "headers": [], "client": (host, 5000)})

    assert access.reviewer(request("127.0.0.1")) == "local"
    with pytest.raises(Denied) as denied:
        access.reviewer(request("10.1.2.3"))
    assert denied.value.status == 403


def test_reviewers_must_be_logins() -> None:
    users = [("ana", "a"), ("bram", "b")]
    assert parse_reviewers(" ana , bram,ana", users) == ("ana", "bram")
    with pytest.raises(ConfigError, match="ASSISTANT_REVIEWERS names zoe, not a login of ASSISTANT_WEB_USERS"):
        parse_reviewers("ana,zoe", users)


# ---------------------------------------------------------------------------------------------- gold rules


def test_gold_rules_name_every_problem() -> None:
    corpus = Corpus(load_settings(_env_file=None).corpus_dir)
    assert corpus.locate("gamm-2011", "mensen die illegaal in het buitenland wonen en werken.") == (
        "mensen die illegaal in het buitenland wonen en werken1."
    ), "the document's own wording, footnote marker included"
    good = Candidate(
        id="nl-x", lang="nl", question=QUESTION, answer="698 000.", kind="number", key_facts=("698 000",),
        evidence=(Evidence("pact-2020", INTRO, PEAK),),
    )  # fmt: skip
    assert validate(good, corpus, set())[1] == []

    def problems(**changes: Any) -> str:
        return " | ".join(validate(Candidate(**{**good.__dict__, **changes}), corpus, {"nl-taken"})[1])

    assert "is taken" in problems(id="nl-taken")
    assert "longer than 4 words" in problems(key_facts=("een feit van veel te veel woorden",))
    assert "in neither the evidence nor its documents" in problems(key_facts=("zeven miljard",))
    assert "heading 'Geen kop' is not in the document" in problems(evidence=(Evidence("pact-2020", "Geen kop", PEAK),))
    assert "unknown document 'pact-2099'" in problems(evidence=(Evidence("pact-2099", INTRO, PEAK),))
    assert "evidence is 13 characters" in problems(evidence=(Evidence("pact-2020", INTRO, "698 000 in 20"),))
    assert "over_time items need evidence from 2 or more different documents" in problems(
        kind="over_time", evidence=(Evidence("pact-2020", INTRO, PEAK), Evidence("pact-2020", INTRO, PEAK))
    )
    assert "exactly one document (0 given)" in problems(evidence=())
    assert "followup item needs the earlier turns" in problems(kind="followup")
    assert "say what the documents lack" in problems(coverage="partial")
    unanswerable = problems(kind="unanswerable", key_facts=(), evidence=(), coverage="not_covered")
    assert "missing" in unanswerable and "absent_terms" in unanswerable
    assert "does occur in the corpus" in problems(
        kind="unanswerable", key_facts=(), evidence=(), coverage="not_covered", missing=("x",), absent_terms=("asiel",)
    )
    assert problems(
        kind="unanswerable", key_facts=(), evidence=(), coverage="not_covered", missing=("het bedrag",),
        absent_terms=("terugkeerprogrammabudget",),
    ) == ""  # fmt: skip
    form, unread = candidate_from_form({"id": "a", "history": "[not json", "doc_2": "pact-2020"}, "f1")
    assert unread and len(form.evidence) == 1 and form.origin == "f1"


# --------------------------------------------------------------------------------------- command and start


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["feedback", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_feedback_command_lists_counts_and_exports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    parts = build_assistant(load_settings(_env_file=None))
    peak = f"{PEAK}, nam het aantal asielaanvragen af tot 698 000 in 2019."
    source = Source(1, "c1", "pact-2020", "Migratiepact", "Pact", 2020, INTRO, INTRO, peak, 0.9, highlight=peak)
    conversation = parts.conversations.new("slack:T1:C1:1.1")
    answer = Answer(QUESTION, QUESTION, "nl", EXTRACTIVE, f"{peak} [1]", (source,), latency_ms=250.0,
                    conversation_id=conversation.id)  # fmt: skip
    parts.conversations.record(conversation, answer)
    formula = '=HYPERLINK("http://203.0.113.9")'
    rated = f"f{parts.feedback.add(answer, 'down', formula, channel='slack')}"
    unverified = Answer("Wie?", "Wie?", "nl", EXTRACTIVE, "Iemand.", (), unverified=True, conversation_id=None)
    parts.conversations.record(parts.conversations.new("web:user:ana"), unverified)

    code, out, _ = _cli(capsys, "list", "--json")
    listed = json.loads(out)
    assert code == 0 and len(listed) == 2 and listed[0]["question"] == "Wie?", "newest first"
    assert (listed[1]["key"], listed[1]["rating"], listed[1]["channel"], listed[1]["issues"]) == (
        rated,
        "down",
        "slack",
        ["down"],
    )
    assert [i["question"] for i in json.loads(_cli(capsys, "list", "--rating", "down", "--json")[1])] == [QUESTION]
    assert json.loads(_cli(capsys, "list", "--channel", "web", "--since", "1d", "--json")[1])[0]["unverified"] is True
    assert _cli(capsys, "list")[1].count("slack") >= 1
    code, _, err = _cli(capsys, "list", "--since", "gisteren")
    assert code == 2 and "error: --since 'gisteren' is not a date; use YYYY-MM-DD" in err

    stats = json.loads(_cli(capsys, "stats", "--json")[1])
    assert {(s["channel"], s["asked"], s["rated"], s["down"]) for s in stats} == {("slack", 1, 1, 1), ("web", 1, 0, 0)}
    assert next(s for s in stats if s["channel"] == "slack")["median_latency_ms"] == 250.0

    csv_path = tmp_path / "items.csv"
    assert _cli(capsys, "export", "--csv", str(csv_path))[0] == 0
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    (row,) = [r for r in rows if r["key"] == rated]
    assert row["comment"].startswith("'=") and row["question"] == QUESTION, "no formula for a spreadsheet"

    gold = tmp_path / "gold.jsonl"
    code, _, err = _cli(capsys, "export", "--gold", str(gold))
    assert code == 0 and "wrote 0 of 0 reviewed items" in err, "reviewed items only"
    open_review(parts).mark_reviewed(rated, "bram", "goed voorbeeld")
    code, _, err = _cli(capsys, "export", "--gold", str(gold))
    assert "wrote 1 of 1 reviewed items" in err
    (item,) = load_gold([gold], corpus_dir=parts.settings.corpus_dir)
    assert item.docs == ("pact-2020",) and "698 000" in item.key_facts and item.evidence[0].startswith("Na de piek")


def test_retention_runs_at_start_and_keeps_what_is_recent(tmp_path: Path) -> None:
    parts = build_assistant(load_settings(data_dir=tmp_path, retention_days=30, _env_file=None))
    for question in ("oud", "nieuw"):
        conversation = parts.conversations.new("web:user:ana")
        answer = Answer(question, question, "nl", EXTRACTIVE, "Dat staat niet in de documenten.", (), refused=True,
                        coverage="not_covered", conversation_id=conversation.id)  # fmt: skip
        parts.conversations.record(conversation, answer)
        parts.feedback.add(answer, "down", "oude toelichting" if question == "oud" else "")
    with parts.conversations.database.begin("age") as db:
        db.execute(text("UPDATE turns SET created = created - 3456000 WHERE question = 'oud'"))
    with parts.feedback.database.begin("age") as db:
        db.execute(text("UPDATE feedback SET created = created - 3456000 WHERE question = 'oud'"))
    schedule = start_retention(parts)
    assert schedule is not None
    deadline = time.monotonic() + 20
    while schedule.runs < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    schedule.stop()
    questions = {i.answer.question for i in open_review(parts).items(ItemFilter(rating="any"))}
    assert questions == {"nieuw"}
    assert [f.comment for f in parts.feedback.all()] == [""]
    assert start_retention(build_assistant(load_settings(data_dir=tmp_path, _env_file=None))) is None
    assert parse_since("2d", now=1_000_000.0) == 1_000_000.0 - 2 * 86400
