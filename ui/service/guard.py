"""The ASGI middleware around every request of the service: it gives the request an id, checks the bearer
token, turns away bodies that are too large (413) and requests beyond the concurrency limit (429), and writes
the access log line and the request metrics.

It is a plain ASGI middleware (not a Starlette `BaseHTTPMiddleware`) so that it sees a body while it is read
and can cut off one without a Content-Length.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from ui.service import logs
from ui.service.metrics import Metrics

log = logging.getLogger("policy_assistant.service")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Routes that do real work and count against the concurrency limit.
LIMITED = ("/v1/ask", "/v1/search", "/v1/chat/completions", "/v1/feedback")
# Routes that answer without a token (load balancers probe them).
OPEN = ("/healthz", "/readyz", "/openapi.json", "/docs", "/docs/oauth2-redirect")
# The metrics label of every path that is no route of the service: one series, however many paths are tried.
UNKNOWN_ROUTE = "other"
LOCAL_PRINCIPAL = "api:local"


def principal(scope: Scope) -> str:
    """Who is asking, as the guard found it: `api:<token hash>`, or `api:local` on loopback without tokens."""
    return str(scope.get("state", {}).get("principal", LOCAL_PRINCIPAL))


def token_principal(token: bytes) -> str:
    """The principal of an API token: `api:` and the first 16 hex digits of its SHA-256 (never the token)."""
    return "api:" + hashlib.sha256(token).hexdigest()[:16]


class _BodyTooLarge(Exception):
    pass


class ServiceGuard:
    """Request id, bearer auth, body size and concurrency limits, access log and request metrics."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        tokens: Sequence[str],
        max_inflight: int,
        max_body: int,
        metrics: Metrics,
        routes: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.routes = frozenset(routes) | {*OPEN, "/metrics"}
        self.tokens = [t.encode() for t in tokens]
        self.max_inflight = max_inflight
        self.max_body = max_body
        self.metrics = metrics
        self.inflight = 0  # only touched on the event loop thread

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        rid = logs.new_request_id(headers.get("x-request-id"))
        token = logs.request_id.set(rid)
        path: str = scope["path"]
        route = self.route(path)
        started = time.perf_counter()
        status = {"code": 500}
        body = {"seen": 0, "over": False, "answered": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        async def reject_too_large() -> None:
            body["answered"] = True
            self.metrics.rejected.labels("too_large").inc()
            await reply(send_with_id, 413, self._too_large(None), "too_large")

        async def send_from_app(message: Message) -> None:
            if body["answered"]:
                return  # the app's reply to a body we cut off: the 413 went out instead
            if message["type"] == "http.response.start" and body["over"]:
                # Frameworks report a body cut off while reading as their own 400: say what happened.
                await reject_too_large()
                return
            await send_with_id(message)

        async def receive_limited() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body["seen"] += len(message.get("body", b""))
                if body["seen"] > self.max_body:
                    body["over"] = True
                    raise _BodyTooLarge
            return message

        limited = path in LIMITED
        try:
            offered = self._authorised(headers) if self.tokens else None
            if (path.startswith("/v1/") or path == "/metrics") and self.tokens and offered is None:
                await reply(send_with_id, 401, "a bearer token is required: send `Authorization: Bearer <token>`",
                            "unauthorized", {"www-authenticate": "Bearer"})  # fmt: skip
                return
            scope["state"] = {
                **scope.get("state", {}),
                "principal": self._principal(offered),
                "authenticated": offered is not None or not self.tokens,
            }
            length = headers.get("content-length")
            if path.startswith("/v1/") and length and length.isdigit() and int(length) > self.max_body:
                self.metrics.rejected.labels("too_large").inc()
                await reply(send_with_id, 413, self._too_large(int(length)), "too_large")
                return
            if limited and self.inflight >= self.max_inflight:
                self.metrics.rejected.labels("busy").inc()
                await reply(send_with_id, 429, "the service is busy answering other questions; try again in a "
                            "moment", "busy", {"retry-after": "1"})  # fmt: skip
                return
            if limited:
                self.inflight += 1
                self.metrics.inflight.inc()
            try:
                await self.app(scope, receive_limited if path.startswith("/v1/") else receive, send_from_app)
            except _BodyTooLarge:
                if not body["answered"]:
                    await reject_too_large()
            finally:
                if limited:
                    self.inflight -= 1
                    self.metrics.inflight.dec()
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.requests.labels(route, str(status["code"])).inc()
            self.metrics.latency.labels(route).observe(elapsed)
            if route != "web" or status["code"] >= 400:
                log.info(
                    "request",
                    extra={
                        "method": scope.get("method"),
                        "path": path,
                        "status": status["code"],
                        "duration_ms": round(elapsed * 1000, 1),
                        "client": (scope.get("client") or ("-",))[0],
                    },
                )
            logs.request_id.reset(token)

    def route(self, path: str) -> str:
        """The metrics label of `path`: the route itself, `web` under the web UI, `other` for anything else."""
        if path in self.routes:
            return path
        return UNKNOWN_ROUTE if path.startswith("/v1/") or path == "/v1" else "web"

    def _authorised(self, headers: dict[str, str]) -> bytes | None:
        """The configured token the request carries, or None."""
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value:
            return None
        offered = value.strip().encode()
        matches = [hmac.compare_digest(offered, t) for t in self.tokens]  # all compared: no timing signal
        return offered if any(matches) else None

    def _principal(self, token: bytes | None) -> str:
        if token is not None:
            return token_principal(token)
        if not self.tokens:
            return LOCAL_PRINCIPAL  # the exposure check allows no tokens only on a loopback address
        return "api:anonymous"  # an open route (/readyz, /docs, the web UI) without a token

    def _too_large(self, length: int | None) -> str:
        size = f"{length} bytes" if length else "too large"
        return f"the request body is {size}; the limit is {self.max_body} bytes (ASSISTANT_API_MAX_BODY_BYTES)"


async def reply(send: Send, status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> None:
    """Send a whole JSON error reply `{"error": {"type": kind, "message": message}}`."""
    body = json.dumps({"error": {"type": kind, "message": message}}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
