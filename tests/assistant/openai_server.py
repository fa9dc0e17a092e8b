"""A real, scripted OpenAI-compatible HTTP server on 127.0.0.1 for tests.

Each test scripts the replies, in order; each POST to /v1/chat/completions takes the next one:

    with ScriptedOpenAIServer() as srv:              # or the `scripted_openai` fixture below
        srv.reply_text("Hallo wereld")               # streamed word by word; a list gives the exact deltas
        srv.reply_text("Hallo", finish_reason=None)  # a stream that ends without a finish reason
        srv.reply_status(429, retry_after=0)         # an error status (`times=3` to repeat it)
        srv.reply_delay(2.0, "te laat")              # waits before answering: client timeouts
        srv.reply_die_mid_stream(["Een ", "twee "])  # two deltas, then the connection is closed
        srv.reply_slow_stream(["Een ", "twee "] * 100, interval=0.1)  # a delta every 0.1 s: a long answer
        srv.open_requests                            # chat requests being answered now (0: all connections done)
        OpenAIChat(srv.base_url, "any-model")        # srv.base_url == "http://127.0.0.1:PORT/v1"
        srv.chat_requests[0].body["messages"]        # what was sent; len(srv.chat_requests) == attempts

Requests with `"stream": true` get server-sent events (`data: {chunk}` ... `data: [DONE]`, chunked transfer
encoding), others one JSON completion. `GET /v1/models` lists one model. When no reply is left the server
answers 500 with `x-should-retry: false` and says so in the error message, so a test never hangs.

`retry_after` is sent as `Retry-After` (whole seconds) and `retry-after-ms`: the openai SDK ignores a
`Retry-After: 0` (it backs off 0.5 s, then 1 s, ... instead) but obeys `retry-after-ms`, so `retry_after=0`
makes its retries immediate. Without `retry_after` the SDK's own backoff applies. Recorded header names are
lower case (`srv.chat_requests[0].headers["authorization"]`).

Using the fixture from another test module (ruff's F811 fires when a test parameter shadows an imported
fixture, so bind it by assignment):

    from tests.assistant import openai_server
    from tests.assistant.openai_server import ScriptedOpenAIServer

    scripted_openai = openai_server.scripted_openai

    def test_x(scripted_openai: ScriptedOpenAIServer) -> None: ...

`tests.assistant` resolves as a namespace package from the repository root, which must be on sys.path:
`python -m pytest` run from the root puts it there, the bare `pytest` command does not (see test_llm.py).
"""

from __future__ import annotations

import json
import math
import re
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import pytest

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received: header names in lower case, `body` parsed JSON (None for GET)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class _Reply:
    deltas: tuple[str, ...] = ()
    status: int = 200
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    die: bool = False
    finish_reason: str | None = "stop"
    interval: float = 0.0


def _split(text: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(text, str):
        return tuple(re.findall(r"\s*\S+\s*|\s+", text)) or ("",)
    return tuple(text)


class ScriptedOpenAIServer:
    """An OpenAI-compatible chat server that plays back scripted replies and records every request."""

    def __init__(self, model: str = "scripted-model") -> None:
        self.model = model
        self.requests: list[RecordedRequest] = []
        self._replies: deque[_Reply] = deque()
        self._open = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- scripting ------------------------------------------------------------------------------

    def reply_text(self, text: str | Sequence[str], *, finish_reason: str | None = "stop") -> None:
        """Answer with `text`: a string is streamed a word per delta, a sequence as exactly those deltas.

        `finish_reason` goes in the last chunk ("length" for a reply cut at max_tokens; None leaves it out).
        """
        self._add(_Reply(deltas=_split(text), finish_reason=finish_reason))

    def reply_status(
        self,
        status: int,
        message: str = "",
        *,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer `times` times with HTTP `status` and an OpenAI-style error body."""
        extra = dict(headers or {})
        if retry_after is not None:
            extra["Retry-After"] = str(math.ceil(retry_after))
            extra["retry-after-ms"] = str(max(1, round(retry_after * 1000)))
        for _ in range(times):
            self._add(_Reply(status=status, message=message or f"scripted HTTP {status}", headers=extra))

    def reply_delay(self, seconds: float, text: str | Sequence[str] = "te laat") -> None:
        """Wait `seconds` before answering with `text` (to trigger a client timeout)."""
        self._add(_Reply(deltas=_split(text), delay=seconds))

    def reply_die_mid_stream(self, deltas: Sequence[str] = ("Het antwoord ", "begint ")) -> None:
        """Send the response headers and `deltas`, then close the connection mid-body."""
        self._add(_Reply(deltas=tuple(deltas), die=True))

    def reply_slow_stream(self, deltas: Sequence[str], *, interval: float, times: int = 1) -> None:
        """Stream `deltas` with `interval` seconds before each one (`times` replies): a client that goes away
        meanwhile makes the next write fail, and the server ends that request."""
        for _ in range(times):
            self._add(_Reply(deltas=tuple(deltas), interval=interval))

    @property
    def open_requests(self) -> int:
        """How many chat requests the server is answering now (their connections still open)."""
        with self._lock:
            return self._open

    @property
    def pending(self) -> int:
        """How many scripted replies no request has taken yet."""
        with self._lock:
            return len(self._replies)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The POSTs to /v1/chat/completions, one per attempt, oldest first."""
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path.endswith("/chat/completions")]

    # --- lifecycle ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the server is not started: use `with ScriptedOpenAIServer() as srv:`")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> ScriptedOpenAIServer:
        handler = type("Handler", (_Handler,), {"script": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="openai-stub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a delay
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- used by the handler --------------------------------------------------------------------

    def _add(self, reply: _Reply) -> None:
        with self._lock:
            self._replies.append(reply)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next(self) -> _Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        return _Reply(
            status=500,
            message="ScriptedOpenAIServer: no reply scripted for this request",
            headers={"x-should-retry": "false"},
        )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    script: ScriptedOpenAIServer  # set on the subclass made by `start`

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        pass  # keep test output clean

    def do_GET(self) -> None:
        self.script._record(RecordedRequest("GET", self.path, _lower(self.headers.items()), None))
        if self.path.rstrip("/") == "/v1/models":
            model = {"id": self.script.model, "object": "model", "created": 0, "owned_by": "scripted"}
            self._json(200, {"object": "list", "data": [model]})
        else:
            self._json(404, _error(404, f"no route {self.path}"))

    def do_POST(self) -> None:
        with self.script._lock:
            self.script._open += 1
        try:
            self._post()
        finally:
            with self.script._lock:
                self.script._open -= 1

    def _post(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.script._record(RecordedRequest("POST", self.path, _lower(self.headers.items()), body))
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._json(404, _error(404, f"no route {self.path}"))
            return
        if not isinstance(body, dict):
            self._json(400, _error(400, "the body is not a JSON object"))
            return
        reply = self.script._next()
        try:
            if reply.delay and self.script._stopping.wait(reply.delay):
                self.close_connection = True
                return
            if reply.status != 200:
                self._json(reply.status, _error(reply.status, reply.message), reply.headers)
            elif body.get("stream"):
                self._stream(reply, str(body.get("model", self.script.model)))
            elif reply.die:
                self.close_connection = True
            else:
                model = str(body.get("model", self.script.model))
                self._json(200, _completion(model, "".join(reply.deltas), reply.finish_reason))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up first (e.g. it timed out)

    def _json(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, reply: _Reply, model: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        ident = f"chatcmpl-scripted-{time.monotonic_ns()}"
        self._event(_chunk(ident, model, {"role": "assistant", "content": ""}))
        for delta in reply.deltas:
            if reply.interval and not self._client_stays(reply.interval):
                self.close_connection = True
                return
            self._event(_chunk(ident, model, {"content": delta}))
        if reply.die:
            # No final chunk and no terminating 0-length chunk: the client sees a body cut short.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._event(_chunk(ident, model, {}, finish_reason=reply.finish_reason))
        self._send_chunk(b"data: [DONE]\n\n")
        self._send_chunk(b"")

    def _client_stays(self, seconds: float) -> bool:
        """Wait `seconds`; False as soon as the client closes the connection (or the server stops), so that
        `open_requests` drops when the client goes, not at the next write."""
        # poll, not select: late in a long test run this process' descriptors pass 1024, which select()
        # rejects (ValueError), and the stream then broke off at once, as if the model had died.
        poller = select.poll()
        poller.register(self.connection, select.POLLIN)
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.script._stopping.is_set():
                return False
            readable = poller.poll(min(left, 0.05) * 1000)
            if readable and not self.connection.recv(1, socket.MSG_PEEK):
                return False  # end of file: the client has closed its side
        return True

    def _event(self, payload: object) -> None:
        self._send_chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def _send_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


def _lower(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}


def _error(status: int, message: str) -> dict[str, Any]:
    kind = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _chunk(ident: str, model: str, delta: dict[str, str], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def _completion(model: str, text: str, finish_reason: str | None) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-scripted-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


@pytest.fixture
def scripted_openai() -> Iterator[ScriptedOpenAIServer]:
    """A started `ScriptedOpenAIServer`, stopped after the test."""
    with ScriptedOpenAIServer() as server:
        yield server
