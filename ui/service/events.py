"""The assistant's answer events (`Delta | Reset | Done`) as HTTP: the first event produced before the 200
goes out, the final answer of a plain reply, server-sent event framing, and the error that ends a stream
which has already started."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from typing import Any

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
    return itertools.chain([first], events)


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
