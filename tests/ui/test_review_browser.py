"""The review flow end to end in a real headless Chromium: a staff member rates an answer 👎 with a comment in
the chat, a reviewer finds it on the review page, marks it reviewed and turns it into a gold candidate by
clicking a sentence of its source, and `eval --gold` runs the candidates file; a non-reviewer gets 403.
Set PA_REVIEW_SCREENSHOT=path to save the review page's screenshot (docs/review.png is made that way)."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from assistant.build import Parts
from assistant.types import EXTRACTIVE, Answer
from eval.cli import add_parser, run
from eval.gold import load_gold
from tests.ui.test_web import web_parts
from tests.ui.test_web_browser import CHROMIUM, ask, browser_context, new_page, playwright_api, serving
from ui.web import create_app

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium: apt-get install -y chromium"),
]

USERS = [("ana", "geheim-ana"), ("cor", "geheim-cor")]
QUESTION = "Hoeveel asielaanvragen werden in 2019 in de EU ingediend?"
COMMENT = "Het cijfer van 2015 hoort niet in het antwoord"
FACT_SENTENCE = "698 000"
PEAK = (
    "Na de piek in 2015, toen 1,28 miljoen asielaanvragen werden ingediend, nam het aantal asielaanvragen af tot "
    "698 000 in 2019."
)


@pytest.fixture
def site(corpus_components: Parts, tmp_path: Path) -> Iterator[tuple[str, Parts]]:
    users = SecretStr(",".join(f"{u}:{p}" for u, p in USERS))
    parts = web_parts(corpus_components, tmp_path, web_users=users, reviewers="ana")
    with serving(create_app(parts, USERS)) as url:
        yield url, parts


def sign_in_to_chat(page, url: str, user: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url)
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    page.locator("#pa-question textarea").wait_for()


def sign_in_to_review(page, user: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click(".rv-login button[type=submit]")


def _seed_for_the_screenshot(parts: Parts) -> None:
    """A few more answers worth a look, so the picture shows a real queue."""
    for owner, question, marks in (
        ("slack:T1:C1:1.1", "Wat kost het nieuwe terugkeerprogramma per jaar?", {"coverage": "not_covered"}),
        ("api:x", "What is the budget of the talent pool?", {"coverage": "partial", "language": "en"}),
        ("web:user:cor", "Hoeveel terugkeerbesluiten werden in 2021 uitgevoerd?", {"unverified": True}),
    ):
        conversation = parts.conversations.new(owner)
        answer = Answer(question, question, "nl", EXTRACTIVE, "Dat staat niet in de documenten.", (),
                        refused=marks.get("coverage") == "not_covered", conversation_id=conversation.id)  # fmt: skip
        parts.conversations.record(conversation, Answer(**{**answer.__dict__, **marks}))  # type: ignore[arg-type]


def test_from_a_thumbs_down_in_the_chat_to_a_gold_candidate(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    expect = playwright_api.expect
    url, parts = site
    with browser_context() as browser:
        # A staff member (not a reviewer) rates an answer 👎 with a comment in the chat ...
        staff = new_page(browser)
        sign_in_to_chat(staff, url, "cor", "geheim-cor")
        ask(staff, QUESTION, 0)
        staff.locator('#pa-chat button[aria-label="Dislike"]').last.click()
        expect(staff.locator("#pa-status")).to_contain_text("Bedankt voor uw beoordeling")
        staff.fill("#pa-comment textarea", COMMENT)
        staff.click("#pa-comment-send")
        expect(staff.locator("#pa-status")).to_contain_text("toelichting is opgeslagen")
        # ... and may not open the review page.
        staff.goto(f"{url}/review")
        sign_in_to_review(staff, "cor", "geheim-cor")
        expect(staff.locator(".rv-error")).to_contain_text("alleen voor beoordelaars")
        assert staff.request.get(f"{url}/review").status == 403
        expect(staff.locator("body")).not_to_contain_text(QUESTION)

        # The reviewer finds it in the queue, with the comment.
        if os.environ.get("PA_REVIEW_SCREENSHOT"):
            _seed_for_the_screenshot(parts)
        page = new_page(browser)
        page.goto(f"{url}/review")
        sign_in_to_review(page, "ana", "geheim-ana")
        row = page.locator("table.rv-items tr", has_text=QUESTION)
        expect(row).to_contain_text(COMMENT)
        expect(row).to_contain_text("👎 niet nuttig")
        if os.environ.get("PA_REVIEW_SCREENSHOT"):
            Path(os.environ["PA_REVIEW_SCREENSHOT"]).write_bytes(page.screenshot(full_page=True))
        page.select_option("select[name=channel]", "slack")
        page.click(".rv-filters button[type=submit]")
        expect(page.locator("table.rv-items tr", has_text=QUESTION)).to_have_count(0)
        page.select_option("select[name=channel]", "web")
        page.click(".rv-filters button[type=submit]")

        # Its detail shows the sources as in the chat; a citation brings its source into view.
        page.locator("table.rv-items tr", has_text=QUESTION).get_by_role("link").click()
        expect(page.locator(".rv-question")).to_have_text(QUESTION)
        expect(page.locator(".pa-source").first).to_contain_text("Mededeling over een nieuw migratie- en asielpact")
        page.locator(".rv-answer a.pa-cite").first.click()
        expect(page.locator(".pa-source.pa-target")).to_be_in_viewport()
        page.fill("#rv-review textarea[name=note]", "Cijfer klopt; toegevoegd als regressietest")
        page.click("#rv-review button[type=submit]")
        expect(page.locator("#rv-review")).to_contain_text("door ana op")

        # "Add to the gold set": the form is pre-filled; a click on a sentence makes it the evidence.
        page.click("a.rv-button")
        expect(page.locator("#rv-question")).to_have_value(QUESTION)
        evidence = page.locator("textarea[name=evidence_1]")
        evidence.fill("")
        page.locator(".rv-sentence", has_text=FACT_SENTENCE).first.click()
        expect(evidence).to_have_value(PEAK)
        expect(page.locator("select[name=doc_1]")).to_have_value("pact-2020")
        page.fill("#rv-key_facts", "698 000\n2019")
        page.fill("#rv-id", "nl-review-browser-1")
        page.click("#rv-save")
        expect(page.locator(".rv-notice")).to_contain_text("Opgeslagen als kandidaat nl-review-browser-1")
        assert page.outside == [] and staff.outside == [], "nothing leaves this machine"
        assert page.csp_errors == [], "the review pages live within the Content-Security-Policy"

    candidates = parts.settings.candidates_path
    (item,) = load_gold([candidates], corpus_dir=parts.settings.corpus_dir)
    assert (item.id, item.docs, item.key_facts) == ("nl-review-browser-1", ("pact-2020",), ("698 000", "2019"))
    assert FACT_SENTENCE in item.evidence[0]
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "eval"
    assert run(parts, parser.parse_args(["eval", "--gold", str(candidates), "--out", str(out), "--no-judge"])) == 0
    (result,) = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert result["id"] == "nl-review-browser-1"
