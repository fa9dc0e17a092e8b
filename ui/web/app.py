"""The web chat as an ASGI app: the Gradio page mounted on FastAPI at `/`, with `/healthz` and an optional
login (`ui.network.web_users`: the ASSISTANT_WEB_USERS setting)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from errors import PolicyAssistantError
from ui.web.chat import WebChat
from ui.web.layout import CONCURRENCY, build_blocks, css, head, theme

if TYPE_CHECKING:
    from assistant.build import Parts


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
    """Mount the chat at `/` of an existing FastAPI `app` (routes added before it keep precedence)."""
    demo = build_blocks(WebChat(parts), secret=_secret(parts.settings.data_dir))
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
