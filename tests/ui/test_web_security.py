"""The web UI against a hostile document and a hostile neighbour: Markdown and HTML from documents stay text,
nothing loads from another origin (the Content-Security-Policy), and a browser cannot open another
principal's conversation. In a real headless Chromium over a real index holding a poisoned document."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.build import Parts, build_assistant
from assistant.settings import Settings
from errors import InputError
from tests.tiny_corpus import write_tiny_corpus
from tests.ui.test_web_browser import CHROMIUM, browser_context, new_page, playwright_api, serving
from ui.web import WebChat, create_app
from ui.web.app import CONTENT_SECURITY_POLICY
from ui.web.chat import new_session_id, principal
from ui.web.render import answer_markdown, messages, plain
from ui.web.state import Exchange

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium: apt-get install -y chromium"),
]

BEACON = "http://203.0.113.9"  # TEST-NET-3: never a real host
POISONED_DOC = {
    "id": "terugkeer-2022",
    "file": "terugkeer.txt",
    "title": f"Terugkeerbeleid ![logo]({BEACON}/title.png)",
    "short_title": "Terugkeer",
    "year": 2022,
    "doc_type": "communication",
    "reference": None,
}
POISONED_TXT = f"""Terugkeerbeleid


1. VRIJWILLIG VERTREK

Een afgewezen asielzoeker krijgt een termijn van dertig dagen ![x]({BEACON}/p.png) om de Unie vrijwillig te
verlaten, zie [de regels]({BEACON}/regels) en <img src="{BEACON}/i.png"> of www.example.org/terugkeer.

Het dossier heeft code {"k7" * 6000} in het register.
"""
QUESTION = "Hoeveel dagen krijgt een afgewezen asielzoeker om de Unie vrijwillig te verlaten?"


@pytest.fixture(scope="module")
def poisoned_settings(corpus_components: Parts, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a small real index (the tiny corpus and the poisoned document), built once."""
    root = tmp_path_factory.mktemp("poisoned")
    corpus = write_tiny_corpus(root / "corpus")
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    manifest["documents"].append(POISONED_DOC)
    (corpus / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (corpus / "terugkeer.txt").write_text(POISONED_TXT, encoding="utf-8")
    settings = corpus_components.settings.model_copy(update={"data_dir": root / "data", "corpus_dir": corpus})
    parts = build_assistant(settings)
    parts.embedder = corpus_components.embedder  # type: ignore[misc]  # one model in memory
    parts.indexer.run()
    return settings


@pytest.fixture
def poisoned(poisoned_settings: Settings, corpus_components: Parts) -> Parts:
    parts = build_assistant(poisoned_settings)
    parts.embedder = corpus_components.embedder  # type: ignore[misc]
    return parts


@pytest.fixture
def browser() -> Iterator:  # type: ignore[type-arg]
    with browser_context() as browser:
        yield browser


def _ask(page, question: str, answers_before: int = 0):  # type: ignore[no-untyped-def]
    page.fill("#pa-question textarea", question)
    page.click("#pa-send")
    bot = page.locator('#pa-chat [data-testid="bot"]').nth(answers_before)
    bot.locator("a.pa-cite").first.wait_for()
    return bot


def test_document_markdown_is_text_and_nothing_leaves_loopback(poisoned: Parts, browser) -> None:  # type: ignore[no-untyped-def]
    expect = playwright_api.expect
    with serving(create_app(poisoned)) as url:
        page = new_page(browser)
        response = page.goto(url)
        assert response is not None and response.headers.get("content-security-policy") == CONTENT_SECURITY_POLICY
        bot = _ask(page, QUESTION)
        expect(bot).to_contain_text("dertig dagen")
        # The answer quotes the poisoned sentence as text: the Markdown shows, nothing of it is live.
        expect(bot).to_contain_text(f"![x]({BEACON}/p.png)")
        expect(bot).to_contain_text("www.example.org/terugkeer")
        assert bot.locator("img").count() == 0
        hrefs = [a.get_attribute("href") or "" for a in bot.locator("a").all()]
        assert hrefs and all(h.startswith("#src-") for h in hrefs), hrefs  # only the UI's own [n] links
        sources = page.locator("#pa-sources")
        expect(sources).to_contain_text(f"![logo]({BEACON}/title.png)")
        assert sources.locator("img").count() == 0 and sources.locator("a").count() == 0
        # An unbroken 12,000-character line wraps inside the whole-section panel instead of overflowing it.
        whole = sources.locator(".pa-whole").first
        whole.locator("summary").click()
        expect(whole.locator(".pa-section-text")).to_contain_text("k7k7k7")
        widths = page.evaluate(
            """() => [...document.querySelectorAll('#pa-sources, #pa-sources .pa-section-text')]
                   .map(e => [e.scrollWidth, e.clientWidth])"""
        )
        assert all(scroll <= client + 1 for scroll, client in widths), widths
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        assert page.outside == [], "the page must not even try to reach beyond this machine"

        # Even markup that escaped the escaping could not load: the policy refuses other origins.
        with page.expect_event("requestfailed") as failed:
            page.evaluate("src => document.body.appendChild(Object.assign(new Image(), {src}))", f"{BEACON}/csp.png")
        assert failed.value.url == f"{BEACON}/csp.png" and failed.value.failure == "csp", failed.value.failure
        assert any("img-src" in e for e in page.csp_errors), page.csp_errors


def test_answer_text_is_escaped_but_citations_stay_links(poisoned: Parts, tmp_path: Path) -> None:
    chat = WebChat(poisoned)
    *_, (shown, _, turns, _) = chat.respond(QUESTION, [], "", owner="web:session:" + "a" * 32)
    answer = turns[0].answer
    assert "![x]" in answer.text, "the extractive answer quotes the poisoned sentence"
    content = shown[-1]["content"]
    assert f"]({BEACON}" not in content and "<img" not in content
    assert '<a href="#src-1-' in content and 'class="pa-cite"' in content
    # A question is shown as text too, and a marker without a source is not a link.
    question = messages([Exchange("![q](http://203.0.113.9/q.png) [9]")])[0]["content"]
    assert question == plain("![q](http://203.0.113.9/q.png) [9]") and "](" not in question
    assert "#src-1-9" not in answer_markdown(answer, 1)


def _conversations(parts: Parts) -> list[tuple[str, str]]:
    path = parts.settings.data_dir / "conversations.sqlite3"
    with sqlite3.connect(path) as db:
        return db.execute("SELECT id, owner FROM conversations ORDER BY created").fetchall()


def test_a_browser_cannot_open_another_browsers_or_a_slack_conversation(
    poisoned_settings: Settings, corpus_components: Parts, tmp_path: Path, browser
) -> None:  # type: ignore[no-untyped-def]
    expect = playwright_api.expect
    parts = build_assistant(poisoned_settings.model_copy(update={"data_dir": tmp_path}))
    parts.embedder, parts.store = corpus_components.embedder, build_assistant(poisoned_settings).store  # type: ignore[misc]
    slack = parts.conversations.get_or_new("T1-C1-1700000000.000100", "slack:T1:C1:1700000000.000100")
    with serving(create_app(parts)) as url:
        a = new_page(browser)
        a.goto(url)
        _ask(a, QUESTION)
        (a_id, a_owner), *_ = [row for row in _conversations(parts) if row[0] != slack.id]
        assert a_owner.startswith("web:session:") and len(a_owner) > len("web:session:") + 20

        b = new_page(browser)  # another browser: its own local storage, its own session
        for foreign in (a_id, slack.id):
            b.goto(f"{url}/?conversation={foreign}")
            expect(b.locator("#pa-status")).to_contain_text("Gesprek niet gevonden")
            expect(b.locator('#pa-chat [data-testid="user"]')).to_have_count(0)
        _ask(b, "Wat is de Europese blauwe kaart?")
        rows = dict(_conversations(parts))
        assert len(rows) == 3 and rows[a_id] == a_owner and rows[slack.id].startswith("slack:")
        (b_id,) = [i for i, owner in rows.items() if owner not in (a_owner, rows[slack.id])]
        assert rows[b_id].startswith("web:session:") and b_id != a_id
        assert len(parts.conversations.history(a_id)) == 1, "B's question did not go into A's conversation"

        # A's own browser still resumes A's conversation, also by its id.
        a.goto(f"{url}/?conversation={a_id}")
        expect(a.locator('#pa-chat [data-testid="user"]')).to_have_count(1)
        expect(a.locator("#pa-status")).not_to_contain_text("niet gevonden")


def test_owner_is_the_login_or_the_browser_session(poisoned: Parts) -> None:
    chat = WebChat(poisoned)
    anna, ben = principal("anna", ""), principal("ben", "")
    assert anna == "web:user:anna"
    *_, (_, _, _, anna_id) = chat.respond(QUESTION, [], "", owner=anna)
    (shown, _, _, resumed_id), notice = chat.resume(anna_id, owner=ben)
    assert shown == [] and resumed_id == "" and "niet gevonden" in notice
    # Asking under someone else's id starts a new conversation instead of extending theirs.
    *_, (_, _, _, ben_id) = chat.respond("En in 2020?", [], anna_id, owner=ben)
    assert ben_id != anna_id and len(poisoned.conversations.history(anna_id, anna)) == 1
    assert principal(None, new_session_id()).startswith("web:session:")
    with pytest.raises(InputError):
        principal(None, "")  # no login and no session: never the trusted owner None


def test_behind_a_login_conversations_belong_to_the_user(
    poisoned_settings: Settings, corpus_components: Parts, tmp_path: Path, browser
) -> None:  # type: ignore[no-untyped-def]
    expect = playwright_api.expect
    parts = build_assistant(poisoned_settings.model_copy(update={"data_dir": tmp_path}))
    parts.embedder, parts.store = corpus_components.embedder, build_assistant(poisoned_settings).store  # type: ignore[misc]
    with serving(create_app(parts, users=[("ana", "pw-ana"), ("bob", "pw-bob")])) as url:

        def login(name: str):  # type: ignore[no-untyped-def]
            page = new_page(browser)
            page.goto(url)
            page.get_by_label("username").fill(name)
            page.get_by_label("password").fill(f"pw-{name}")
            page.get_by_role("button", name="Login").click()
            page.locator("#pa-question textarea").wait_for()
            return page

        ana = login("ana")
        _ask(ana, QUESTION)
        ((ana_id, owner),) = _conversations(parts)
        assert owner == "web:user:ana"
        bob = login("bob")
        bob.goto(f"{url}/?conversation={ana_id}")
        expect(bob.locator("#pa-status")).to_contain_text("Gesprek niet gevonden")
        expect(bob.locator('#pa-chat [data-testid="user"]')).to_have_count(0)
        # Ana in another browser (no shared local storage) still opens her conversation by its id.
        again = login("ana")
        again.goto(f"{url}/?conversation={ana_id}")
        expect(again.locator('#pa-chat [data-testid="user"]')).to_have_count(1)
