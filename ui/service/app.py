"""The service app factory: the `/v1` routes, the operations endpoints (`/healthz`, `/readyz`, `/metrics`) and
(optionally) the web UI at `/`, inside the guard; the assistant's errors become status codes here: bad input
400, an unreachable store or embedder 503, a failed language model 502."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from errors import (
    ConfigError,
    DocumentError,
    EmbeddingError,
    InputError,
    LLMError,
    NotFoundError,
    PolicyAssistantError,
    StoreError,
)
from ui import network
from ui.service import api, chat, logs
from ui.service.guard import ServiceGuard
from ui.service.metrics import Metrics
from ui.service.record import Recorder
from ui.service.warm import start_warm_up

if TYPE_CHECKING:
    from assistant.build import Parts

log = logging.getLogger("policy_assistant.service")

STATUS = {  # the first kind that matches: subclasses before their base
    NotFoundError: 404,
    InputError: 400,
    DocumentError: 400,
    StoreError: 503,
    EmbeddingError: 503,
    LLMError: 502,
    ConfigError: 500,
}


def create_service(parts: Parts, *, web: bool = True, metrics: Metrics | None = None) -> FastAPI:
    """The service app: API, operations endpoints and (with `web`) the chat UI at `/`, behind the login of
    the `web_users` setting. Tokens, limits and logging of questions come from `parts.settings`."""
    settings = parts.settings
    metrics = metrics or Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        start_warm_up(parts)
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
        status = next((code for kind, code in STATUS.items() if isinstance(err, kind)), 500)
        route = _route(request)
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
        metrics.errors.labels(_route(request), "invalid_request").inc()
        return _error(422, "invalid_request", "; ".join(problems))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, err: HTTPException) -> JSONResponse:
        # Starlette's own replies (no such route 404, wrong method 405, unreadable body 400) in our shape.
        kinds = {404: "not_found", 405: "method_not_allowed"}
        kind = kinds.get(err.status_code, "invalid_request" if err.status_code < 500 else "internal")
        metrics.errors.labels(_route(request), kind).inc()
        return _error(err.status_code, kind, str(err.detail), dict(err.headers or {}) or None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, err: Exception) -> JSONResponse:
        metrics.errors.labels(_route(request), "internal").inc()
        log.exception("unexpected error", extra={"path": request.url.path})
        return _error(
            500, "internal", f"something went wrong on our side; quote request id {logs.request_id.get()} when "
            "reporting it"
        )  # fmt: skip

    record = Recorder(parts.tokens, metrics, log_questions=settings.log_questions)
    routers = [api.build_router(parts, record), chat.build_router(parts, record), _operations(parts, metrics)]
    for router in routers:
        app.include_router(router)
    app.add_middleware(
        ServiceGuard,  # type: ignore[arg-type]
        tokens=network.api_tokens(settings),
        max_inflight=settings.api_max_inflight,
        max_body=settings.api_max_body_bytes,
        metrics=metrics,
        routes=[route.path for router in routers for route in router.routes if hasattr(route, "path")],
    )
    if web:
        from ui.web import mount_web  # Gradio: imported only when the chat is served

        app = mount_web(app, parts, network.web_users(settings))
    return app


def _operations(parts: Parts, metrics: Metrics) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", tags=["operations"], summary="The process is up")
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @router.get("/readyz", tags=["operations"], summary="Ready to answer: index loaded, stores reachable")
    def readyz(request: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            parts.store.ping()
            status = parts.store.status()
            checks["store"] = "ok"
            checks["index"] = (
                f"ok: {status.chunks} passages" if status.chunks else "empty: run `policy-assistant index`"
            )
        except PolicyAssistantError as err:
            checks["store"] = str(err)
            checks["index"] = "unknown: the store is not reachable"
        for name, store in (("conversations", lambda: parts.conversations), ("feedback", lambda: parts.feedback)):
            try:
                store().ping()
                checks[name] = "ok"
            except PolicyAssistantError as err:
                checks[name] = str(err)
        ready = all(v == "ok" or v.startswith("ok:") for v in checks.values())
        code = 200 if ready else 503
        if not request.state.authenticated:
            # The checks' messages name database users, hosts and files: only for holders of a token.
            return JSONResponse({"ready": ready}, status_code=code)
        return JSONResponse({"ready": ready, "checks": checks}, status_code=code)

    @router.get("/metrics", tags=["operations"], summary="Prometheus metrics")
    def prometheus() -> Response:
        return Response(metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return router


def _route(request: Request) -> str:
    """The metrics label of the request: its route template, one shared label for paths that are no route."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "other"


def _error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message}}, status_code=status, headers=headers)
