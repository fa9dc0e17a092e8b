"""`policy-assistant serve`: one ASGI app with the JSON API under `/v1`, the operations endpoints and the web
UI at `/`.

Around every request sits `ServiceGuard`, a plain ASGI middleware that gives the request an id, checks the
bearer token, turns away bodies that are too large (413) and requests beyond the concurrency limit (429),
and writes the access log line and the request metrics. The assistant's errors map to status codes here:
bad input 400, an unreachable store or embedder 503, a failed language model 502.
"""

from __future__ import annotations

import argparse
import atexit
import hmac
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from index.errors import (
    ConfigError,
    DocumentError,
    EmbeddingError,
    InputError,
    LLMError,
    PolicyAssistantError,
    StoreError,
)
from ui import logs
from ui.api import build_router
from ui.metrics import Metrics

log = logging.getLogger("policy_assistant.service")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Routes that do real work and count against the concurrency limit.
_LIMITED = ("/v1/ask", "/v1/search", "/v1/chat/completions", "/v1/feedback")
_OPEN = ("/healthz", "/readyz", "/openapi.json", "/docs", "/docs/oauth2-redirect")
_STATUS = {
    InputError: 400,
    DocumentError: 400,
    StoreError: 503,
    EmbeddingError: 503,
    LLMError: 502,
    ConfigError: 500,
}


def parse_tokens(raw: str | None) -> list[str]:
    return [t.strip() for t in (raw or "").split(",") if t.strip()]


class _BodyTooLarge(Exception):
    pass


class ServiceGuard:
    """Request id, bearer auth, body size and concurrency limits, access log and request metrics."""

    def __init__(self, app: Any, *, tokens: Sequence[str], max_inflight: int, max_body: int, metrics: Metrics) -> None:
        self.app = app
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
        route = path if path.startswith("/v1/") or path in _OPEN or path == "/metrics" else "web"
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
            await _reply(send_with_id, 413, self._too_large(None), "too_large")

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

        limited = path in _LIMITED
        try:
            if (path.startswith("/v1/") or path == "/metrics") and self.tokens and not self._authorised(headers):
                await _reply(send_with_id, 401, "a bearer token is required: send `Authorization: Bearer <token>`",
                             "unauthorized", {"www-authenticate": "Bearer"})  # fmt: skip
                return
            length = headers.get("content-length")
            if path.startswith("/v1/") and length and length.isdigit() and int(length) > self.max_body:
                self.metrics.rejected.labels("too_large").inc()
                await _reply(send_with_id, 413, self._too_large(int(length)), "too_large")
                return
            if limited and self.inflight >= self.max_inflight:
                self.metrics.rejected.labels("busy").inc()
                await _reply(send_with_id, 429, "the service is busy answering other questions; try again in a "
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

    def _authorised(self, headers: dict[str, str]) -> bool:
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value:
            return False
        offered = value.strip().encode()
        return any(hmac.compare_digest(offered, t) for t in self.tokens)

    def _too_large(self, length: int | None) -> str:
        size = f"{length} bytes" if length else "too large"
        return f"the request body is {size}; the limit is {self.max_body} bytes (ASSISTANT_API_MAX_BODY_BYTES)"


async def _reply(send: Send, status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"error": {"type": kind, "message": message}}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message}}, status_code=status, headers=headers)


def create_service(
    components: Any,
    *,
    web: bool = True,
    web_users: Sequence[tuple[str, str]] = (),
    metrics: Metrics | None = None,
) -> FastAPI:
    """The service app: API, operations endpoints and (with `web`) the chat UI at `/`."""
    settings = components.settings
    metrics = metrics or Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        threading.Thread(target=_warm, args=(components,), daemon=True, name="warm-up").start()
        yield

    app = FastAPI(
        title="policy-assistant",
        version="0.1.0",
        description="Answers questions about EU migration and asylum policy from official documents, with "
        "checkable citations. Send `Authorization: Bearer <token>` when the service has API tokens.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.metrics = metrics

    @app.exception_handler(PolicyAssistantError)
    async def assistant_error(request: Request, err: PolicyAssistantError) -> JSONResponse:
        status = next((code for kind, code in _STATUS.items() if isinstance(err, kind)), 500)
        route = request.url.path
        metrics.errors.labels(route, type(err).__name__).inc()
        if status >= 500:
            log.warning("request failed: %s", err, extra={"path": route, "status": status})
        return _error(status, type(err).__name__, str(err), {"retry-after": "5"} if status == 503 else None)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        problems = []
        for e in err.errors():
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
            text = str(e.get("msg", "")).removeprefix("Value error, ")
            problems.append(f"{where}: {text}" if where else text)
        metrics.errors.labels(request.url.path, "invalid_request").inc()
        return _error(422, "invalid_request", "; ".join(problems))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, err: Exception) -> JSONResponse:
        metrics.errors.labels(request.url.path, "internal").inc()
        log.exception("unexpected error", extra={"path": request.url.path})
        return _error(
            500, "internal", f"something went wrong on our side; quote request id {logs.request_id.get()} when "
            "reporting it"
        )  # fmt: skip

    app.include_router(build_router(components, metrics, log_questions=settings.log_questions))
    tokens = parse_tokens(settings.api_tokens.get_secret_value() if settings.api_tokens else None)
    app.add_middleware(
        ServiceGuard,  # type: ignore[arg-type]
        tokens=tokens,
        max_inflight=settings.api_max_inflight,
        max_body=settings.api_max_body_bytes,
        metrics=metrics,
    )
    if web:
        from ui.web import mount_web

        app = mount_web(app, components, web_users)
    return app  # type: ignore[no-any-return]


def _warm(components: Any) -> None:
    """Load the model and the BM25 index before the first question, so it is not the one that waits."""
    try:
        components.answer_embedder.embed(["warm-up"], query=True)
        chunks = components.retriever.lexical().chunks
        log.info("model and index loaded")
        if components.settings.warm_up and components.settings.embed_cache_size:
            # Sentence vectors for the extractive re-ranking: computed once per corpus (kept on disk).
            started = time.perf_counter()
            # Small batches: a question arriving meanwhile waits for one batch at most.
            count = components.assistant.extractive.warm((c.text for c in chunks), batch=8)
            log.info(
                "sentence vectors ready", extra={"sentences": count, "seconds": round(time.perf_counter() - started, 1)}
            )
    except PolicyAssistantError as err:
        log.warning("not ready yet: %s", err)
    except Exception:  # noqa: BLE001 - a warm-up failure must not hide: the first questions will be slow
        log.exception("warm-up failed; questions are answered, the first ones more slowly")


# ---------------------------------------------------------------------------------------------- CLI


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("serve", help="serve the JSON API and the web UI (one ASGI app)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    p.add_argument("--no-web", action="store_true", help="serve the API only, without the chat UI at /")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])


def run(components: Any, args: argparse.Namespace) -> int:
    import uvicorn

    from ui.web import USERS_ENV, is_loopback, users_from_env

    settings = components.settings
    if not 1 <= args.port <= 65535:
        raise InputError(f"--port {args.port} is out of range; use 1 to 65535")
    if not 1 <= args.workers <= 64:
        raise InputError(f"--workers {args.workers} is out of range; use 1 to 64")
    tokens = parse_tokens(settings.api_tokens.get_secret_value() if settings.api_tokens else None)
    users = users_from_env(settings.web_users.get_secret_value() if settings.web_users else "")
    if not is_loopback(args.host):
        if not tokens:
            raise ConfigError(
                f"serving on {args.host} needs API tokens: set ASSISTANT_API_TOKENS=<long random token>[,...] "
                "(clients send `Authorization: Bearer <token>`), or bind to 127.0.0.1"
            )
        if not args.no_web and not users:
            raise ConfigError(
                f"serving the web UI on {args.host} needs a login: set {USERS_ENV}=user:password[,...], "
                "or add --no-web to serve the API only"
            )
    logs.configure(args.log_level)
    options = {"web": not args.no_web, "log_level": args.log_level}
    print(
        f"policy-assistant serve on http://{args.host}:{args.port} (API under /v1, docs at /docs"
        + (", web UI at /)" if options["web"] else ")"),
        file=sys.stderr,
    )
    common = {"host": args.host, "port": args.port, "log_config": None, "access_log": False, "timeout_keep_alive": 30}
    if args.workers == 1:
        uvicorn.run(create_service(components, web=options["web"], web_users=users), **common)  # type: ignore[arg-type]
        return 0
    # Several processes: each builds its own app from the same environment; metrics are summed over them.
    os.environ["POLICY_ASSISTANT_SERVE"] = json.dumps(options)
    if settings.embed_threads is None:
        # The cores shared out between the workers' embedders: one short question is embedded faster by a
        # single thread than by threads that wait on each other (measured: 40 answers/s against 30).
        os.environ["ASSISTANT_EMBED_THREADS"] = str(max(1, (os.cpu_count() or 1) // args.workers))
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        metrics_dir = tempfile.mkdtemp(prefix="policy-assistant-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        atexit.register(shutil.rmtree, metrics_dir, ignore_errors=True)
    uvicorn.run("ui.service:app_from_environment", factory=True, workers=args.workers, **common)  # type: ignore[arg-type]
    return 0


def app_from_environment() -> FastAPI:
    """The app of one worker process of `serve --workers N`, built from the environment."""
    from assistant.build import build_components
    from assistant.settings import load_settings
    from ui.web import users_from_env

    options = json.loads(os.environ.get("POLICY_ASSISTANT_SERVE", "{}"))
    logs.configure(str(options.get("log_level", "info")))
    components = build_components(load_settings())
    settings = components.settings
    users = users_from_env(settings.web_users.get_secret_value() if settings.web_users else "")
    return create_service(components, web=bool(options.get("web", True)), web_users=users)
