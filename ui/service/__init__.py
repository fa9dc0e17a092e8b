"""`policy-assistant serve`: one ASGI app with the JSON API under `/v1`, the operations endpoints and the web
UI at `/`.

    command.py  the `serve` subcommand: options, exposure check, one process or N workers
    app.py      the app factory: routes, guard, web UI, error → status mapping, /healthz /readyz /metrics
    guard.py    ASGI middleware: request ids, bearer tokens, body size (413), concurrency (429), access log
    api.py      the assistant's /v1 routes: ask, search, documents, feedback
    chat.py     the OpenAI-compatible /v1/models and /v1/chat/completions
    events.py   the assistant's answer events as HTTP replies and server-sent events
    record.py   what is kept of each answer: its metrics and the `answered` log line
    metrics.py  the Prometheus metrics (summed over workers)
    logs.py     JSON log lines with request ids
    warm.py     the background warm-up of the model, the index and the sentence vectors

Importing `add_parser` and `run` loads neither FastAPI nor uvicorn, so the CLI builds its `--help`
cheaply; `run` and `create_service` load them when they are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ui.service.command import add_parser, run

if TYPE_CHECKING:
    from ui.service.app import create_service

__all__ = ["add_parser", "create_service", "run"]


def __getattr__(name: str) -> Any:
    if name == "create_service":
        from ui.service.app import create_service

        return create_service
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
