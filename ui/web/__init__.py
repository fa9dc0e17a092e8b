"""The web chat (Gradio on FastAPI), one job per module:

- `state.py`: what a browser session keeps (`Exchange`: a question and its answer, error or partial text)
- `chat.py`: `WebChat`, the callbacks' behaviour over the parts, without Gradio
- `render.py`: answers as chat Markdown and the sources panel as HTML
- `export.py`: the conversation as a Markdown file
- `layout.py`: the Gradio page (components, wiring, labels, theme, `static/` CSS and script)
- `app.py`: the ASGI app (`create_app`, `mount_web`): the page at `/`, `/healthz`, the login
- `command.py`: the `policy-assistant web` subcommand (`run`; its options are in `ui.commands`)

Importing this package or `ui.web.command` does not import Gradio; the names below load their module on
first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ui.web.app import create_app, mount_web
    from ui.web.chat import WebChat
    from ui.web.command import run
    from ui.web.state import Exchange

__all__ = ["Exchange", "WebChat", "create_app", "mount_web", "run"]

_HOMES = {
    "create_app": "ui.web.app",
    "mount_web": "ui.web.app",
    "WebChat": "ui.web.chat",
    "Exchange": "ui.web.state",
    "run": "ui.web.command",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'ui.web' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
