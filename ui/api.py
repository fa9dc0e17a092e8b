"""The JSON API of `policy-assistant serve`: ask (plain or streamed), search, feedback, an OpenAI-compatible
chat completions endpoint, and the health, readiness and metrics endpoints.

Every route calls the same `Assistant` as the web UI, the CLI and the Slack bot. Request bodies are pydantic
models whose limits turn bad input into a 4xx with a plain message; the assistant's own errors map to status
codes in `ui.service`.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.chat import Conversation
from assistant.core import MAX_QUESTION_CHARS, Delta, Done, Reset, validate_question
from assistant.language import detect_language
from assistant.types import Answer, Turn
from index.corpus import resolve_doc_id
from index.errors import InputError, PolicyAssistantError
from ui.metrics import Metrics

log = logging.getLogger("policy_assistant.api")

MAX_HISTORY_MESSAGES = 40  # chat completions: earlier messages beyond these are refused, not silently cut
MAX_MESSAGE_CHARS = 8000
MAX_FILTER_VALUES = 20
MODEL_NAME = "policy-assistant"


def _check_doc_ids(value: list[str] | None) -> list[str] | None:
    for item in value or []:
        if not 1 <= len(item) <= 200:
            raise ValueError("each document id must be 1 to 200 characters long")
    return value


def _check_years(value: list[int] | None) -> list[int] | None:
    for year in value or []:
        if not 1900 <= year <= 2100:
            raise ValueError(f"{year} is not a plausible year; use 1900 to 2100")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AskRequest(_Strict):
    question: str = Field(..., max_length=MAX_QUESTION_CHARS * 2, description="The question, in Dutch or English.")
    conversation_id: str | None = Field(
        None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$",
        description="Continue this conversation (created when unknown); omit for a one-off question.",
    )  # fmt: skip
    doc_ids: list[str] | None = Field(None, max_length=MAX_FILTER_VALUES, description="Only these documents.")
    years: list[int] | None = Field(None, max_length=MAX_FILTER_VALUES, description="Only documents of these years.")
    mode: Literal["extractive", "openai"] | None = Field(None, description="Answer mode (default: the service's).")
    language: Literal["nl", "en"] | None = Field(None, description="Answer language (default: the question's).")
    k: int | None = Field(None, ge=1, le=20, description="Number of sources.")
    stream: bool = Field(False, description="Answer as server-sent events: `delta`, `reset`, `answer`, `error`.")

    _doc_ids = field_validator("doc_ids")(_check_doc_ids)
    _years = field_validator("years")(_check_years)


class SearchRequest(_Strict):
    query: str = Field(..., max_length=MAX_QUESTION_CHARS * 2)
    k: int = Field(5, ge=1, le=50)
    doc_ids: list[str] | None = Field(None, max_length=MAX_FILTER_VALUES)
    years: list[int] | None = Field(None, max_length=MAX_FILTER_VALUES)
    language: Literal["nl", "en"] | None = None

    _doc_ids = field_validator("doc_ids")(_check_doc_ids)
    _years = field_validator("years")(_check_years)


class FeedbackRequest(_Strict):
    answer: dict[str, Any] = Field(..., description="The answer object as /v1/ask returned it.")
    rating: Literal["up", "down"]
    comment: str = Field("", max_length=2000)

    @field_validator("answer")
    @classmethod
    def _answer(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in ("question", "answer"):
            if not isinstance(value.get(key), str):
                raise ValueError(f"the answer object needs a string {key!r}, as /v1/ask returns it")
        return value


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    # Unknown OpenAI parameters (temperature, top_p, user, ...) are accepted and ignored, as clients send them.
    model_config = ConfigDict(extra="allow")

    model: str = Field(MODEL_NAME, max_length=200)
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=MAX_HISTORY_MESSAGES)
    stream: bool = False
    mode: Literal["extractive", "openai"] | None = None
    doc_ids: list[str] | None = Field(None, max_length=MAX_FILTER_VALUES)

    _doc_ids = field_validator("doc_ids")(_check_doc_ids)


def build_router(components: Any, metrics: Metrics, *, log_questions: bool = False) -> APIRouter:
    router = APIRouter()
    settings = components.settings

    def doc_filter(doc_ids: list[str] | None) -> list[str] | None:
        if not doc_ids:
            return None
        known = {c.doc_id for c in components.store.chunks()}
        resolved = [resolve_doc_id(d, settings.corpus_dir) for d in doc_ids]
        unknown = [d for d, r in zip(doc_ids, resolved, strict=True) if r not in known]
        if unknown:
            raise InputError(
                f"unknown document {unknown[0]!r}; known documents: {', '.join(sorted(known))} (GET /v1/documents)"
            )
        return resolved

    # Sources repeat from question to question: count each text's tokens once.
    count = functools.lru_cache(maxsize=4096)(components.tokens.count)

    def record(answer: Answer, route: str) -> None:
        metrics.observe_answer(answer, sum(count(s.text) for s in answer.sources), count(answer.text))
        fields: dict[str, Any] = {
            "route": route,
            "mode": answer.mode,
            "language": answer.language,
            "refused": answer.refused,
            "unverified": answer.unverified,
            "sources": len(answer.sources),
            "question_chars": len(answer.question),
            "timings_ms": {k: round(v * 1000, 1) for k, v in answer.timings.items()},
            "latency_ms": round(answer.latency_ms, 1),
        }
        if log_questions:
            fields["question"] = answer.question
        if answer.extra.get("fallback"):
            fields["fallback"] = answer.extra["fallback"]
        log.info("answered", extra=fields)

    # ------------------------------------------------------------------ ask

    @router.post("/v1/ask", tags=["assistant"], summary="Answer a question with cited sources")
    def ask(body: AskRequest) -> Response:
        """The same object as `policy-assistant ask --json`; with `stream: true`, server-sent events."""
        options = {
            "doc_ids": doc_filter(body.doc_ids),
            "years": body.years,
            "mode": body.mode,
            "language": body.language,
            "k": body.k,
        }
        events = components.assistant.ask_stream(body.question, body.conversation_id, **options)
        if body.stream:
            events = _started(events)
            return StreamingResponse(_ask_events(events, record), media_type="text/event-stream", headers=_SSE_HEADERS)
        answer = _final(events)
        record(answer, "/v1/ask")
        return JSONResponse(answer.to_json())

    # ------------------------------------------------------------------ search

    @router.post("/v1/search", tags=["assistant"], summary="Find the passages closest to a query")
    def search(body: SearchRequest) -> JSONResponse:
        """Hybrid retrieval (the same as the assistant's), without composing an answer."""
        started = time.perf_counter()
        query = validate_question(body.query)
        language = body.language or detect_language(query)
        hits = components.retriever.retrieve(
            query, language, k=body.k, doc_ids=doc_filter(body.doc_ids), years=body.years
        )
        elapsed = time.perf_counter() - started
        metrics.stages.labels("retrieve").observe(elapsed)
        return JSONResponse(
            {
                "query": query,
                "language": language,
                "latency_ms": round(elapsed * 1000, 1),
                "results": [
                    {
                        "rank": i,
                        "doc_id": h.chunk.doc_id,
                        "doc_title": h.chunk.doc_title,
                        "year": h.chunk.year,
                        "section": h.chunk.section_label,
                        "section_path": h.chunk.section_path,
                        "page": h.chunk.page,
                        "chunk_id": h.chunk.id,
                        "score": round(h.score, 6),
                        "similarity": round(h.dense, 4),
                        "text": h.chunk.text,
                    }
                    for i, h in enumerate(hits, start=1)
                ],
            }
        )

    @router.get("/v1/documents", tags=["assistant"], summary="The indexed documents")
    def documents() -> JSONResponse:
        return JSONResponse([d.__dict__ for d in components.store.documents()])

    # ------------------------------------------------------------------ feedback

    @router.post("/v1/feedback", tags=["assistant"], summary="Rate an answer")
    def feedback(body: FeedbackRequest) -> JSONResponse:
        """Stored with the web UI's and the Slack bot's ratings (channel `api`)."""
        feedback_id = components.feedback.add(body.answer, body.rating, body.comment, channel="api")
        return JSONResponse({"id": feedback_id}, status_code=201)

    # ------------------------------------------------------------------ OpenAI-compatible

    @router.get("/v1/models", tags=["openai"], summary="The one model this service offers")
    def models() -> JSONResponse:
        return JSONResponse(
            {"object": "list", "data": [{"id": MODEL_NAME, "object": "model", "created": 0, "owned_by": "policy"}]}
        )

    @router.post("/v1/chat/completions", tags=["openai"], summary="OpenAI-compatible chat completions")
    def chat_completions(body: ChatRequest) -> Response:
        """The last user message is the question and earlier user/assistant pairs its conversation. The
        reply's text lists its sources; the full sources are in the response's `sources` field."""
        question, history = _chat_question(body.messages)
        conversation = Conversation(id=f"openai-{uuid.uuid4().hex}", turns=list(history))
        events = components.assistant.ask_stream(
            question, conversation, mode=body.mode, doc_ids=doc_filter(body.doc_ids), remember=False
        )
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        if body.stream:
            events = _started(events)
            return StreamingResponse(
                _chat_chunks(events, completion_id, record),
                media_type="text/event-stream",
                headers=_SSE_HEADERS,
            )
        answer = _final(events)
        record(answer, "/v1/chat/completions")
        content = answer.text + _sources_footer(answer)
        prompt_tokens = sum(components.tokens.count(m.text()) for m in body.messages)
        completion_tokens = components.tokens.count(content)
        return JSONResponse(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": MODEL_NAME,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
                **_answer_fields(answer),
            }
        )

    # ------------------------------------------------------------------ operations

    @router.get("/healthz", tags=["operations"], summary="The process is up")
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @router.get("/readyz", tags=["operations"], summary="Ready to answer: index loaded, stores reachable")
    def readyz() -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            components.store.ping()
            status = components.store.status()
            checks["store"] = "ok"
            checks["index"] = (
                f"ok: {status.chunks} passages" if status.chunks else "empty: run `policy-assistant index`"
            )
        except PolicyAssistantError as err:
            checks["store"] = str(err)
            checks["index"] = "unknown: the store is not reachable"
        for name in ("conversations", "feedback"):
            try:
                getattr(components, name).ping()
                checks[name] = "ok"
            except PolicyAssistantError as err:
                checks[name] = str(err)
        ready = all(v == "ok" or v.startswith("ok:") for v in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @router.get("/metrics", tags=["operations"], summary="Prometheus metrics")
    def prometheus() -> Response:
        return Response(metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return router


_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _started(events: Iterator[Any]) -> Iterator[Any]:
    """`events` with the first one already produced: bad input, an empty index or an unreachable store fail
    here, as a plain HTTP error, rather than inside a stream that has already answered 200."""
    try:
        first = next(events)
    except StopIteration:
        return iter(())
    return itertools.chain([first], events)


def _final(events: Iterator[Any]) -> Answer:
    answer: Answer | None = None
    for event in events:
        if isinstance(event, Done):
            answer = event.answer
    if answer is None:  # pragma: no cover - ask_stream always ends with Done or raises
        raise RuntimeError("the assistant finished without an answer")
    return answer


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _error_event(err: Exception) -> dict[str, Any]:
    if isinstance(err, PolicyAssistantError):
        return {"error": {"type": type(err).__name__, "message": str(err)}}
    log.exception("the answer stream failed")
    return {"error": {"type": "InternalError", "message": "the answer failed unexpectedly; try again"}}


def _ask_events(events: Iterator[Any], record: Any) -> Iterator[str]:
    """`delta` pieces as they come, `reset` when a fallback replaces them, the checked `answer` last; a
    failure ends the stream with one `error` event."""
    try:
        for event in events:
            if isinstance(event, Delta):
                yield _sse("delta", {"text": event.text})
            elif isinstance(event, Reset):
                yield _sse("reset", {"reason": event.reason})
            elif isinstance(event, Done):
                record(event.answer, "/v1/ask")
                yield _sse("answer", event.answer.to_json())
    except Exception as err:  # noqa: BLE001 - the stream has started: the client gets an error event
        yield _sse("error", _error_event(err))


def _chat_question(messages: list[ChatMessage]) -> tuple[str, list[Turn]]:
    if messages[-1].role != "user":
        raise InputError("the last message must be the user's question (role 'user')")
    for m in messages:
        if len(m.text()) > MAX_MESSAGE_CHARS:
            raise InputError(f"a message is {len(m.text())} characters long; keep each under {MAX_MESSAGE_CHARS}")
    turns: list[Turn] = []
    pending: str | None = None
    for m in messages[:-1]:
        if m.role == "user":
            pending = m.text()
        elif m.role == "assistant" and pending is not None:
            answer = m.text().split("\n\nBronnen:")[0].split("\n\nSources:")[0]
            turns.append(Turn(question=pending, answer=answer, language=detect_language(pending)))
            pending = None
    return messages[-1].text(), turns


def _sources_footer(answer: Answer) -> str:
    if not answer.sources:
        return ""
    head = "Bronnen:" if answer.language == "nl" else "Sources:"
    lines = [
        f"[{s.n}] {s.doc_short_title}{f' ({s.year})' if s.year else ''} — {s.section}"
        + (f", p. {s.page}" if s.page else "")
        for s in answer.sources
    ]
    notes = [f"_{n}_" for n in answer.notices]
    return "\n\n" + "\n".join([head, *lines]) + ("\n\n" + "\n".join(notes) if notes else "")


def _answer_fields(answer: Answer) -> dict[str, Any]:
    """What an OpenAI client ignores but a policy-aware one can show: sources and the answer's marks."""
    data = answer.to_json()
    return {
        "sources": data["sources"],
        "policy_assistant": {k: v for k, v in data.items() if k not in ("sources",)},
    }


def _chat_chunks(events: Iterator[Any], completion_id: str, record: Any) -> Iterator[str]:
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_NAME,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    streamed = False
    try:
        for event in events:
            if isinstance(event, Delta):
                streamed = True
                yield chunk({"content": event.text})
            elif isinstance(event, Reset) and streamed:
                yield chunk({"content": "\n\n---\n\n"})  # what follows replaces the broken-off text
            elif isinstance(event, Done):
                record(event.answer, "/v1/chat/completions")
                yield chunk({"content": _sources_footer(event.answer)})
                yield chunk({}, "stop", **_answer_fields(event.answer))
    except Exception as err:  # noqa: BLE001 - the stream has started: end it with an error object
        yield f"data: {json.dumps(_error_event(err), ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"
