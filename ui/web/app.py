"""The web chat as an ASGI app: the Gradio page mounted on FastAPI at `/`, with `/healthz`, an optional
login (`ui.network.web_users`: the ASSISTANT_WEB_USERS setting) and the review page (`ui.web.review`)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from errors import PolicyAssistantError
from ui.web.chat import WebChat
from ui.web.layout import CONCURRENCY, build_blocks, css, head, theme
from ui.web.review import mount_review

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from assistant.build import Parts

# Nothing is loaded from another origin, whatever a document or an answer holds ("runs offline", and no
# tracking beacon). Gradio's page needs its inline script and styles, and `gr.HTML` evaluates its template
# as JavaScript ('unsafe-eval'); images may be data/blob URLs it makes.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "media-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)


def create_app(parts: Parts, users: Sequence[tuple[str, str]] = ()) -> FastAPI:
    """A FastAPI app with the chat at `/` (behind a login when `users` are given) and `/healthz` (never)."""
    app = FastAPI(title="policy-assistant", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        try:
            status = parts.store.status()
        except PolicyAssistantError as err:
            return JSONResponse({"status": "error", "error": str(err)}, status_code=503)
        body = {"status": "ok" if status.chunks else "empty", "documents": status.documents, "chunks": status.chunks}
        return JSONResponse(body, status_code=200 if status.chunks else 503)

    return mount_web(app, parts, users)


def mount_web(app: FastAPI, parts: Parts, users: Sequence[tuple[str, str]] = ()) -> FastAPI:
    """Mount the chat at `/` of an existing FastAPI `app` (routes added before it keep precedence), and the
    review page at `/review` before it."""
    app.add_middleware(ContentSecurityPolicy)
    secret = _secret(parts.settings.data_dir)
    mount_review(app, parts, users, secret)
    demo = build_blocks(WebChat(parts), secret=secret)
    demo.queue(default_concurrency_limit=CONCURRENCY)
    return gr.mount_gradio_app(
        app,
        demo,
        path="",
        auth=list(users) or None,
        ssr_mode=False,
        footer_links=[],
        theme=theme(),
        css=css(),
        head=head(),
        mcp_server=False,
    )


def _secret(data_dir: Path) -> str:
    """A per-installation key for the browser's stored conversation id, so it survives a restart."""
    path = data_dir / "web_secret"
    try:
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(16)
        path.write_text(value, encoding="utf-8")
        path.chmod(0o600)
        return value
    except OSError:  # a read-only data directory: conversations then survive page reloads, not restarts
        return secrets.token_hex(16)


class ContentSecurityPolicy:
    """ASGI middleware: `CONTENT_SECURITY_POLICY` on every HTTP response that does not set its own (pure ASGI,
    so Gradio's streamed responses pass through unbuffered)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                if not any(name.lower() == b"content-security-policy" for name, _ in headers):
                    headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_policy)
