"""The OpenAI-compatible routes (`/v1/models`, `/v1/chat/completions`), so that any OpenAI client can ask
the assistant: the last user message is the question, the earlier user/assistant pairs its conversation,
and the reply's text ends with its sources (the full sources are in the response's `sources` field).

Each reply is stored as a turn of a conversation of the caller (`policy_assistant.conversation_id` in the
reply); a request with `conversation_id` continues that conversation of the caller's from its stored turns
instead of the earlier messages, and gets 404 for any other id."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.conversation import MAX_TURNS, SOURCES_FOOTERS, Conversation, turns_from_messages
from assistant.core import Delta, Done, Reset, validate_question
from assistant.limits import MAX_FILTER_VALUES
from assistant.types import Answer, ModeKind, Turn
from errors import InputError
from ui.service.api import IssuedAnswers, check_doc_ids, document_filter, open_conversation
from ui.service.events import Event, EventStream, error_event, final, started
from ui.service.guard import principal
from ui.service.record import Recorder

if TYPE_CHECKING:
    from assistant.build import Parts

MAX_HISTORY_MESSAGES = 40  # earlier messages beyond these are refused, not silently cut
MAX_MESSAGE_CHARS = 8000
MODEL_NAME = "policy-assistant"


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """The message's text; of a list of content parts, the text parts joined."""
        if isinstance(self.content, list):
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    # Unknown OpenAI parameters (temperature, top_p, user, ...) are accepted and ignored, as clients send them.
    model_config = ConfigDict(extra="allow")

    model: str = Field(MODEL_NAME, max_length=200)
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=MAX_HISTORY_MESSAGES)
    stream: bool = False
    mode: ModeKind | None = None
    doc_ids: list[str] | None = Field(None, max_length=MAX_FILTER_VALUES)
    conversation_id: str | None = Field(
        None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$",
        description="Continue this conversation of yours (its stored turns, not the earlier messages).",
    )  # fmt: skip

    _doc_ids = field_validator("doc_ids")(check_doc_ids)


def chat_question(messages: list[ChatMessage]) -> tuple[str, list[Turn]]:
    """The question (the last message, the user's) and the turns before it; `InputError` otherwise."""
    if messages[-1].role != "user":
        raise InputError("the last message must be the user's question (role 'user')")
    texts = [(m.role, m.text()) for m in messages]
    for _, text in texts:
        if len(text) > MAX_MESSAGE_CHARS:
            raise InputError(f"a message is {len(text)} characters long; keep each under {MAX_MESSAGE_CHARS}")
    return texts[-1][1], turns_from_messages(texts[:-1])


def build_router(parts: Parts, record: Recorder) -> APIRouter:
    """`/v1/models` (the one model offered) and `/v1/chat/completions`."""
    router = APIRouter()
    issued = IssuedAnswers(parts)

    @router.get("/v1/models", tags=["openai"], summary="The one model this service offers")
    def models() -> JSONResponse:
        return JSONResponse(
            {"object": "list", "data": [{"id": MODEL_NAME, "object": "model", "created": 0, "owned_by": "policy"}]}
        )

    @router.post("/v1/chat/completions", tags=["openai"], summary="OpenAI-compatible chat completions")
    def chat_completions(body: ChatRequest, request: Request) -> Response:
        """The last user message is the question and earlier user/assistant pairs its conversation. The
        reply's text lists its sources; the full sources are in the response's `sources` field."""
        question, history = chat_question(body.messages)
        validate_question(question)  # before a new conversation is stored for it
        conversation = open_conversation(parts, body.conversation_id, principal(request.scope))
        remember = conversation is not None
        if conversation is None:  # the database is down: a conversation in memory only
            conversation = Conversation()
        if body.conversation_id is None:
            conversation.turns = history[-MAX_TURNS:]  # a new conversation: its history is the messages
        events = parts.assistant.ask_stream(
            question, conversation, mode=body.mode, doc_ids=document_filter(parts, body.doc_ids), remember=remember
        )
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        owner = principal(request.scope)

        def issue(answer: Answer) -> str | None:
            return issued.issue(answer, owner)

        if body.stream:
            return EventStream(_chat_chunks(started(events), completion_id, record, issue))
        answer = final(events)
        record(answer, "/v1/chat/completions")
        content = answer.text + sources_footer(answer)
        prompt_tokens = sum(parts.tokens.count(m.text()) for m in body.messages)
        completion_tokens = parts.tokens.count(content)
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
                **_answer_fields(answer, issue(answer)),
            }
        )

    return router


def sources_footer(answer: Answer) -> str:
    """The sources as plain text after the answer (`Bronnen:` / `Sources:`), then its notices."""
    if not answer.sources:
        return ""
    head = SOURCES_FOOTERS[0 if answer.language == "nl" else 1].strip()
    lines = [
        f"[{s.n}] {s.doc_short_title}{f' ({s.year})' if s.year else ''} — {s.label(answer.language)}"
        + (f", p. {s.page}" if s.page else "")
        for s in answer.sources
    ]
    notes = [f"_{n}_" for n in answer.notices]
    return "\n\n" + "\n".join([head, *lines]) + ("\n\n" + "\n".join(notes) if notes else "")


def _answer_fields(answer: Answer, answer_id: str | None) -> dict[str, Any]:
    """What an OpenAI client ignores but a policy-aware one can show: sources, the answer's marks and the
    `answer_id` to rate it by."""
    data = {**answer.to_json(), "answer_id": answer_id}
    return {"sources": data["sources"], "policy_assistant": {k: v for k, v in data.items() if k != "sources"}}


def _chat_chunks(
    events: Iterator[Event], completion_id: str, record: Recorder, issue: Callable[[Answer], str | None]
) -> Iterator[str]:
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
                yield chunk({"content": sources_footer(event.answer)})
                yield chunk({}, "stop", **_answer_fields(event.answer, issue(event.answer)))
    except Exception as err:  # noqa: BLE001 - the stream has started: end it with an error object
        yield f"data: {json.dumps(error_event(err), ensure_ascii=False)}\n\n"
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()  # the client went away (or the answer ended): so does the model's stream
    yield "data: [DONE]\n\n"
