"""The Slack bot's 👎 comment modal and its state in the shared database, over real HTTP: signed interactivity
requests to the bot in HTTP mode, slack_sdk talking to the local fake Slack Web API of tests/ui/test_slack.py
(which here also answers `views.open`)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from assistant.build import Parts
from tests.ui.test_slack import QUESTION, Bot, FakeSlack, run_bot, slack_parts
from ui.slack import app as slack_app

COMMENT = "Het bedrag voor 2019 ontbreekt"


@dataclass
class ModalSlack(FakeSlack):
    """The fake Slack API, answering `views.open` too (or refusing it, as Slack does after 3 s)."""

    refuse_views: bool = False
    opened: list[dict[str, Any]] = field(default_factory=list)

    def handle(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method != "views.open":
            return super().handle(method, args)
        with self.lock:
            self.calls.append((method, args))
        if self.refuse_views:
            return {"ok": False, "error": "expired_trigger_id"}
        view = json.loads(args["view"]) if isinstance(args["view"], str) else args["view"]
        self.opened.append(view)
        return {"ok": True, "view": {"id": "V1", **view}}


@dataclass
class ModalBot:
    bot: Bot
    fake: ModalSlack

    def rate_first_answer(self, up: bool = False, user: str = "U8", ts: str = "100.000001") -> dict[str, Any]:
        # The event id and the message are new to the data directory, which the bots of a test share.
        self.bot.mention(QUESTION, ts=ts, event_id=f"Ev{ts}")
        (update,) = self.fake.wait_for("chat.update", 1)
        assert self.bot.click(update, up=up, user=user, thread_ts=ts)[0] == 200
        return update

    def submit(self, view: dict[str, Any], comment: str | None, user: str = "U8") -> tuple[int, str]:
        payload = {
            "type": "view_submission",
            "team": {"id": "T1"},
            "user": {"id": user},
            "api_app_id": "A1",
            "trigger_id": "2.3.4",
            "view": {
                "id": "V1",
                "type": "modal",
                "callback_id": view["callback_id"],
                "private_metadata": view["private_metadata"],
                "state": {"values": {"comment": {"comment": {"type": "plain_text_input", "value": comment}}}},
            },
        }
        return self.bot.post(
            urllib.parse.urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )


@pytest.fixture
def start_modal_bot(corpus_components: Parts, tmp_path: Path) -> Iterator[Callable[..., ModalBot]]:
    servers: list[ThreadingHTTPServer] = []

    def start(*, refuse_views: bool = False, **options: Any) -> ModalBot:
        fake = ModalSlack(refuse_views=refuse_views)
        return ModalBot(run_bot(fake, slack_parts(corpus_components, tmp_path), servers, **options), fake)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def comments(data_dir: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(data_dir / "feedback.sqlite3") as db:
        return db.execute(
            "SELECT f.rating, f.comment, s.user_id FROM feedback f JOIN slack_feedback s ON s.feedback_id = f.id"
        ).fetchall()


def test_thumbs_down_opens_a_modal_whose_comment_is_stored_with_the_rating(start_modal_bot) -> None:  # type: ignore[no-untyped-def]
    modal = start_modal_bot()
    modal.rate_first_answer(up=False)
    (call,) = modal.fake.wait_for("views.open", 1)
    assert call["trigger_id"] == "1.2.3"
    (view,) = modal.fake.opened
    assert view["type"] == "modal" and view["callback_id"] == slack_app.COMMENT_CALLBACK
    assert view["title"]["text"] == "Wat ging er mis?" and len(view["title"]["text"]) <= 24
    (block,) = view["blocks"]
    assert block["optional"] is True and block["element"]["multiline"] is True
    assert comments(modal.bot.data_dir) == [("down", "", "U8")], "the rating is stored before any comment"
    assert modal.fake.of("chat.postEphemeral") == [], "the modal is the answer to the click"

    status, body = modal.submit(view, COMMENT)
    assert status == 200 and "errors" not in body, "the modal closes"
    (thanks,) = modal.fake.wait_for("chat.postEphemeral", 1)
    assert thanks["user"] == "U8" and thanks["channel"] == "C1" and "toelichting is opgeslagen" in thanks["text"]
    assert comments(modal.bot.data_dir) == [("down", COMMENT, "U8")]


def test_a_comment_from_someone_else_empty_or_too_long_changes_nothing(start_modal_bot) -> None:  # type: ignore[no-untyped-def]
    modal = start_modal_bot()
    modal.rate_first_answer(up=False)
    modal.fake.wait_for("views.open", 1)
    (view,) = modal.fake.opened

    assert modal.submit(view, "Ik was het niet", user="U9")[0] == 200  # a submission naming another's rating
    assert modal.submit(view, None)[0] == 200  # "skip": nothing typed
    status, body = modal.submit(view, "x" * 2001)
    assert status == 200 and json.loads(body)["response_action"] == "errors", "the modal stays open with an error"
    forged = {**view, "private_metadata": "{not json"}
    assert modal.submit(forged, COMMENT)[0] == 200
    time.sleep(0.5)
    assert comments(modal.bot.data_dir) == [("down", "", "U8")]
    assert modal.fake.of("chat.postEphemeral") == []


def test_thumbs_up_and_a_refused_modal_get_the_plain_thanks(start_modal_bot) -> None:  # type: ignore[no-untyped-def]
    up = start_modal_bot()
    up.rate_first_answer(up=True)
    (thanks,) = up.fake.wait_for("chat.postEphemeral", 1)
    assert "👍" in thanks["text"] and up.fake.of("views.open") == []

    refused = start_modal_bot(refuse_views=True)
    refused.rate_first_answer(up=False, user="U3", ts="110.000001")
    refused.fake.wait_for("views.open", 1)
    (thanks,) = refused.fake.wait_for("chat.postEphemeral", 1)
    assert "👎" in thanks["text"] and thanks["user"] == "U3"


def test_retries_and_the_rate_limit_hold_across_instances_and_restarts(start_modal_bot) -> None:  # type: ignore[no-untyped-def]
    first = start_modal_bot(rate_limit=2)
    second = start_modal_bot(rate_limit=2)  # another instance on the same data directory
    assert first.bot.mention(QUESTION, ts="200.000001", event_id="EvSHARED")[0] == 200
    first.fake.wait_for("chat.update", 1)
    assert second.bot.mention(QUESTION, ts="200.000001", event_id="EvSHARED", retry=1)[0] == 200
    time.sleep(0.5)
    assert second.fake.of("chat.postMessage") == [], "the retry reached another instance: not answered again"

    assert second.bot.mention(QUESTION, ts="200.000002", event_id="EvSECOND")[0] == 200
    second.fake.wait_for("chat.update", 1)
    restarted = start_modal_bot(rate_limit=2)
    assert restarted.bot.mention(QUESTION, ts="200.000003", event_id="EvTHIRD")[0] == 200
    (note,) = restarted.fake.wait_for("chat.postEphemeral", 1)
    assert note["user"] == "U1" and "2" in note["text"], "the third question in a minute, counted across instances"
    assert restarted.fake.of("chat.update") == []


def test_concurrent_questions_of_one_user_on_two_instances_are_limited_once(start_modal_bot) -> None:  # type: ignore[no-untyped-def]
    bots = [start_modal_bot(rate_limit=1) for _ in range(2)]
    threads = [
        threading.Thread(target=b.bot.mention, args=(QUESTION,), kwargs={"ts": f"300.00000{i}", "event_id": f"EvC{i}"})
        for i, b in enumerate(bots)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        answered = sum(len(b.fake.of("chat.update")) for b in bots)
        limited = sum(len(b.fake.of("chat.postEphemeral")) for b in bots)
        if answered + limited == 2:
            break
        time.sleep(0.05)
    assert (answered, limited) == (1, 1)
