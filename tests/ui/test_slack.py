"""The Slack bot over real HTTP: the bot runs in HTTP mode on 127.0.0.1, slack_sdk talks to a local fake Slack
Web API that records every call, and the tests send signed Events API and interactivity requests to the bot."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from assistant.build import Parts, build_assistant
from assistant.conversation import Conversation
from assistant.core import Assistant
from assistant.settings import load_settings
from assistant.types import EXTRACTIVE, Answer, Source
from errors import InputError, NotFoundError
from storage.feedback import FeedbackStore
from ui.commands import add_slack_parser
from ui.slack import app as slack_app
from ui.slack.blocks import MAX_BLOCKS, MAX_SECTION_CHARS, answer_blocks, strip_mentions, to_mrkdwn

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"
BOT = "UBOT"
QUESTION = "Hoeveel asielaanvragen werden in 2019 in de EU ingediend?"
FOLLOW_UP = "En in 2015?"


# ------------------------------------------------------------------------------------- fake Slack API


@dataclass
class FakeSlack:
    """A local Slack Web API: records calls, answers like Slack, serves `conversations.replies` from `threads`."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    threads: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def handle(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.calls.append((method, args))
            n = next(self._ts)
        if method == "auth.test":
            return {"ok": True, "user_id": BOT, "bot_id": "BBOT", "team_id": "T1", "user": "policy-assistant"}
        if method == "chat.postMessage":
            return {"ok": True, "channel": args["channel"], "ts": f"900.{n:06d}", "message": {"text": args["text"]}}
        if method == "chat.update":
            return {"ok": True, "channel": args["channel"], "ts": args["ts"], "text": args.get("text", "")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"950.{n:06d}"}
        if method == "conversations.replies":
            messages = self.threads.get((args["channel"], args["ts"]))
            if messages is None:
                return {"ok": False, "error": "thread_not_found"}
            return {"ok": True, "messages": messages, "has_more": False}
        return {"ok": False, "error": "unknown_method"}

    def of(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [args for m, args in self.calls if m == method]

    def wait_for(self, method: str, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(method)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} {method} calls, got {self.of(method)}")

    def answer_calls(self) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            return [(m, a) for m, a in self.calls if m != "auth.test"]


def _fake_handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            method = self.path.rsplit("/", 1)[-1]
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            assert self.headers.get("Authorization") == f"Bearer {TOKEN}"
            if "json" in (self.headers.get("Content-Type") or ""):
                args = json.loads(raw or "{}")
            else:
                args = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
            if isinstance(args.get("blocks"), str):
                args["blocks"] = json.loads(args["blocks"])
            data = json.dumps(fake.handle(method, args)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def _serve(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread


# ------------------------------------------------------------------------------------------- the bot


def slack_parts(corpus_components: Parts, data_dir: Path) -> Parts:
    """Real parts over the shared corpus index and model, with conversations and feedback in `data_dir`."""
    parts = build_assistant(corpus_components.settings.model_copy(update={"data_dir": data_dir}))
    parts.embedder = corpus_components.embedder  # the index built once per session, not a new one in data_dir
    parts.answer_embedder = corpus_components.answer_embedder
    parts.store = corpus_components.store
    parts.retriever = corpus_components.retriever
    return parts


class HookedAssistant(Assistant):
    """The parts' real assistant, calling `hook` with the call's number (0, 1, ...) before each answer: a test
    holds an answer back or makes one fail, and every answer still goes through the real retrieval."""

    def __init__(self, real: Assistant, hook: Callable[[int], None]) -> None:
        super().__init__(
            retriever=real.retriever,
            extractive=real.extractive,
            generative=real.generative,
            llm=real.llm,
            conversations=real.conversations,
            policy=real.policy,
            default_mode=real.default_mode,
            forced_language=real.forced_language,
        )
        self.hook = hook
        self.calls = itertools.count()

    def ask(self, question: str, conversation: Conversation | str | None = None, **options: Any) -> Answer:
        self.hook(next(self.calls))
        return super().ask(question, conversation, **options)


@dataclass
class Bot:
    url: str
    fake: FakeSlack
    parts: Parts
    data_dir: Path
    _event_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def conversation_id(self, channel: str, thread_ts: str, team: str = "T1") -> str:
        """The id the bot gives a thread's conversation, from the secret it keeps in the data directory."""
        secret = (self.data_dir / slack_app.SECRET_FILE).read_text(encoding="utf-8").strip()
        return slack_app.conversation_id(secret, team, channel, thread_ts)

    def post(self, body: str, content_type: str, *, timestamp: int | None = None, signature: str | None = None,
             retry: int | None = None) -> tuple[int, str]:  # fmt: skip
        ts = str(timestamp if timestamp is not None else int(time.time()))
        sig = signature or "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}
        if retry is not None:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        request = urllib.request.Request(self.url, data=body.encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def event(self, event: dict[str, Any], *, event_id: str | None = None, **kwargs: Any) -> tuple[int, str]:
        envelope = {
            "token": "unused",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._event_ids):04d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": BOT, "is_bot": True}],
            "event": event,
        }
        return self.post(json.dumps(envelope), "application/json", **kwargs)

    def mention(self, text: str, ts: str, thread_ts: str | None = None, channel: str = "C1", user: str = "U1",
                **kwargs: Any) -> tuple[int, str]:  # fmt: skip
        event = {"type": "app_mention", "user": user, "text": f"<@{BOT}> {text}", "ts": ts, "channel": channel}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return self.event(event, **kwargs)

    def dm(self, text: str, ts: str, **extra: Any) -> tuple[int, str]:
        event = {"type": "message", "channel_type": "im", "user": "U2", "text": text, "ts": ts, "channel": "D1"}
        return self.event({**event, **extra})

    def click(self, update: dict[str, Any], up: bool = True, user: str = "U1", thread_ts: str = "100.000001",
              value: str | None = None) -> tuple[int, str]:  # fmt: skip
        button = next(b for b in update["blocks"] if b["type"] == "actions")["elements"][0 if up else 1]
        if value is not None:
            button = {**button, "value": value}
        payload = {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": user},
            "api_app_id": "A1",
            "channel": {"id": update["channel"]},
            "container": {"type": "message", "message_ts": update["ts"], "channel_id": update["channel"]},
            "message": {"ts": update["ts"], "thread_ts": thread_ts, "type": "message"},
            "trigger_id": "1.2.3",
            "response_url": "http://127.0.0.1:9/unused",
            "actions": [{**button, "block_id": "pa-feedback", "action_ts": str(time.time())}],
        }
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded")


def run_bot(fake: FakeSlack, parts: Parts, servers: list[ThreadingHTTPServer], **options: Any) -> Bot:
    """The bot app against `fake` as its Slack API, both served on loopback; the two servers join `servers`,
    which the caller shuts down."""
    api = ThreadingHTTPServer(("127.0.0.1", 0), _fake_handler(fake))
    servers.append(api)
    _serve(api)
    app = slack_app.create_app(
        parts,
        token=TOKEN,
        signing_secret=SECRET,
        base_url=f"http://127.0.0.1:{api.server_address[1]}/api/",
        token_verification_enabled=False,
        **options,
    )
    server = slack_app.serve_http(app, "127.0.0.1", 0)
    servers.append(server)
    _serve(server)
    url = f"http://127.0.0.1:{server.server_address[1]}{slack_app.EVENTS_PATH}"
    return Bot(url, fake, parts, Path(parts.settings.data_dir))


@pytest.fixture
def start_bot(corpus_components: Parts, tmp_path: Path) -> Iterator[Callable[..., Bot]]:
    servers: list[ThreadingHTTPServer] = []

    def start(parts: Parts | None = None, **options: Any) -> Bot:
        return run_bot(FakeSlack(), parts or slack_parts(corpus_components, tmp_path), servers, **options)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def section_texts(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")


def feedback_rows(data_dir: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(data_dir / "feedback.sqlite3") as db:
        return db.execute(
            "SELECT f.channel, f.conversation_id, f.question, f.standalone_question, f.answer, f.mode, f.rating, "
            "s.user_id, s.channel_id, s.message_ts FROM feedback f JOIN slack_feedback s ON s.feedback_id = f.id "
            "ORDER BY f.id"
        ).fetchall()


# ----------------------------------------------------------------------------------------------- tests


def test_mention_gets_a_placeholder_then_the_answer_in_the_thread(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot = start_bot()
    status, _ = bot.mention(QUESTION, ts="100.000001")
    assert status == 200

    (placeholder,) = bot.fake.wait_for("chat.postMessage", 1)
    assert placeholder["channel"] == "C1" and placeholder["thread_ts"] == "100.000001"
    assert "zoek" in placeholder["text"]
    (update,) = bot.fake.wait_for("chat.update", 1)
    assert update["channel"] == "C1" and update["ts"].startswith("900.")  # the placeholder, edited in place
    text = section_texts(update["blocks"])
    assert "698 000" in text and "[1]" in text, "answer with citation markers"
    assert "*Bronnen*" in text and "Verslag over migratie en asiel" in text, "sources with document title"
    assert "698 000" in update["text"], "notification fallback text"
    context = json.dumps([b for b in update["blocks"] if b["type"] == "context"], ensure_ascii=False)
    assert "extractive" in context, "the mode is shown"
    buttons = next(b for b in update["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == ["feedback_up", "feedback_down"]
    assert len(update["blocks"]) <= MAX_BLOCKS
    assert all(len(b["text"]["text"]) <= MAX_SECTION_CHARS for b in update["blocks"] if b["type"] == "section")

    history = bot.parts.conversations.history(bot.conversation_id("C1", "100.000001"))
    assert [h.answer.question for h in history] == [QUESTION], "the <@BOT> mention is stripped"
    assert not bot.fake.of("conversations.replies")


def test_follow_up_in_the_thread_uses_the_earlier_turn_and_feedback_is_stored(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot = start_bot()
    bot.mention(QUESTION, ts="100.000001")
    bot.fake.wait_for("chat.update", 1)
    bot.mention(FOLLOW_UP, ts="100.000002", thread_ts="100.000001")
    first, follow = bot.fake.wait_for("chat.update", 2)
    assert bot.fake.of("chat.postMessage")[1]["thread_ts"] == "100.000001"
    assert "1,28 miljoen" in section_texts(follow["blocks"]), "the follow-up is read with the earlier question"
    assert not bot.fake.of("conversations.replies"), "the store knew the thread"

    assert bot.click(first, up=True, user="U7")[0] == 200
    assert bot.click(follow, up=False, user="U8")[0] == 200
    thanks = bot.fake.wait_for("chat.postEphemeral", 2)
    assert {t["user"] for t in thanks} == {"U7", "U8"}

    # The two clicks are handled concurrently: the rows are compared in the users' order, not the store's.
    rows = sorted(feedback_rows(bot.data_dir), key=lambda r: r[7])
    conv_id = bot.conversation_id("C1", "100.000001")
    assert [(r[0], r[1], r[2], r[6], r[7], r[8], r[9]) for r in rows] == [
        ("slack", conv_id, QUESTION, "up", "U7", "C1", first["ts"]),
        ("slack", conv_id, FOLLOW_UP, "down", "U8", "C1", follow["ts"]),
    ]
    standalone = rows[1][3]
    assert "2015" in standalone and "asielaanvragen" in standalone
    assert "1,28 miljoen" in rows[1][4] and rows[1][5] == "extractive"


def test_follow_up_in_a_thread_the_store_does_not_know_is_read_back_from_slack(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot = start_bot()
    bot.fake.threads[("C1", "300.000001")] = [
        {"type": "message", "user": "U1", "ts": "300.000001", "text": f"<@{BOT}> {QUESTION}"},
        {"type": "message", "user": "U3", "ts": "300.000002", "text": "interesting, thanks"},
        {
            "type": "message",
            "user": BOT,
            "bot_id": "BBOT",
            "ts": "300.000003",
            "text": "In 2019 ... 698 000",
            "blocks": [{"type": "section", "block_id": "pa-answer-0", "text": {"type": "mrkdwn", "text": "698 000"}}],
        },
        {"type": "message", "user": "U1", "ts": "300.000004", "text": f"<@{BOT}> {FOLLOW_UP}"},
    ]
    bot.mention(FOLLOW_UP, ts="300.000004", thread_ts="300.000001")
    (update,) = bot.fake.wait_for("chat.update", 1)
    (replies,) = bot.fake.of("conversations.replies")
    assert replies["channel"] == "C1" and replies["ts"] == "300.000001"
    assert "1,28 miljoen" in section_texts(update["blocks"])
    history = bot.parts.conversations.history(bot.conversation_id("C1", "300.000001"))
    assert [h.answer.question for h in history] == [QUESTION, FOLLOW_UP]
    assert (history[0].answer.text, history[0].answer.sources) == ("698 000", ()), "read back: text, no sources"


def test_direct_message_is_answered_and_the_bots_own_messages_are_ignored(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot = start_bot()
    assert bot.dm("What is the purpose of the screening before entry?", ts="400.000001")[0] == 200
    (placeholder,) = bot.fake.wait_for("chat.postMessage", 1)
    assert placeholder["channel"] == "D1" and placeholder["thread_ts"] == "400.000001"
    assert "Searching" in placeholder["text"], "English question, English placeholder"
    (update,) = bot.fake.wait_for("chat.update", 1)
    assert "*Sources*" in section_texts(update["blocks"])

    bot.dm("an answer", ts="400.000002", bot_id="BBOT", user=BOT)
    bot.dm("edited", ts="400.000003", subtype="message_changed")
    bot.event({"type": "message", "channel_type": "channel", "user": "U2", "text": "hi", "ts": "1.1", "channel": "C9"})
    time.sleep(0.5)
    assert len(bot.fake.of("chat.postMessage")) == 1 and len(bot.fake.of("chat.update")) == 1


def test_bad_or_stale_signature_is_rejected_and_nothing_is_answered(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot = start_bot()
    assert bot.mention(QUESTION, ts="500.000001", signature="v0=" + "0" * 64)[0] == 401
    assert bot.mention(QUESTION, ts="500.000002", timestamp=int(time.time()) - 3600)[0] == 401
    time.sleep(0.5)
    assert bot.fake.answer_calls() == []


def test_a_retried_event_is_answered_once(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot = start_bot()
    assert bot.mention(QUESTION, ts="600.000001", event_id="EvRETRY")[0] == 200
    assert bot.mention(QUESTION, ts="600.000001", event_id="EvRETRY", retry=1)[0] == 200
    assert bot.mention(QUESTION, ts="600.000001", event_id="EvRETRY", retry=2)[0] == 200
    bot.fake.wait_for("chat.update", 1)
    time.sleep(0.5)
    assert len(bot.fake.of("chat.postMessage")) == 1 and len(bot.fake.of("chat.update")) == 1

    # A retry whose first delivery never arrived is the first the bot sees: it is answered.
    assert bot.mention(QUESTION, ts="600.000002", event_id="EvLOST", retry=1)[0] == 200
    bot.fake.wait_for("chat.update", 2)


def test_events_are_acknowledged_before_the_answer_is_ready(start_bot, corpus_components, tmp_path) -> None:  # type: ignore[no-untyped-def]
    parts = slack_parts(corpus_components, tmp_path)
    release = threading.Event()

    def wait_for_release(call: int) -> None:
        assert release.wait(10)

    parts.assistant = HookedAssistant(parts.assistant, wait_for_release)
    bot = start_bot(parts)
    started = time.monotonic()
    assert bot.mention(QUESTION, ts="700.000001")[0] == 200
    assert time.monotonic() - started < 2.0
    bot.fake.wait_for("chat.postMessage", 1)  # the placeholder is up while the answer is still being made
    assert bot.fake.of("chat.update") == []
    release.set()
    bot.fake.wait_for("chat.update", 1)


def test_an_error_becomes_a_short_message_and_the_bot_keeps_running(start_bot, corpus_components, tmp_path) -> None:  # type: ignore[no-untyped-def]
    parts = slack_parts(corpus_components, tmp_path)

    def fail_first(call: int) -> None:
        if call == 0:
            raise RuntimeError("index exploded")

    parts.assistant = HookedAssistant(parts.assistant, fail_first)
    bot = start_bot(parts)
    bot.mention(QUESTION, ts="800.000001")
    (failed,) = bot.fake.wait_for("chat.update", 1)
    assert "index exploded" in failed["text"] and "⚠️" in failed["text"] and len(failed["text"]) < 400
    bot.mention("x" * 3000, ts="800.000002")  # too long: a plain message from the assistant's validation
    bot.mention(QUESTION, ts="800.000003")
    updates = bot.fake.wait_for("chat.update", 3)
    assert "2000" in updates[1]["text"]
    assert "698 000" in section_texts(updates[2]["blocks"])


def test_per_user_rate_limit_answers_with_a_friendly_message(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot = start_bot(rate_limit=2)
    for i in range(3):
        bot.mention(QUESTION, ts=f"810.00000{i}", user="U5")
    (note,) = bot.fake.wait_for("chat.postEphemeral", 1)
    assert note["user"] == "U5" and "2" in note["text"] and "opnieuw" in note["text"]
    bot.mention(QUESTION, ts="810.000009", user="U6")  # another user is not limited
    bot.fake.wait_for("chat.update", 3)
    time.sleep(0.3)
    assert len(bot.fake.of("chat.postMessage")) == 3


def test_url_verification_and_healthz(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot = start_bot()
    status, body = bot.post(json.dumps({"type": "url_verification", "challenge": "abc"}), "application/json")
    assert status == 200 and "abc" in body
    with urllib.request.urlopen(bot.url.replace(slack_app.EVENTS_PATH, "/healthz"), timeout=5) as response:
        assert response.status == 200


# ---------------------------------------------------------------------- hostile documents and ownership

# A document that tries to notify everyone, mention a user, plant a link and format its quote.
POISON = (
    "Een afgewezen asielzoeker krijgt een termijn van 30 dagen om de Unie vrijwillig te verlaten "
    "<!channel> <!here> <@U123> <http://evil.example/p|klik hier> @channel *vet* _schuin_ ~weg~ `code` "
    "```blok``` www.evil.example https://evil.example/beacon.png."
)
POISON_TXT = f"""Terugkeer <!channel> *beleid*


1. TERMIJN <@U123> VOOR VERTREK

{POISON}
Na afloop van die termijn kan de lidstaat het terugkeerbesluit gedwongen uitvoeren.
"""
POISON_QUESTION = "Hoeveel dagen krijgt een afgewezen asielzoeker om de Unie vrijwillig te verlaten?"
LIVE_MARKUP = ("<!channel>", "<!here>", "<@U123>", "<http", "http://evil", "https://evil", "www.evil", "evil.example",
               "@channel", "*vet*", "_schuin_", "~weg~", "`code`", "```", "*beleid*")  # fmt: skip


@pytest.fixture(scope="module")
def poisoned_settings(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Settings of a real index: the tiny corpus plus the poisoned document."""
    from tests.tiny_corpus import write_tiny_corpus

    root = tmp_path_factory.mktemp("slack-poison")
    corpus = write_tiny_corpus(root / "corpus")
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    manifest["documents"].append(
        {"id": "poison-2023", "file": "poison.txt", "title": "Terugkeer <!channel> *beleid* <@U123>",
         "short_title": "Terugkeer", "year": 2023, "doc_type": "communication", "reference": None}
    )  # fmt: skip
    (corpus / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (corpus / "poison.txt").write_text(POISON_TXT, encoding="utf-8")
    settings = load_settings(_env_file=None, data_dir=root / "data", corpus_dir=corpus, warm_up=False)
    build_assistant(settings).indexer.run()
    return settings


def test_markup_from_a_document_reaches_slack_as_text(start_bot, poisoned_settings) -> None:  # type: ignore[no-untyped-def]
    bot = start_bot(build_assistant(poisoned_settings))
    bot.mention(POISON_QUESTION, ts="910.000001")
    (update,) = bot.fake.wait_for("chat.update", 1)
    assert "30 dagen" in update["text"] and "30 dagen" in section_texts(update["blocks"]), "the poisoned passage"
    assert "Terugkeer" in section_texts(update["blocks"]), "its source is listed"
    for method, args in bot.fake.answer_calls():  # everything Slack would parse: fallback text and blocks
        sent = json.dumps({"text": args.get("text"), "blocks": args.get("blocks")}, ensure_ascii=False)
        for markup in LIVE_MARKUP:
            assert markup not in sent, f"{markup!r} reached {method} live: {sent[:2000]}"
    assert "&lt;!channel&gt;" in update["text"], "shown as text, not dropped"


def test_an_error_message_is_text_too(start_bot, corpus_components, tmp_path) -> None:  # type: ignore[no-untyped-def]
    parts = slack_parts(corpus_components, tmp_path)

    def fail(call: int) -> None:
        raise InputError("unknown document '<!channel> *x*'")

    parts.assistant = HookedAssistant(parts.assistant, fail)
    bot = start_bot(parts)
    bot.mention(QUESTION, ts="920.000001")
    (failed,) = bot.fake.wait_for("chat.update", 1)
    sent = json.dumps(failed, ensure_ascii=False)
    assert "<!channel>" not in sent and "*x*" not in sent and "&lt;!channel&gt;" in failed["text"]


def test_slack_conversations_belong_to_their_thread_and_their_ids_are_not_guessable(start_bot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bot = start_bot()
    bot.mention(QUESTION, ts="930.000001")
    (first,) = bot.fake.wait_for("chat.update", 1)
    secret_file = tmp_path / slack_app.SECRET_FILE
    assert secret_file.stat().st_mode & 0o777 == 0o600
    conv_id = bot.conversation_id("C1", "930.000001")
    store = bot.parts.conversations
    assert "C1" not in conv_id and "930" not in conv_id and "T1" not in conv_id
    assert conv_id != slack_app.conversation_id("another-installation", "T1", "C1", "930.000001")
    assert [h.answer.question for h in store.history(conv_id, "slack:T1:C1:930.000001")] == [QUESTION]
    for other in ("web:session:abc", "web:user:jan", "api:local", "slack:T1:C2:930.000001"):
        with pytest.raises(NotFoundError):
            store.get(conv_id, other)
        with pytest.raises(NotFoundError):
            store.history(conv_id, other)
    with sqlite3.connect(tmp_path / "conversations.sqlite3") as db:
        assert db.execute("SELECT id, owner FROM conversations").fetchall() == [(conv_id, "slack:T1:C1:930.000001")]

    # The same thread in another channel or team is another conversation; the key survives a restart.
    bot.mention(QUESTION, ts="930.000001", channel="C2")
    bot.fake.wait_for("chat.update", 2)
    assert bot.conversation_id("C2", "930.000001") != conv_id
    restarted = start_bot()
    # A new event: the retry cache is in the database now, so the first event's id would be a redelivery.
    restarted.mention(FOLLOW_UP, ts="930.000002", thread_ts="930.000001", event_id="EvRESTART")
    (follow,) = restarted.fake.wait_for("chat.update", 1)
    assert "1,28 miljoen" in section_texts(follow["blocks"]) and not restarted.fake.of("conversations.replies")

    # A button naming the conversation of another thread stores nothing.
    forged = json.dumps({"c": conv_id, "p": 0})
    assert bot.click(first, user="U9", thread_ts="999.000001", value=forged)[0] == 200
    (gone,) = bot.fake.wait_for("chat.postEphemeral", 1)
    assert "niet meer te vinden" in gone["text"]
    assert not (tmp_path / "feedback.sqlite3").exists() or feedback_rows(tmp_path) == []
    assert bot.click(first, user="U9", thread_ts="930.000001")[0] == 200
    bot.fake.wait_for("chat.postEphemeral", 2)
    assert [r[1] for r in feedback_rows(tmp_path)] == [conv_id]


# ------------------------------------------------------------------------------------ blocks and CLI


def _answer(text: str, n_sources: int = 3, **kwargs: Any) -> Answer:
    sources = tuple(
        Source(
            n=i,
            chunk_id=f"c{i}",
            doc_id="pact-2020",
            doc_title="Mededeling over een nieuw migratie- en asielpact",
            doc_short_title="Pact",
            year=2020,
            section="2.5 Terugkeer <b>",
            section_path="2 > 2.5",
            text="Lange passage " * 100,
            similarity=0.9,
        )
        for i in range(1, n_sources + 1)
    )
    return Answer("q", "q", "en", EXTRACTIVE, text, sources, **kwargs)


def test_long_answers_respect_slacks_limits_and_notes_are_visible() -> None:
    long = " ".join(f"Sentence {i} with a citation [1]." for i in range(9000))
    blocks, fallback = answer_blocks(_answer(long, n_sources=15, unverified=True, notices=("fallback used",)), "v")
    assert len(blocks) <= MAX_BLOCKS and len(fallback) <= 3000
    assert all(len(b["text"]["text"]) <= MAX_SECTION_CHARS for b in blocks if b["type"] == "section")
    text = section_texts(blocks)
    assert "shortened" in text and "Unverified" in text and "fallback used" in text
    assert "&lt;b&gt;" in text and "<b>" not in text, "document text is escaped"
    assert any("5 more sources" in json.dumps(b) for b in blocks if b["type"] == "context")

    refused, _ = answer_blocks(_answer("The documents don't cover this.", refused=True), "v")
    assert "Refused" in section_texts(refused)


def test_mrkdwn_and_mentions() -> None:
    assert to_mrkdwn("**Vet** a < b & c [2]") == "*Vet* a &lt; b &amp; c [2]"
    assert strip_mentions("<@UBOT>  Wat is   het pact? <@U123|jan>") == "Wat is het pact?"


def test_missing_tokens_give_a_plain_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import argparse

    parts = build_assistant(load_settings(data_dir=tmp_path, _env_file=None))  # lazy: nothing loads
    parser = argparse.ArgumentParser()
    add_slack_parser(parser.add_subparsers(dest="command"))
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    args = parser.parse_args(["slack"])
    with pytest.raises(InputError, match="SLACK_BOT_TOKEN and SLACK_APP_TOKEN"):
        slack_app.run(parts, args)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret-value")
    args = parser.parse_args(["slack", "--http", "--port", "3999", "--host", "127.0.0.1"])
    with pytest.raises(InputError, match="set SLACK_SIGNING_SECRET") as err:
        slack_app.run(parts, args)
    assert "xoxb-secret-value" not in str(err.value)


def test_feedback_store_is_shared_with_the_web_ui(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    feedback_id = store.add(
        Answer.from_json({"question": "q", "answer": "a", "mode": "extractive"}), "up", channel="slack"
    )
    store.add_slack_ids(feedback_id, "U1", "C1", "1.2", "T1")
    store.add_slack_ids(feedback_id, "U1", "C1", "1.3", "T1")  # the same rating again replaces the ids
    assert [f.channel for f in store.all()] == ["slack"]
    with sqlite3.connect(tmp_path / "feedback.sqlite3") as db:
        assert db.execute("SELECT feedback_id, message_ts FROM slack_feedback").fetchall() == [(feedback_id, "1.3")]
