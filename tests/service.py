"""Run the service app (`ui.service.create_service`) under a real uvicorn server on 127.0.0.1, in a thread."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServiceThread:
    """`with ServiceThread(app) as svc: httpx.get(svc.url + "/healthz")`."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None, access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name=f"service-{self.port}")

    def __enter__(self) -> ServiceThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise AssertionError("the service did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def sse_events(response: httpx.Response) -> Iterator[tuple[str, Any]]:
    """(event, data) pairs of a server-sent event stream; `data` parsed as JSON when it is JSON."""
    event, data = "message", []
    for line in response.iter_lines():
        if not line:
            if data:
                text = "\n".join(data)
                try:
                    yield event, json.loads(text)
                except json.JSONDecodeError:
                    yield event, text
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
