"""Comparisons in the Slack bot, over real HTTP: the bot in HTTP mode on 127.0.0.1, slack_sdk talking to the
local fake Slack Web API of `test_slack.py`, signed Events API requests, the real corpus index."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.ui import test_slack
from tests.ui.test_slack import section_texts
from ui.slack.blocks import MAX_BLOCKS, MAX_SECTION_CHARS
from ui.slack.compare import compare_topic

start_bot = test_slack.start_bot

RETURN_QUESTION = "Hoe veranderde de aanpak van terugkeer tussen 2011 en 2026?"


def _entry_years(blocks: list[dict[str, Any]]) -> list[int]:
    entries = [
        b for b in blocks if str(b.get("block_id", "")).startswith("pa-compare-") and b["block_id"][11:].isdigit()
    ]
    return [int(re.match(r"\*(\d{4})\*", b["text"]["text"]).group(1)) for b in entries]  # type: ignore[union-attr]


def _within_limits(blocks: list[dict[str, Any]]) -> None:
    assert len(blocks) <= MAX_BLOCKS
    assert all(len(b["text"]["text"]) <= MAX_SECTION_CHARS for b in blocks if b["type"] == "section")


def test_the_compare_phrasing_is_read_in_both_languages() -> None:
    assert compare_topic("vergelijk terugkeer") == "terugkeer"
    assert compare_topic("Vergelijk: hervestiging van vluchtelingen") == "hervestiging van vluchtelingen"
    assert compare_topic("compare over time return") == "return"
    assert compare_topic("vergelijken") == ""
    assert compare_topic("Wat is het verschil tussen het pact en de strategie?") is None
    assert compare_topic("vergelijkbare regels in 2020?") is None


def test_vergelijk_gives_one_block_per_year_with_its_sources(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot = start_bot()
    bot.mention("vergelijk talentenpool", ts="300.000001")
    (update,) = bot.fake.wait_for("chat.update", 1)
    blocks = update["blocks"]
    _within_limits(blocks)
    assert _entry_years(blocks) == [2011, 2018, 2020, 2022, 2026]
    text = section_texts(blocks)
    assert "*talentenpool*: per document, in volgorde van jaar" in text
    assert text.count("_Niet behandeld in dit document._") >= 2
    assert "*Wat veranderde:* In volgorde: 2020" in text
    # Each year's block is followed by the sources it cites or looked at.
    first = next(i for i, b in enumerate(blocks) if b.get("block_id") == "pa-compare-0")
    assert blocks[first + 1]["type"] == "context" and "[1]" in json.dumps(blocks[first + 1])
    assert "talentenpool" in update["text"], "notification fallback text"
    assert not any(b["type"] == "actions" for b in blocks), "a comparison is no conversation turn to rate"


def test_compare_without_a_topic_asks_for_one(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot = start_bot()
    bot.dm("vergelijk", ts="301.000001")
    (update,) = bot.fake.wait_for("chat.update", 1)
    assert "Bijvoorbeeld: _vergelijk terugkeer_" in update["text"]


def test_a_comparative_question_gets_its_entries_under_the_answer(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot = start_bot()
    bot.mention(RETURN_QUESTION, ts="302.000001")
    (update,) = bot.fake.wait_for("chat.update", 1)
    blocks = update["blocks"]
    _within_limits(blocks)
    ids = [str(b.get("block_id", "")) for b in blocks]
    answer_end = max(i for i, b in enumerate(ids) if b.startswith("pa-answer"))
    years = _entry_years(blocks)
    assert years == sorted(years) and {2011, 2026} <= set(years)
    assert min(i for i, b in enumerate(ids) if b.startswith("pa-compare-")) > answer_end, "entries follow the text"
    text = section_texts(blocks)
    cited = {
        int(n)
        for b in blocks
        if b.get("block_id", "").startswith("pa-compare-")
        for n in re.findall(r"\[(\d+)\]", b["text"]["text"])
    }
    listed = {int(n) for n in re.findall(r"\*\[(\d+)\] ", text)}
    assert cited <= listed, "every entry's source is among the sources"
    assert any(b["type"] == "actions" for b in blocks), "the answer can still be rated"
    history = bot.parts.conversations.history(bot.conversation_id("C1", "302.000001"))
    assert [h.answer.question for h in history] == [RETURN_QUESTION]
