"""The web UI end to end in a real headless Chromium (Debian's `chromium`, driven by Playwright).

The app runs on a free loopback port in a thread of this process, on the real corpus index; conversations
and feedback go to a temporary data directory. Set PA_SCREENSHOT=path to also save the chat screenshot
(docs/screenshot-chat.png is made that way).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

from assistant.build import Parts
from tests.ui.test_web import web_parts
from ui.web import create_app

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium: apt-get install -y chromium"),
]
playwright_api = pytest.importorskip("playwright.sync_api")

NL_QUESTION = "Hoeveel mensen zijn sinds 2015 via hervestiging in de EU opgevangen?"
EN_QUESTION = "How long may the screening at the external border take?"
COMMENT = "De bron over terugkeer ontbreekt"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """`app` served by uvicorn on a free loopback port in a thread; yields its URL."""
    import uvicorn

    port = _free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline, "the web app did not start within 30 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


@contextmanager
def browser_context() -> Iterator:  # type: ignore[type-arg]
    """A headless Chromium; each page made by `new_page(browser)` records requests that leave 127.0.0.1."""
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser):  # type: ignore[no-untyped-def]
    """A page in a fresh browser context (its own local storage), with `page.outside` and `page.csp_errors`."""
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.set_default_timeout(30_000)
    page.outside = []  # requests that would leave this machine
    page.csp_errors = []  # what the Content-Security-Policy refused, as the console reports it
    page.on(
        "request",
        lambda r: (
            page.outside.append(r.url)
            if urlparse(r.url).scheme in ("http", "https", "ws", "wss") and urlparse(r.url).hostname != "127.0.0.1"
            else None
        ),
    )
    page.on("console", lambda m: page.csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    return page


@pytest.fixture
def server(corpus_components: Parts, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    parts = web_parts(corpus_components, tmp_path)
    feedback_path = parts.feedback.path
    assert feedback_path is not None, "feedback in a SQLite file of the test's data directory"
    with serving(create_app(parts)) as url:
        yield url, feedback_path


@pytest.fixture
def page(server):  # type: ignore[no-untyped-def]
    with browser_context() as browser:
        yield new_page(browser)


def ask(page, question: str, answers_before: int) -> None:  # type: ignore[no-untyped-def]
    page.fill("#pa-question textarea", question)
    page.click("#pa-send")
    # the answer is complete when its citations are links
    page.locator('#pa-chat [data-testid="bot"]').nth(answers_before).locator("a.pa-cite").first.wait_for()


def test_chat_in_a_real_browser(page, server) -> None:  # type: ignore[no-untyped-def]
    expect = playwright_api.expect
    url, feedback_path = server
    page.goto(url)
    # Empty chat: examples in both languages, Dutch interface, banner with mode and index status.
    expect(page.locator("#pa-chat")).to_contain_text("Hoeveel mensen zijn sinds 2015")
    expect(page.locator("#pa-chat")).to_contain_text("What is the purpose of the screening")
    expect(page.locator("#pa-send")).to_have_text("Versturen")
    expect(page.locator("#pa-banner")).to_contain_text("extractive")
    expect(page.locator("#pa-banner")).to_contain_text("5 documenten")

    ask(page, NL_QUESTION, 0)
    first = page.locator('#pa-chat [data-testid="bot"]').nth(0)
    expect(first).to_contain_text("38 000")
    sources = page.locator("#pa-sources")
    expect(sources).to_contain_text("Legale migratie")
    expect(sources).to_contain_text("(2018)")
    expect(sources.locator("mark").first).to_contain_text("38 000")

    ask(page, EN_QUESTION, 1)
    second = page.locator('#pa-chat [data-testid="bot"]').nth(1)
    # The documents name no duration for the screening: a partial answer that says so, with what they do say.
    expect(second).to_contain_text("The documents give no period for screening at the external border")
    expect(second).to_contain_text("What they do say")
    expect(second).to_contain_text("Gedeeltelijk gedekt")
    expect(page.locator("#turn-2")).to_have_attribute("open", "")
    expect(page.locator("#turn-2")).to_contain_text("(2020)")
    expect(page.locator("#turn-1")).not_to_have_attribute("open", "")

    # A citation brings its source into view and marks it.
    cite = second.locator("a.pa-cite").first
    target = cite.get_attribute("href").lstrip("#")  # type: ignore[union-attr]
    cite.click()
    expect(page.locator(f"#{target}")).to_have_class("pa-source pa-target")
    expect(page.locator(f"#{target}")).to_be_in_viewport()

    # 👎 on the English answer with a comment, stored in SQLite.
    page.locator('#pa-chat button[aria-label="Dislike"]').last.click()
    expect(page.locator("#pa-status")).to_contain_text("Bedankt voor uw beoordeling")
    page.fill("#pa-comment textarea", COMMENT)
    page.click("#pa-comment-send")
    expect(page.locator("#pa-status")).to_contain_text("toelichting is opgeslagen")
    rows = sqlite3.connect(feedback_path).execute("SELECT question, rating, comment, language FROM feedback").fetchall()
    assert rows == [(EN_QUESTION, "down", COMMENT, "en")]

    if os.environ.get("PA_SCREENSHOT"):
        page.locator(f"#{target}").scroll_into_view_if_needed()
        shot = page.screenshot(full_page=True)
        Path(os.environ["PA_SCREENSHOT"]).write_bytes(shot)

    # After a reload the conversation is still there, citations and sources included.
    page.reload()
    expect(page.locator('#pa-chat [data-testid="user"]')).to_have_count(2)
    expect(page.locator('#pa-chat [data-testid="bot"]').nth(0)).to_contain_text("38 000")
    expect(page.locator("#turn-2 .pa-source").first).to_be_attached()

    # The interface switches to English; a new conversation empties the chat.
    page.get_by_label("English").first.check()
    expect(page.locator("#pa-send")).to_have_text("Send")
    page.click("#pa-new")
    expect(page.locator('#pa-chat [data-testid="user"]')).to_have_count(0)
    expect(page.locator("#pa-sources")).to_contain_text("The sources of an answer appear here.")

    assert page.outside == [], "the page must not reach beyond this machine"
    assert page.csp_errors == [], "the Content-Security-Policy lets Gradio's own page work"


def test_example_question_is_answered(page, server) -> None:  # type: ignore[no-untyped-def]
    expect = playwright_api.expect
    page.goto(server[0])
    page.locator("#pa-chat button.example", has_text="What is the purpose of the screening").click()
    bot = page.locator('#pa-chat [data-testid="bot"]').first
    bot.locator("a.pa-cite").first.wait_for()
    expect(page.locator('#pa-chat [data-testid="user"]')).to_contain_text("What is the purpose of the screening")
    assert page.outside == []
