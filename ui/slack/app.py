"""`policy-assistant slack`: the assistant as a Slack bot (slack-bolt), in Socket Mode or over HTTP.

The bot answers @mentions in channels and direct messages, always in a thread under the question; each Slack
thread is one conversation, so a follow-up in the thread uses the earlier turns. The conversation belongs to
the principal `slack:<team>:<channel>:<thread_ts>` (the web UI and the API have other principals, so they
cannot open it), and its id is a keyed hash of the same (`conversation_id`): Slack's public ids alone do not
give it away. A thread the store does not know (e.g. after the data directory changed) is
rebuilt from `conversations.replies`. The bot posts a placeholder at once and replaces it with the answer
(Block Kit, see `blocks.py`); 👍 / 👎 clicks go to the shared feedback store (`parts.feedback`) with channel
"slack", and the Slack user, channel and message ids in the table `slack_feedback` of the same database. A 👎
opens a modal for an optional comment (`views.open`); its submission stores the comment with the rating.

Events are acknowledged before the answer is computed (bolt's `process_before_response=False`: listeners
run in a worker thread), so Slack never waits more than a moment. A redelivered event (`X-Slack-Retry-Num`)
or a message seen twice (`app_mention` and `message.im` for one message) is answered once, and each user
may ask `slack_rate_limit` questions a minute: both are kept in the shared database (`storage.slack_state`),
so they hold across restarts and across instances of the bot.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
import os
import secrets
import sys
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.conversation import Conversation
from assistant.language import detect_language
from assistant.redact import quiet_http_loggers, redact
from assistant.types import EXTRACTIVE, Answer, Language
from errors import InputError, NotFoundError, PolicyAssistantError, StoreError
from storage.feedback import MAX_COMMENT_CHARS, Rating
from storage.slack_state import SlackState
from ui.commands import SLACK_EVENTS_PATH as EVENTS_PATH
from ui.i18n import t
from ui.network import check_port
from ui.slack.blocks import (
    ANSWER_BLOCK_PREFIX,
    FEEDBACK_DOWN,
    FEEDBACK_UP,
    is_answer_message,
    note_blocks,
    plain,
    shorten,
    strip_mentions,
)
from ui.slack.compare import answer_reply, compare_reply, compare_topic

if TYPE_CHECKING:
    from assistant.build import Parts

log = logging.getLogger("policy_assistant.slack")

BOT_TOKEN_ENV = "SLACK_BOT_TOKEN"
APP_TOKEN_ENV = "SLACK_APP_TOKEN"
SIGNING_SECRET_ENV = "SLACK_SIGNING_SECRET"
MAX_BODY_BYTES = 1_000_000
DEFAULT_RATE_LIMIT = 5  # questions per user per window
DEFAULT_RATE_WINDOW = 60.0  # seconds
SECRET_FILE = "slack_secret"  # in the data directory: the key of the conversation ids
STATE_FILE = "slack.sqlite3"  # in the data directory, without ASSISTANT_DATABASE_URL: events seen, rate limit
COMMENT_CALLBACK = "feedback_comment"  # the 👎 comment modal
COMMENT_BLOCK = "comment"


# ------------------------------------------------------------------------------------------- helpers


def thread_owner(team: str, channel: str, thread_ts: str) -> str:
    """The principal a Slack thread's conversation belongs to."""
    return f"slack:{team}:{channel}:{thread_ts}"


def conversation_id(secret: str, team: str, channel: str, thread_ts: str) -> str:
    """The conversation id of a Slack thread: an HMAC under the installation's secret, so that a web or API
    user who knows the team, channel and thread (all visible in Slack) still cannot name it."""
    digest = hmac.new(secret.encode(), f"{team}\n{channel}\n{thread_ts}".encode(), hashlib.sha256).hexdigest()
    return f"slack-{digest[:32]}"


def load_secret(data_dir: Path) -> str:
    """The installation's key for conversation ids, created in `data_dir` on first use (mode 600)."""
    path = data_dir / SECRET_FILE
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            value = path.read_text(encoding="utf-8").strip()
            if value:
                return value
            raise  # an empty file (a crash while writing it): not a key to use
        value = secrets.token_hex(32)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(value)
        return value
    except OSError as err:  # read-only data directory: threads are read back from Slack after a restart
        log.warning("cannot keep %s (%s); Slack conversation ids change at the next start", path, err)
        return secrets.token_hex(32)


def _first_line(err: BaseException) -> str:
    text = redact(str(err)).strip()
    return shorten(text.splitlines()[0] if text else type(err).__name__, 200)


def _short_error(err: BaseException) -> str:
    return shorten(redact(f"{type(err).__name__}: {err}"), 300)


# ----------------------------------------------------------------------------------------------- bot


class SlackBot:
    """The bot's behaviour; `create_app` registers its methods as bolt listeners."""

    def __init__(
        self, parts: Parts, *, rate_limit: int = DEFAULT_RATE_LIMIT, rate_window: float = DEFAULT_RATE_WINDOW
    ) -> None:
        self.parts = parts
        self.secret = load_secret(Path(parts.settings.data_dir))
        self.rate_limit, self.rate_window = rate_limit, rate_window
        self.state = SlackState(parts.database or Path(parts.settings.data_dir) / STATE_FILE)
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self._locks_lock = threading.Lock()

    # -- events

    def on_mention(self, event: dict[str, Any], body: dict[str, Any], client: WebClient, context: Any) -> None:
        self.handle(event, body, client, context)

    def on_message(self, event: dict[str, Any], body: dict[str, Any], client: WebClient, context: Any) -> None:
        # Only direct messages; channel messages are answered through `app_mention`.
        if event.get("channel_type") == "im":
            self.handle(event, body, client, context)

    def handle(self, event: dict[str, Any], body: dict[str, Any], client: WebClient, context: Any) -> None:
        """Answer one question: placeholder at once, then the answer in its place. Never raises."""
        if event.get("bot_id") or event.get("subtype") or not event.get("user"):
            return  # the bot's own posts, edits, joins, other bots
        bot_user = getattr(context, "bot_user_id", None) or ""
        if bot_user and event.get("user") == bot_user:
            return
        channel, ts = str(event.get("channel", "")), str(event.get("ts", ""))
        if not channel or not ts:
            return
        if not self._first_time(str(body.get("event_id", "")), f"msg:{channel}:{ts}"):
            log.info("event %s for message %s already handled; not answering again", body.get("event_id"), ts)
            return
        thread_ts = str(event.get("thread_ts") or ts)
        team = str(body.get("team_id") or event.get("team") or "")
        question = strip_mentions(str(event.get("text", "")))
        lang: Language = detect_language(question, default="nl") if question else "nl"
        user = str(event["user"])

        if not question:
            self._post(client, channel, thread_ts, t("slack.empty", lang))
            return
        wait = self._wait(user)
        if wait:
            self._rate_limited(client, channel, thread_ts, user, lang, wait)
            return

        placeholder_ts: str | None = None
        try:
            placeholder_ts = self._post(client, channel, thread_ts, t("slack.searching", lang))
            topic = compare_topic(question)
            if topic is not None:  # "vergelijk terugkeer": the entries per year, not a conversation turn
                blocks, text = compare_reply(self.parts, topic, lang)
            else:
                answer, position = self._answer(client, team, channel, thread_ts, ts, question, bot_user, event)
                value = json.dumps({"c": answer.conversation_id, "p": position}, separators=(",", ":"))
                blocks, text = answer_reply(self.parts, answer, value)
            self._show(client, channel, thread_ts, placeholder_ts, text, blocks)
        except PolicyAssistantError as err:
            self._show_error(
                client,
                channel,
                thread_ts,
                placeholder_ts,
                t("slack.error", lang, error=plain(shorten(redact(err), 500))),
            )
        except Exception as err:  # noqa: BLE001 - one failed answer must not stop the bot
            log.exception("answering message %s in %s failed", ts, channel)
            self._show_error(
                client,
                channel,
                thread_ts,
                placeholder_ts,
                t("slack.error_internal", lang, error=plain(_short_error(err))),
            )

    def _answer(
        self,
        client: WebClient,
        team: str,
        channel: str,
        thread_ts: str,
        ts: str,
        question: str,
        bot_user: str,
        event: dict[str, Any],
    ) -> tuple[Answer, int]:
        conv_id = conversation_id(self.secret, team, channel, thread_ts)
        owner = thread_owner(team, channel, thread_ts)
        with self._conversation_lock(conv_id):  # one question of a thread at a time: turns stay in order
            # The one place a server-derived id is created: the id is ours, the owner is the thread.
            conversation = self.parts.conversations.get_or_new(conv_id, owner)
            if not conversation.turns and thread_ts != ts:
                self._import_thread(client, channel, thread_ts, ts, bot_user, event, conversation)
            answer = self.parts.assistant.ask(question, conversation)
            position = len(self.parts.conversations.history(conv_id, owner)) - 1
        return answer, position

    def _import_thread(
        self,
        client: WebClient,
        channel: str,
        thread_ts: str,
        ts: str,
        bot_user: str,
        event: dict[str, Any],
        conversation: Conversation,
    ) -> None:
        """Earlier questions and answers of a thread the store does not know, read back from Slack and stored."""
        try:
            response = client.conversations_replies(channel=channel, ts=thread_ts, limit=200)
        except SlackApiError as err:
            log.warning("cannot read the thread %s in %s (%s); answering without it", thread_ts, channel, err)
            return
        direct = event.get("channel_type") == "im"
        pending: str | None = None
        turns: list[tuple[str, str]] = []
        for message in response.get("messages") or []:
            if message.get("ts") == ts:
                continue
            if is_answer_message(message):
                if pending:
                    turns.append((pending, _answer_text(message)))
                    pending = None
            elif not message.get("bot_id") and not message.get("subtype"):
                text = str(message.get("text", ""))
                if direct or (bot_user and f"<@{bot_user}" in text):
                    pending = strip_mentions(text) or pending
        store = self.parts.conversations
        for q, a in turns[-6:]:
            store.record(
                conversation,
                Answer(
                    question=q,
                    standalone_question=q,
                    language=detect_language(q),
                    # Read back from Slack: how it was made, its sources and checks are not known.
                    mode=EXTRACTIVE,
                    text=a,
                    sources=(),
                    conversation_id=conversation.id,
                ),
            )

    def _conversation_lock(self, conv_id: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks[conv_id]

    def _first_time(self, *keys: str) -> bool:
        try:
            return self.state.first_time(*keys)
        except StoreError as err:  # the database is down: answering once more beats not answering
            log.warning("cannot check whether the event was handled before: %s", err)
            return True

    def _wait(self, user: str) -> float:
        try:
            return self.state.check_rate(user, self.rate_limit, self.rate_window)
        except StoreError as err:
            log.warning("cannot count the questions of %s: %s", user, err)
            return 0.0

    # -- feedback

    def on_feedback(
        self, ack: Callable[[], Any], body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        rating: Rating = "up" if action.get("action_id") == FEEDBACK_UP else "down"
        user = str((body.get("user") or {}).get("id", ""))
        channel = str((body.get("channel") or {}).get("id", ""))
        message = body.get("message") or {}
        message_ts = str(message.get("ts") or (body.get("container") or {}).get("message_ts", ""))
        thread_ts = message.get("thread_ts")
        team = (body.get("team") or {}).get("id")
        lang: Language = "nl"
        try:
            ref = json.loads(action.get("value") or "{}")
            conv_id, position = str(ref["c"]), int(ref["p"])
            if not thread_ts:
                raise LookupError(conv_id)  # the bot answers only in threads
            # Only the conversation of the thread the button is in: the button's value names nothing else.
            owner = thread_owner(str(team or ""), channel, str(thread_ts))
            history = self.parts.conversations.history(conv_id, owner)
            if not 0 <= position < len(history):
                raise LookupError(conv_id)
            answer = history[position].answer
            lang = answer.language
            feedback_id = self.parts.feedback.add(answer, rating, channel="slack")
            self.parts.feedback.add_slack_ids(feedback_id, user, channel, message_ts, team)
            trigger = str(body.get("trigger_id") or "")
            if (
                rating == "down"
                and trigger
                and self._open_comment(client, trigger, feedback_id, channel, thread_ts, lang)
            ):
                return  # the modal asks for a comment; storing it thanks them
            self._ephemeral(
                client, channel, user, thread_ts, t("slack.thanks_up" if rating == "up" else "slack.thanks_down", lang)
            )
        except (ValueError, KeyError, TypeError, LookupError, NotFoundError):
            self._ephemeral(client, channel, user, thread_ts, t("slack.feedback_gone", lang))
        except PolicyAssistantError as err:  # e.g. the database is down: the user learns the rating was not stored
            log.warning("storing feedback from %s in %s failed: %s", user, channel, err)
            self._ephemeral(
                client, channel, user, thread_ts, t("slack.error", lang, error=plain(shorten(redact(err), 500)))
            )
        except Exception:  # noqa: BLE001 - a failed rating must not stop the bot
            log.exception("storing feedback from %s in %s failed", user, channel)

    def _open_comment(
        self, client: WebClient, trigger_id: str, feedback_id: int, channel: str, thread_ts: str, lang: Language
    ) -> bool:
        """Open the modal asking for a comment on rating `feedback_id`; False when Slack refuses (e.g. the
        trigger expired after 3 s), and the user gets the plain thanks instead."""
        meta = json.dumps({"f": feedback_id, "c": channel, "t": thread_ts, "l": lang}, separators=(",", ":"))
        try:
            client.views_open(trigger_id=trigger_id, view=comment_modal(meta, lang))
        except SlackApiError as err:
            log.warning("could not open the comment modal in %s: %s", channel, err)
            return False
        return True

    def on_comment(
        self, ack: Callable[..., Any], body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        """The comment modal was submitted: store its text with the rating of the user who submits it."""
        values = ((view.get("state") or {}).get("values") or {}).get(COMMENT_BLOCK) or {}
        text = str((values.get(COMMENT_BLOCK) or {}).get("value") or "").strip()
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            feedback_id, channel, thread_ts = int(meta["f"]), str(meta["c"]), str(meta["t"])
            lang: Language = "en" if meta.get("l") == "en" else "nl"
        except (ValueError, KeyError, TypeError):
            ack()
            log.warning("a comment modal without its rating was submitted; ignored")
            return
        if len(text) > MAX_COMMENT_CHARS:
            ack(response_action="errors", errors={COMMENT_BLOCK: f"max. {MAX_COMMENT_CHARS}"})
            return
        ack()  # closes the modal
        user = str((body.get("user") or {}).get("id", ""))
        if not text:
            return
        try:
            # Only the one who rated comments on their rating, whatever a submission claims.
            if self.parts.feedback.slack_user(feedback_id) != user:
                log.warning("user %s submitted a comment on rating %s of someone else; ignored", user, feedback_id)
                return
            self.parts.feedback.set_comment(feedback_id, text)
        except PolicyAssistantError as err:
            log.warning("storing the comment of %s failed: %s", user, err)
            self._ephemeral(
                client, channel, user, thread_ts, t("slack.error", lang, error=plain(shorten(redact(err), 500)))
            )
            return
        self._ephemeral(client, channel, user, thread_ts, t("slack.thanks_comment", lang))

    # -- Slack calls

    def _post(self, client: WebClient, channel: str, thread_ts: str, text: str) -> str:
        response = client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=note_blocks(text))
        return str(response["ts"])

    def _show(
        self, client: WebClient, channel: str, thread_ts: str, placeholder_ts: str | None, text: str, blocks: list[Any]
    ) -> None:
        if placeholder_ts:
            client.chat_update(channel=channel, ts=placeholder_ts, text=text, blocks=blocks)
        else:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=blocks)

    def _show_error(
        self, client: WebClient, channel: str, thread_ts: str, placeholder_ts: str | None, text: str
    ) -> None:
        try:
            self._show(client, channel, thread_ts, placeholder_ts, text, note_blocks(text))
        except Exception:  # noqa: BLE001 - Slack itself failing: nothing more to tell the user
            log.exception("could not post the error message in %s", channel)

    def _ephemeral(self, client: WebClient, channel: str, user: str, thread_ts: str | None, text: str) -> None:
        try:
            kwargs: dict[str, Any] = {"channel": channel, "user": user, "text": text}
            if thread_ts:
                kwargs["thread_ts"] = thread_ts
            client.chat_postEphemeral(**kwargs)
        except SlackApiError as err:
            log.warning("could not send an ephemeral message in %s: %s", channel, err)

    def _rate_limited(
        self, client: WebClient, channel: str, thread_ts: str, user: str, lang: Language, wait: float
    ) -> None:
        text = t("slack.rate_limited", lang, limit=self.rate_limit, seconds=max(1, round(wait)))
        try:
            client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, text=text)
        except SlackApiError:
            self._show_error(client, channel, thread_ts, None, text)


def comment_modal(private_metadata: str, lang: Language) -> dict[str, Any]:
    """The modal after a 👎: one optional text field; `private_metadata` names the rating."""

    def text(key: str) -> dict[str, str]:
        return {"type": "plain_text", "text": t(key, lang)}

    return {
        "type": "modal",
        "callback_id": COMMENT_CALLBACK,
        "private_metadata": private_metadata,
        "title": text("slack.comment_title"),
        "submit": text("slack.comment_submit"),
        "close": text("slack.comment_close"),
        "blocks": [
            {
                "type": "input",
                "block_id": COMMENT_BLOCK,
                "optional": True,
                "label": text("slack.comment_label"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": COMMENT_BLOCK,
                    "multiline": True,
                    "max_length": MAX_COMMENT_CHARS,
                    "placeholder": text("slack.comment_placeholder"),
                },
            }
        ],
    }


def _answer_text(message: dict[str, Any]) -> str:
    """The answer text of one of the bot's answer messages (its mrkdwn, unescaped)."""
    pieces = [
        str((b.get("text") or {}).get("text", ""))
        for b in message.get("blocks") or []
        if str(b.get("block_id", "")).startswith(ANSWER_BLOCK_PREFIX)
    ]
    text = "\n".join(pieces) or str(message.get("text", ""))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# ------------------------------------------------------------------------------------------ wiring


def create_app(
    parts: Parts,
    *,
    token: str,
    signing_secret: str | None,
    base_url: str | None = None,
    rate_limit: int | None = None,
    rate_window: float = DEFAULT_RATE_WINDOW,
    token_verification_enabled: bool = True,
) -> App:
    """The bolt app. `signing_secret=None` is for Socket Mode only (no HTTP requests to verify);
    `base_url` points slack_sdk at another Slack Web API (tests use a local fake)."""
    if rate_limit is None:
        rate_limit = int(parts.settings.slack_rate_limit)
    client = WebClient(token=token, base_url=base_url) if base_url else WebClient(token=token)
    app = App(
        client=client,
        signing_secret=signing_secret or "",
        request_verification_enabled=signing_secret is not None,
        token_verification_enabled=token_verification_enabled,
        process_before_response=False,
        logger=log,
    )
    bot = SlackBot(parts, rate_limit=rate_limit, rate_window=rate_window)
    app.event("app_mention")(bot.on_mention)
    app.event("message")(bot.on_message)
    app.action(FEEDBACK_UP)(bot.on_feedback)
    app.action(FEEDBACK_DOWN)(bot.on_feedback)
    app.view(COMMENT_CALLBACK)(bot.on_comment)
    app.bot = bot  # type: ignore[attr-defined]
    return app


class _Handler(BaseHTTPRequestHandler):
    server: SlackHTTPServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if urlsplit(self.path).path == "/healthz":
            self._reply(200, b"ok", "text/plain")
        else:
            self._reply(404, b"not found", "text/plain")

    def do_POST(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if url.path != EVENTS_PATH:
            self._reply(404, b"not found", "text/plain")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._reply(413, b"too large", "text/plain")
            return
        body = self.rfile.read(length).decode("utf-8", "replace")
        headers: dict[str, str | Sequence[str]] = {}
        for key in set(self.headers.keys()):
            headers[key.lower()] = self.headers.get_all(key) or []
        response = self.server.app.dispatch(BoltRequest(body=body, query=url.query, headers=headers))
        content_type = (response.headers.get("content-type") or ["text/plain;charset=utf-8"])[0]
        self._reply(response.status, (response.body or "").encode("utf-8"), content_type)

    def _reply(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("%s " + format, self.address_string(), *args)


class SlackHTTPServer(ThreadingHTTPServer):
    """Slack's Events API and interactivity requests on `POST /slack/events`, `GET /healthz`; one thread each."""

    daemon_threads = True

    def __init__(self, app: App, host: str, port: int) -> None:
        super().__init__((host, port), _Handler)
        self.app = app


def serve_http(app: App, host: str, port: int) -> SlackHTTPServer:
    """A bound server (port 0 picks a free one); call `serve_forever()` on it, `shutdown()` to stop."""
    return SlackHTTPServer(app, host, port)


def _require(names: list[str]) -> dict[str, str]:
    values = {name: os.environ.get(name, "").strip() for name in names}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise InputError(f"set {' and '.join(missing)} to run the Slack bot (see the README section 'The Slack bot')")
    return values


def run(parts: Parts, args: argparse.Namespace) -> int:
    """Run the bot until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_http_loggers()
    if args.http:
        # Any address may be bound: Slack must reach it, and every request is checked against the signing secret.
        check_port(args.port)
        env = _require([BOT_TOKEN_ENV, SIGNING_SECRET_ENV])
    else:
        env = _require([BOT_TOKEN_ENV, APP_TOKEN_ENV])
    try:
        app = create_app(
            parts,
            token=env[BOT_TOKEN_ENV],
            signing_secret=env.get(SIGNING_SECRET_ENV) if args.http else None,
        )
    except Exception as err:  # bolt's auth.test at start: a wrong token or no connection
        raise PolicyAssistantError(
            f"could not check {BOT_TOKEN_ENV} with Slack ({_first_line(err)}); check the token and the connection"
        ) from err
    parts.assistant.ask  # noqa: B018 - build the assistant (and fail early) before taking events
    parts.embedder.embed(["warm-up"], query=True)  # load the model now, not during the first answer
    if args.http:
        server = serve_http(app, args.host, args.port)
        print(f"policy-assistant slack on http://{args.host}:{args.port}{EVENTS_PATH}", file=sys.stderr)
        try:
            server.serve_forever()
        finally:
            server.server_close()
        return 0
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    print("policy-assistant slack connected in Socket Mode", file=sys.stderr)
    SocketModeHandler(app, env[APP_TOKEN_ENV]).start()
    return 0
