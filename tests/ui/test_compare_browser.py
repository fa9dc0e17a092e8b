"""The "Vergelijken over tijd" view and a comparative chat question, end to end in a real headless Chromium
(Debian's `chromium`, driven by Playwright), on the real corpus index.

Set PA_COMPARE_SCREENSHOT=path to also save the view's screenshot (docs/compare.png is made that way).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.build import Parts
from tests.ui.test_web import web_parts
from tests.ui.test_web_browser import CHROMIUM, browser_context, new_page, serving
from ui.web import create_app

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium: apt-get install -y chromium"),
]
playwright_api = pytest.importorskip("playwright.sync_api")

RETURN_QUESTION = "Hoe veranderde de aanpak van terugkeer tussen 2011 en 2026?"


@pytest.fixture
def page(corpus_components: Parts, tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    with serving(create_app(web_parts(corpus_components, tmp_path))) as url, browser_context() as browser:
        page = new_page(browser)
        page.goto(url)
        yield page


def compare(page, topic: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("tab", name="Vergelijken over tijd").click()
    page.fill("#pa-cmp-topic textarea", topic)
    page.click("#pa-cmp-run")
    page.locator(f'#pa-cmp-table .pa-cmp-topic:has-text("{topic}")').wait_for()


def test_a_return_question_shows_a_2011_and_a_2026_entry_and_an_entry_opens_its_source(page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright_api.expect
    compare(page, RETURN_QUESTION)
    rows = page.locator("#pa-cmp-table tr.pa-cmp-entry")
    expect(rows.first).to_have_attribute("data-year", "2011")
    expect(rows.last).to_have_attribute("data-year", "2026")
    first, last = rows.first, rows.last
    expect(first.locator("mark").first).to_contain_text("terugkeer")
    expect(last.locator("mark").first).to_be_visible()
    expect(page.locator("#pa-cmp-table .pa-cmp-changed")).to_contain_text("Wat veranderde: In volgorde: 2011")

    # The sources panel starts folded; clicking the 2011 entry's sentence opens its source and marks it.
    said = first.locator("a.pa-cmp-said").first
    target = said.get_attribute("href").lstrip("#")  # type: ignore[union-attr]
    source = page.locator(f"#{target}")
    expect(source).not_to_be_visible()
    said.click()
    expect(source).to_have_class("pa-source pa-target")
    expect(source).to_be_in_viewport()
    expect(source).to_contain_text("(2011)")
    expect(source.locator("mark").first).to_be_visible()

    if os.environ.get("PA_COMPARE_SCREENSHOT"):
        page.locator("#pa-cmp-table").scroll_into_view_if_needed()
        Path(os.environ["PA_COMPARE_SCREENSHOT"]).write_bytes(page.screenshot(full_page=True))

    # Both exports become downloads.
    for button, suffix in (("#pa-cmp-csv", ".csv"), ("#pa-cmp-md", ".md")):
        page.click(button)
        expect(page.locator("#pa-cmp-file")).to_contain_text(suffix)
    assert page.outside == [], "the page must not reach beyond this machine"
    assert page.csp_errors == []


def test_a_topic_of_later_documents_shows_not_addressed_rows_and_the_range_applies(page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright_api.expect
    compare(page, "talentenpool")
    missing = page.locator("#pa-cmp-table tr.pa-cmp-none")
    expect(missing.first).to_contain_text("Niet behandeld in dit document")
    expect(page.locator('#pa-cmp-table tr.pa-cmp-none[data-year="2011"]')).to_have_count(1)
    expect(page.locator('#pa-cmp-table tr[data-year="2026"]:not(.pa-cmp-none) mark').first).to_contain_text(
        "talentenpool"
    )
    page.fill("#pa-cmp-from textarea", "2020")
    page.fill("#pa-cmp-to textarea", "2022")
    page.click("#pa-cmp-run")
    expect(page.locator('#pa-cmp-table tr[data-year="2026"]')).to_have_count(0)
    expect(page.locator("#pa-cmp-table tr.pa-cmp-entry")).to_have_count(2)


def test_a_comparative_chat_question_gets_the_entries_inline(page) -> None:  # type: ignore[no-untyped-def]
    expect = playwright_api.expect
    page.fill("#pa-question textarea", RETURN_QUESTION)
    page.click("#pa-send")
    bot = page.locator('#pa-chat [data-testid="bot"]').first
    expect(bot).to_contain_text("Per document, in volgorde van jaar")
    expect(bot).to_contain_text("2011")
    expect(bot).to_contain_text("2026")
    # Each entry's [n] opens its source in the chat's sources panel, numbered with the answer's own.
    link = bot.locator("li a.pa-cite").first
    target = link.get_attribute("href").lstrip("#")  # type: ignore[union-attr]
    link.click()
    expect(page.locator(f"#pa-sources #{target}")).to_have_class("pa-source pa-target")
    expect(page.locator(f"#pa-sources #{target}")).to_contain_text("(2011)")
