"""The assistant's answer events (`Delta | Reset | Done`) as HTTP: the first event produced before the 200
goes out, the final answer of a plain reply, server-sent event framing, and the error that ends a stream
which has already started."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from assistant.core import Delta, Done, Reset
from assistant.types import Answer
from errors import PolicyAssistantError

log = logging.getLogger("policy_assistant.api")

Event = Delta | Reset | Done
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def started(events: Iterator[Event]) -> Iterator[Event]:
    """`events` with the first one already produced: bad input, an empty index or an unreachable store fail
    here, as a plain HTTP error, rather than inside a stream that has already answered 200."""
    try:
        first = next(events)
    except StopIteration:
        return iter(())
    return _resumed(first, events)


def _resumed(first: Event, events: Iterator[Event]) -> Iterator[Event]:
    try:
        yield first
        yield from events
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()  # a client gone before the second event: end the answer (and its model request) too


class EventStream(StreamingResponse):
    """A server-sent event reply of `chunks` that closes them when it ends, also when the client goes away:
    closing them ends the language model's stream, so no upstream request outlives its client, and the
    guard counts the request in flight until then."""

    def __init__(self, chunks: Iterator[str]) -> None:
        super().__init__(chunks, media_type="text/event-stream", headers=SSE_HEADERS)
        self._chunks = chunks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # A cancelled reply waits for the worker thread's `next()` to return first (anyio does not
            # abandon threads), so the generator is idle here and can be closed.
            close = getattr(self._chunks, "close", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(close)


def final(events: Iterator[Event]) -> Answer:
    """The answer the events end with."""
    answer: Answer | None = None
    for event in events:
        if isinstance(event, Done):
            answer = event.answer
    if answer is None:  # pragma: no cover - ask_stream always ends with Done or raises
        raise RuntimeError("the assistant finished without an answer")
    return answer


def sse(event: str, data: dict[str, Any]) -> str:
    """One server-sent event with a JSON payload."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def error_event(err: Exception) -> dict[str, Any]:
    """The `{"error": ...}` object that ends a stream: our errors as they are, anything else logged."""
    if isinstance(err, PolicyAssistantError):
        return {"error": {"type": type(err).__name__, "message": str(err)}}
    log.exception("the answer stream failed")
    return {"error": {"type": "InternalError", "message": "the answer failed unexpectedly; try again"}}
