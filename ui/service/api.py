"""The assistant's routes under `/v1`: ask (plain or streamed), compare, search, the indexed documents and
feedback, with their request bodies.

Every route calls the same parts as the web UI, the CLI and the Slack bot: `/v1/ask` the `Assistant`,
`/v1/search` its retriever. Conversations belong to the caller (`ui.service.guard.principal`): the server
issues their ids, and another caller's id is a 404. Each answer gets an `answer_id`, by which `/v1/feedback`
rates the service's own copy of it. Request bodies are pydantic models whose limits turn bad input into a 422 with a
plain message; the assistant's own errors map to status codes in `ui.service.app`.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from assistant.conversation import Conversation
from assistant.core import MAX_QUESTION_CHARS, Delta, Done, Reset, validate_question
from assistant.language import detect_language
from assistant.limits import MAX_FILTER_VALUES, MAX_PASSAGES, MAX_SOURCES, check_k, check_years
from assistant.types import Answer, Language, ModeKind
from errors import InputError, StoreError
from index.corpus import resolve_doc_id
from storage.answers import AnswerStore
from ui.service.events import Event, EventStream, error_event, final, sse, started
from ui.service.guard import principal
from ui.service.record import Recorder

if TYPE_CHECKING:
    from assistant.build import Parts

T = TypeVar("T")
log = logging.getLogger("policy_assistant.api")


def _as_value_error(check: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`check(...)`, its `InputError` raised as the `ValueError` pydantic reports as a 422."""
    try:
        return check(*args, **kwargs)
    except InputError as err:
        raise ValueError(str(err)) from err


def check_doc_ids(value: list[str] | None) -> list[str] | None:
    """A pydantic validator: each document id of a filter is 1 to 200 characters long."""
    for item in value or []:
        if not 1 <= len(item) <= 200:
            raise ValueError("each document id must be 1 to 200 characters long")
    return value


def _check_years(value: list[int] | None) -> list[int] | None:
    return _as_value_error(check_years, value, option="")


def _k_field(most: int, description: str) -> Any:
    return Field(None, description=f"{description} (1 to {most}).", json_schema_extra={"minimum": 1, "maximum": most})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AskRequest(_Strict):
    question: str = Field(..., max_length=MAX_QUESTION_CHARS * 2, description="The question, in Dutch or English.")
    conversation_id: str | None = Field(
        None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$",
        description="Continue this conversation: an id an earlier answer of yours returned (404 otherwise); omit "
        "it to start a new one.",
    )  # fmt: skip
    doc_ids: list[str] | None = Field(None, max_length=MAX_FILTER_VALUES, description="Only these documents.")
    years: list[StrictInt] | None = Field(
        None, max_length=MAX_FILTER_VALUES, description="Only documents of these years."
    )
    mode: ModeKind | None = Field(None, description="Answer mode (default: the service's).")
    language: Language | None = Field(None, description="Answer language (default: the question's).")
    k: StrictInt | None = _k_field(MAX_SOURCES, "Number of sources (default: ASSISTANT_SEARCH_K)")
    stream: bool = Field(False, description="Answer as server-sent events: `delta`, `reset`, `answer`, `error`.")

    _doc_ids = field_validator("doc_ids")(check_doc_ids)
    _years = field_validator("years")(_check_years)

    @field_validator("k")
    @classmethod
    def _k(cls, value: int | None) -> int | None:
        return _as_value_error(check_k, value, most=MAX_SOURCES, option="")


class SearchRequest(_Strict):
    query: str = Field(..., max_length=MAX_QUESTION_CHARS * 2)
    k: StrictInt | None = _k_field(MAX_PASSAGES, "Number of passages (default: ASSISTANT_SEARCH_K)")
    doc_ids: list[str] | None = Field(None, max_length=MAX_FILTER_VALUES)
    years: list[StrictInt] | None = Field(None, max_length=MAX_FILTER_VALUES)
    language: Language | None = None

    _doc_ids = field_validator("doc_ids")(check_doc_ids)
    _years = field_validator("years")(_check_years)

    @field_validator("k")
    @classmethod
    def _k(cls, value: int | None) -> int | None:
        return _as_value_error(check_k, value, most=MAX_PASSAGES, option="")


class CompareRequest(_Strict):
    topic: str = Field(
        ..., max_length=MAX_QUESTION_CHARS * 2, description="The topic or a comparative question, in Dutch or English."
    )
    doc_ids: list[str] | None = Field(None, max_length=MAX_FILTER_VALUES, description="Only these documents.")
    years: list[StrictInt] | None = Field(
        None, max_length=MAX_FILTER_VALUES, description="Only documents of these years."
    )
    year_from: StrictInt | None = Field(None, description="Only documents of this year or later.")
    year_to: StrictInt | None = Field(None, description="Only documents of this year or earlier.")
    mode: ModeKind | None = Field(
        None, description="extractive: the 'what changed' line is read off the cited sentences; openai: the model "
        "writes it from the entries (default: the service's mode).",
    )  # fmt: skip
    language: Language | None = Field(None, description="Answer language (default: the topic's).")

    _doc_ids = field_validator("doc_ids")(check_doc_ids)
    _years = field_validator("years")(_check_years)


class CitedSentence(BaseModel):
    text: str = Field(..., description="A sentence of the document, quoted verbatim (Dutch).")
    source: int = Field(..., description="The number `n` of the source it is taken from.")


class ComparisonEntry(BaseModel):
    doc_id: str
    title: str
    short_title: str
    year: int | None
    addressed: bool = Field(..., description="false: the document's best passage does not hold the topic.")
    sentences: list[CitedSentence] = Field(..., description="One to three cited sentences (none: not addressed).")
    sources: list[int] = Field(..., description="The numbers of the passages looked at for this document.")


class ComparisonReply(BaseModel):
    """A comparison answer: one entry per document in year order, then what changed."""

    topic: str
    language: Language
    mode: str
    entries: list[ComparisonEntry]
    changed: str = Field(..., description="The 'what changed' line, with [n] markers.")
    text: str = Field(..., description="The whole comparison as plain text with [n] markers.")
    sources: list[dict[str, Any]] = Field(
        ..., description="The numbered sources (as in /v1/ask) every [n] of the entries and the line points to."
    )
    flagged: list[str]
    notices: list[str]
    unverified: bool
    fallback: Literal["llm_error", "unverified"] | None
    latency_ms: float


class AskReply(BaseModel):
    """The answer (the same object as `policy-assistant ask --json`), its `answer_id`, and for a question that
    compares documents or years the comparison's entries."""

    model_config = ConfigDict(extra="allow")

    question: str
    answer: str
    sources: list[dict[str, Any]]
    answer_id: str | None = Field(None, description="Rate this answer with /v1/feedback.")
    comparison: ComparisonReply | None = Field(
        None, description="Only when the question compares documents or years: one entry per document in year "
        "order. Sources of the entries that the answer does not have are numbered after the answer's own.",
    )  # fmt: skip


class FeedbackRequest(_Strict):
    answer_id: str = Field(
        ..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$",
        description="The `answer_id` of an answer /v1/ask or /v1/chat/completions returned to you.",
    )  # fmt: skip
    rating: Literal["up", "down"]
    comment: str = Field("", max_length=2000)


def document_filter(parts: Parts, doc_ids: list[str] | None) -> list[str] | None:
    """The project ids of `doc_ids` (ids or corpus file names); `InputError` naming an unknown one."""
    if not doc_ids:
        return None
    known = {c.doc_id for c in parts.store.chunks()}
    resolved = [resolve_doc_id(d, parts.settings.corpus_dir) for d in doc_ids]
    unknown = [d for d, r in zip(doc_ids, resolved, strict=True) if r not in known]
    if unknown:
        raise InputError(
            f"unknown document {unknown[0]!r}; known documents: {', '.join(sorted(known))} (GET /v1/documents)"
        )
    return resolved


def open_conversation(parts: Parts, conversation_id: str | None, owner: str) -> Conversation | None:
    """The conversation `conversation_id` of `owner`, or a new one under an id the server picks when None;
    `NotFoundError` (404) for an unknown id or another principal's, never a new conversation under it. None
    when a new one cannot be stored (the database is down): the question is answered as a one-off."""
    if conversation_id is not None:
        return parts.conversations.get(conversation_id, owner)
    try:
        return parts.conversations.new(owner)
    except StoreError as err:
        log.warning("answering without a conversation: %s", err)
        return None


class IssuedAnswers:
    """The answers the routes give, kept so that feedback names one by its `answer_id`; the store opens on
    first use (in the database of conversations and feedback)."""

    def __init__(self, parts: Parts) -> None:
        self._open = functools.cache(lambda: AnswerStore(parts.database or parts.settings.answers_path))

    def issue(self, answer: Answer, owner: str) -> str | None:
        """The new `answer_id` of `answer`; None when the database is down (the answer still goes out)."""
        try:
            return self._open().issue(answer, owner)
        except StoreError as err:
            log.warning("the answer has no answer_id: %s", err)
            return None

    def get(self, answer_id: str, owner: str) -> Answer:
        """The answer issued as `answer_id` to `owner`; `NotFoundError` otherwise."""
        return self._open().get(answer_id, owner)


def build_router(parts: Parts, record: Recorder) -> APIRouter:
    """The `/v1` routes of the assistant itself (the OpenAI-compatible ones are in `ui.service.chat`)."""
    router = APIRouter()
    issued = IssuedAnswers(parts)

    @router.post(
        "/v1/ask",
        tags=["assistant"],
        summary="Answer a question with cited sources",
        responses={200: {"model": AskReply, "description": "The answer (or, with `stream`, server-sent events)."}},
    )
    def ask(body: AskRequest, request: Request) -> Response:
        """The same object as `policy-assistant ask --json`; with `stream: true`, server-sent events. A question
        that compares documents or years also gets a `comparison`."""
        validate_question(body.question)  # before a new conversation is stored for it
        owner = principal(request.scope)
        doc_ids = document_filter(parts, body.doc_ids)
        events = parts.assistant.ask_stream(
            body.question,
            open_conversation(parts, body.conversation_id, owner),
            doc_ids=doc_ids,
            years=body.years,
            mode=body.mode,
            language=body.language,
            k=body.k,
        )

        def extra(answer: Answer) -> dict[str, Any]:
            comparison = parts.comparer.for_answer(answer, doc_ids=doc_ids, years=body.years)
            fields: dict[str, Any] = {"answer_id": issued.issue(answer, owner)}
            return fields | ({"comparison": comparison.to_json()} if comparison else {})

        if body.stream:
            return EventStream(_ask_events(started(events), record, extra))
        answer = final(events)
        record(answer, "/v1/ask")
        return JSONResponse({**answer.to_json(), **extra(answer)})

    @router.post(
        "/v1/compare",
        tags=["assistant"],
        summary="Compare what the documents say on a topic, in year order",
        responses={200: {"model": ComparisonReply}},
    )
    def compare(body: CompareRequest) -> JSONResponse:
        """One entry per document (within `doc_ids`, `years`, `year_from`..`year_to`) in year order: what it
        says on `topic` in one to three cited sentences, or that it does not address it; then what changed.
        The same object as `policy-assistant compare --json`."""
        comparison = parts.comparer.compare(
            body.topic,
            doc_ids=document_filter(parts, body.doc_ids),
            years=body.years,
            year_from=body.year_from,
            year_to=body.year_to,
            mode=body.mode,
            language=body.language,
        )
        record.metrics.stages.labels("compare").observe(comparison.latency_ms / 1000)
        return JSONResponse(comparison.to_json())

    @router.post("/v1/search", tags=["assistant"], summary="Find the passages closest to a query")
    def search(body: SearchRequest) -> JSONResponse:
        """The assistant's own retrieval (hybrid: dense and lexical, fused), without composing an answer."""
        began = time.perf_counter()
        query = validate_question(body.query)
        language = body.language or detect_language(query)
        retrieval = parts.retriever.retrieve(
            query,
            language,
            k=body.k or parts.settings.search_k,
            doc_ids=document_filter(parts, body.doc_ids),
            years=body.years,
        )
        elapsed = time.perf_counter() - began
        record.metrics.stages.labels("retrieve").observe(elapsed)
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
                        "score": round(h.fused, 6),
                        "similarity": round(h.similarity, 4),
                        "text": h.chunk.text,
                    }
                    for i, h in enumerate(retrieval.hits, start=1)
                ],
            }
        )

    @router.get("/v1/documents", tags=["assistant"], summary="The indexed documents")
    def documents() -> JSONResponse:
        return JSONResponse([d.__dict__ for d in parts.store.documents()])

    @router.post("/v1/feedback", tags=["assistant"], summary="Rate an answer")
    def feedback(body: FeedbackRequest, request: Request) -> JSONResponse:
        """Stored with the web UI's and the Slack bot's ratings (channel `api`): the answer as the service
        gave it (404 for an `answer_id` it did not give to you)."""
        answer = issued.get(body.answer_id, principal(request.scope))
        feedback_id = parts.feedback.add(answer, body.rating, body.comment, channel="api")
        return JSONResponse({"id": feedback_id}, status_code=201)

    return router


def _ask_events(events: Iterator[Event], record: Recorder, extra: Callable[[Answer], dict[str, Any]]) -> Iterator[str]:
    """`delta` pieces as they come, `reset` when a fallback replaces them, the checked `answer` last (with
    `extra`'s fields: its id, a comparison); a failure ends the stream with one `error` event. Closing it
    (the client went away) closes `events`, and with them the language model's stream."""
    try:
        for event in events:
            if isinstance(event, Delta):
                yield sse("delta", {"text": event.text})
            elif isinstance(event, Reset):
                yield sse("reset", {"reason": event.reason})
            elif isinstance(event, Done):
                record(event.answer, "/v1/ask")
                yield sse("answer", {**event.answer.to_json(), **extra(event.answer)})
    except Exception as err:  # noqa: BLE001 - the stream has started: the client gets an error event
        yield sse("error", error_event(err))
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()
