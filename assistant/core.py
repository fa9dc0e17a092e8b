"""The assistant: one question in, a grounded answer with checked citations out.

`Assistant.ask` and `Assistant.ask_stream` are what the CLI, the web UI, the Slack bot and the evaluation
call. The assistant orchestrates; a question passes each stage once, and no stage calls back into
another: validate, detect the language, make a follow-up standalone (`conversation`), retrieve (`retrieve`:
one `Retrieval` with the hits, the query vector and the terms' weights), decide whether the evidence is
near enough (when it is not, only an answer the coverage check finds stands), answer (`answer`: extractive
or generative, from that `Retrieval`), check citations (`cite`), give the coverage verdict (`question` reads
what is asked, `coverage` whether the cited sentences hold it), record (the conversation store).
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Protocol

from assistant.answer import (
    REFUSAL,
    Answerer,
    AnswerRequest,
    ExtractiveAnswerer,
    ScoredSentence,
    compose,
    is_refusal,
)
from assistant.cite import check
from assistant.conversation import Conversation, standalone_question
from assistant.coverage import Verdict, VerdictLineFilter, combine, parse_stated, statement
from assistant.coverage import check as check_coverage
from assistant.language import detect_language
from assistant.lexical import terms
from assistant.llm import LLM
from assistant.question import QuestionAnalysis, analyse
from assistant.redact import redact
from assistant.retrieve import Retrieval, Retriever
from assistant.types import EXTRACTIVE, Answer, Language, Mode, ModeKind, Source, Timings, Turn
from errors import InputError, LLMError

MAX_QUESTION_CHARS = 2000
# Blank characters that are not whitespace to str.split() (nor format characters): Hangul fillers, braille blank.
_BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
MAX_REASON_CHARS = 300  # of a language model failure, in the notice every user sees


@dataclass(frozen=True)
class Delta:
    """A piece of answer text as it is produced."""

    text: str


@dataclass(frozen=True)
class Reset:
    """Discard the text streamed so far: the language model failed, and a fallback answer follows."""

    reason: str


@dataclass(frozen=True)
class Done:
    """The finished, checked answer (its text may differ from the streamed pieces)."""

    answer: Answer


@dataclass(frozen=True)
class Policy:
    """How the assistant decides to refuse or fall back."""

    k: int = 5
    # Below this the best passage is far from the question: refuse unless the evidence check understands the
    # question and finds it answered (gold dev split, 2026-12-02: the similarity alone refused 3 of 64 answered
    # English items and 0 Dutch; with the check's say none, and unanswerable recall stayed 0.833).
    min_dense: float = 0.80
    fallback_on_error: bool = True  # the LLM is down, slow or rate-limited: answer extractively instead
    unverified_fallback: bool = False  # the LLM cited nothing valid: answer extractively instead of marking it


class Conversations(Protocol):
    """Where conversations are kept (`storage.conversations.ConversationStore`)."""

    def get_or_new(self, conversation_id: str | None, owner: str | None = None) -> Conversation: ...

    def record(self, conversation: Conversation, answer: Answer) -> None: ...


class Assistant:
    """Grounded question answering over the index, shared by every interface."""

    def __init__(
        self,
        retriever: Retriever,
        extractive: ExtractiveAnswerer,
        generative: Answerer | None = None,
        llm: LLM | None = None,
        conversations: Conversations | None = None,
        policy: Policy | None = None,
        default_mode: ModeKind = "extractive",
        forced_language: Language | None = None,
    ) -> None:
        self.retriever = retriever
        self.extractive = extractive
        self.generative = generative
        self.llm = llm
        self.conversations = conversations
        self.policy = policy or Policy()
        self.default_mode = default_mode
        self.forced_language = forced_language

    # -- public API

    @property
    def mode(self) -> Mode:
        """The answer mode in use (`str()` of it as shown to users: `extractive` or `openai:<model>`)."""
        return self.extractive.mode if self.default_mode == "extractive" else self._generative().mode

    def ask(
        self,
        question: str,
        conversation: Conversation | str | None = None,
        *,
        doc_ids: Sequence[str] | None = None,
        years: Sequence[int] | None = None,
        mode: ModeKind | None = None,
        language: Language | None = None,
        k: int | None = None,
        remember: bool = True,
    ) -> Answer:
        """The finished answer of `ask_stream`."""
        answer: Answer | None = None
        events = self.ask_stream(
            question, conversation, doc_ids=doc_ids, years=years, mode=mode, language=language, k=k, remember=remember
        )
        for event in events:
            if isinstance(event, Done):
                answer = event.answer
        assert answer is not None
        return answer

    def ask_stream(
        self,
        question: str,
        conversation: Conversation | str | None = None,
        *,
        doc_ids: Sequence[str] | None = None,
        years: Sequence[int] | None = None,
        mode: ModeKind | None = None,
        language: Language | None = None,
        k: int | None = None,
        remember: bool = True,
    ) -> Iterator[Delta | Reset | Done]:
        """The answer as events: `Delta` pieces, `Reset` when a fallback replaces them, `Done` last. With
        `remember` (and a conversation store), the turn is stored; without, a `Conversation` object the
        caller passed is only extended in memory (the OpenAI-compatible endpoint, the evaluation)."""
        started = time.perf_counter()
        question = validate_question(question)
        conv = self._conversation(conversation)
        history = tuple(conv.turns) if conv else ()
        mode = mode or self.default_mode
        if mode not in ("extractive", "openai"):
            raise InputError(f"unknown mode {mode!r}; use extractive or openai")
        if mode == "openai":
            self._generative()  # fail early with a plain message when no LLM is configured

        lang = language or self.forced_language or self._language(question, history)
        notices: list[str] = []
        clock = _Stopwatch()
        standalone, notice = standalone_question(question, history, self.llm if mode == "openai" else None)
        if notice:
            notices.append(notice)
        with clock.stage("retrieve"):
            retrieval = self.retriever.retrieve(standalone, lang, k=k or self.policy.k, doc_ids=doc_ids, years=years)
            sources = _sources(retrieval)
        request = AnswerRequest(standalone, lang, sources, history, retrieval.query_vector, retrieval.term_weights)
        with clock.stage("verdict"):
            analysis = analyse(standalone, lang, retrieval.term_weights, is_document=self._names_document)

        base = Answer(
            question=question,
            standalone_question=standalone,
            language=lang,
            mode=EXTRACTIVE,
            text="",
            sources=sources,
            conversation_id=conv.id if conv else None,
        )
        weak = not self._evidence_is_strong(retrieval)
        offline: Verdict | None = None
        if weak and mode == "openai" and retrieval.hits:
            with clock.stage("verdict"):
                offline = check_coverage(analysis, sources)
            # the check finds the answer to a question it understands: the similarity does not refuse
            weak = offline.coverage != "answered" or not analysis.understood
        if not retrieval.hits or (weak and mode == "openai"):
            refusal = self._refusal(base, lang, sources, offline)
            yield Delta(refusal.text)
            yield Done(self._finish(refusal, started, clock, notices, conv, remember))
            return

        if mode == "openai":
            answer = yield from self._generate(base, request, analysis, clock, notices)
        else:
            answer = yield from self._extract(base, request, analysis, clock, weak=weak)
        yield Done(self._finish(answer, started, clock, notices, conv, remember))

    # -- stages

    def _conversation(self, conversation: Conversation | str | None) -> Conversation | None:
        if isinstance(conversation, Conversation):
            return conversation
        if isinstance(conversation, str):
            if self.conversations is None:
                raise InputError("conversations are not stored in this setup; pass a Conversation object")
            return self.conversations.get_or_new(conversation)  # an id: the trusted local caller (CLI)
        return None

    def _language(self, question: str, history: tuple[Turn, ...]) -> Language:
        default: Language = history[-1].language if history else "nl"
        return detect_language(question, default=default)

    def _evidence_is_strong(self, retrieval: Retrieval) -> bool:
        """Whether the best passage is near the question by meaning; when it is not, the answer stands only
        where the evidence check finds it in the sources (`answered`), else the question is refused."""
        return bool(retrieval.hits) and retrieval.best_similarity >= self.policy.min_dense

    def _names_document(self, text: str) -> bool:
        """Whether `text` names a document ("het pact", "the 2011 Global Approach"): no constraint on the answer."""
        return bool(self.retriever.mentioned_documents(text))

    def _refusal(
        self, base: Answer, lang: Language, sources: tuple[Source, ...], verdict: Verdict | None = None
    ) -> Answer:
        """Not covered: the refusal, what the documents lack (when the check could name it), the nearest
        passages."""
        nearest = "; ".join(f"[{s.n}] {s.doc_short_title} — {s.label(lang)}" for s in sources[:3])
        missing = verdict.missing if verdict else ()
        lead = REFUSAL[lang]
        if missing:
            lead += " " + statement(verdict, lang)  # type: ignore[arg-type]
        if nearest:
            lead += (" De dichtstbijzijnde passages: " if lang == "nl" else " The nearest passages: ") + nearest
        return replace(base, text=lead, refused=True, coverage="not_covered", missing=missing)

    def _extract(  # type: ignore[no-untyped-def]
        self,
        base: Answer,
        request: AnswerRequest,
        analysis: QuestionAnalysis,
        clock: _Stopwatch,
        *,
        weak: bool = False,
    ):
        """The extractive answer; `weak`: the best passage is far from the question by meaning, so anything
        short of `answered` is refused."""
        with clock.stage("rerank"):
            ranked = self.extractive.rank(request)
        with clock.stage("verdict"):
            # Far passages: the sentences nearest by meaning are not near, and get no allowance for it.
            similar = _nearest_by_meaning(ranked) if not weak else []
            verdict = check_coverage(analysis, base.sources, similar=similar)
        if weak and (verdict.coverage == "partial" or not analysis.understood):
            verdict = replace(verdict, coverage="not_covered")
        if not ranked or verdict.coverage == "not_covered":
            refusal = self._refusal(base, request.language, base.sources, verdict)
            yield Delta(refusal.text)
            return refusal
        chosen = self.extractive.select(ranked, include=[e.text for e in verdict.answering])
        said = compose(chosen, request.language)
        highlights: dict[int, str] = {}
        for s in chosen:
            highlights.setdefault(s.source.n, s.text)
        sources = tuple(replace(s, highlight=highlights.get(s.n, "")) for s in base.sources)
        checked = check(said, sources)  # the sentences quoted; the verdict's own sentence cites nothing
        text = checked.text
        if verdict.coverage == "partial":
            text = compose(chosen, request.language, lacking=statement(verdict, request.language))
            text = text.replace(said, checked.text)
        yield Delta(text)
        return replace(
            base,
            text=text,
            sources=sources,
            flagged=checked.flagged,
            unverified=not checked.verified,
            coverage=verdict.coverage,
            missing=verdict.missing,
        )

    def _generate(  # type: ignore[no-untyped-def]
        self,
        base: Answer,
        request: AnswerRequest,
        analysis: QuestionAnalysis,
        clock: _Stopwatch,
        notices: list[str],
    ):
        generative = self._generative()
        pieces: list[str] = []
        hidden = VerdictLineFilter()  # the model's verdict line is read, not shown
        try:
            with clock.stage("generate"):
                for piece in generative.answer(request):
                    pieces.append(piece)
                    if shown := hidden.feed(piece):
                        yield Delta(shown)
                if rest := hidden.flush():
                    yield Delta(rest)
        except LLMError as err:
            if not self.policy.fallback_on_error:
                raise
            reason = _reason(err)
            notices.append(_fallback_notice(request.language, reason))
            yield Reset(reason)
            answer = yield from self._extract(base, request, analysis, clock)
            return replace(answer, fallback="llm_error")
        text, stated = parse_stated("".join(pieces))
        mode = generative.mode
        with clock.stage("verdict"):
            offline = check_coverage(analysis, base.sources)
        if is_refusal(text) or (stated is not None and stated.coverage == "not_covered"):
            said = Verdict("not_covered", stated.missing if stated and stated.missing else offline.missing)
            return self._refusal(replace(base, mode=mode), request.language, base.sources, said)
        checked = check(text, base.sources, translate=request.language == "en")
        verdict = combine(stated, offline, analysis, checked.text, base.sources)
        answer = replace(
            base,
            mode=mode,
            text=checked.text,
            flagged=tuple(dict.fromkeys(checked.flagged + verdict.flagged)),
            unverified=not checked.verified,
            coverage=verdict.coverage,
            missing=verdict.missing,
        )
        if checked.removed:
            notices.append(_removed_notice(request.language, checked.removed))
        if not checked.verified:
            if self.policy.unverified_fallback:
                notices.append(_unverified_notice(request.language))
                yield Reset("no checkable citations")
                extractive = yield from self._extract(base, request, analysis, clock)
                return replace(extractive, fallback="unverified")
            # Show the sources that best support what the model wrote, first.
            answer_terms = set(terms(checked.text))
            ranked = sorted(base.sources, key=lambda s: -len(answer_terms & set(terms(s.text))))
            answer = replace(answer, sources=tuple(ranked))
        return answer

    def _generative(self) -> Answerer:
        if self.generative is None:
            raise InputError(
                "no language model configured: set ASSISTANT_OPENAI_BASE_URL and ASSISTANT_OPENAI_MODEL "
                "or use --mode extractive"
            )
        return self.generative

    def _finish(
        self,
        answer: Answer,
        started: float,
        clock: _Stopwatch,
        notices: list[str],
        conv: Conversation | None,
        remember: bool,
    ) -> Answer:
        """The answer with its latency, timings and notices, added to the conversation (and stored with
        `remember`)."""
        answer = replace(
            answer,
            latency_ms=(time.perf_counter() - started) * 1000,
            notices=tuple(notices) + answer.notices,
            timings=clock.timings(),
            refused=answer.coverage == "not_covered",  # one fact, two fields: they never disagree
        )
        if conv is not None and self.conversations is not None and remember:
            self.conversations.record(conv, answer)
        elif conv is not None:
            conv.add(answer.turn)
        return answer


def _nearest_by_meaning(ranked: Sequence[ScoredSentence]) -> list[str]:
    """The re-ranked head's sentences, nearest to the question by embedding similarity first."""
    head = [s for s in ranked if s.similarity > 0]
    return [s.text for s in sorted(head, key=lambda s: -s.similarity)]


def _sources(retrieval: Retrieval) -> tuple[Source, ...]:
    """The numbered sources of an answer: the retrieved passages in rank order."""
    return tuple(
        Source(
            n=n,
            chunk_id=hit.chunk.id,
            doc_id=hit.chunk.doc_id,
            doc_title=hit.chunk.doc_title,
            doc_short_title=hit.chunk.doc_short_title,
            year=hit.chunk.year,
            section=hit.chunk.section_label,
            section_path=hit.chunk.section_path,
            text=hit.passage,
            similarity=hit.similarity,
            page=hit.chunk.page,
            footnote=hit.chunk.footnote,
            context=hit.chunk.context,
        )
        for n, hit in enumerate(retrieval.hits, start=1)
    )


class _Stopwatch:
    """Seconds per stage of one answer, summed when a stage runs twice (an extractive fallback)."""

    def __init__(self) -> None:
        self._seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self._seconds[name] = self._seconds.get(name, 0.0) + time.perf_counter() - started

    def timings(self) -> Timings:
        return Timings(**{f.name: self._seconds.get(f.name, 0.0) for f in fields(Timings)})


def _is_invisible(char: str) -> bool:
    """Whether `char` shows nothing: format characters (zero-width space and joiners, bidi marks, BOM), other
    controls, and the blank characters Unicode does not call whitespace (Hangul fillers, braille blank)."""
    return unicodedata.category(char) in ("Cf", "Cc", "Co", "Cn", "Cs") or char in _BLANKS


def validate_question(question: str) -> str:
    """The question with whitespace (invisible characters count as whitespace) normalised; `InputError` when
    empty or too long."""
    text = "".join(" " if _is_invisible(c) else c for c in str(question or ""))
    text = " ".join(text.split())
    if not text:
        raise InputError('the question is empty; type a question, e.g. "Wat is het solidariteitsmechanisme?"')
    if len(text) > MAX_QUESTION_CHARS:
        raise InputError(f"the question is {len(text)} characters long; keep it under {MAX_QUESTION_CHARS} characters")
    return text


def _reason(err: LLMError) -> str:
    """Why the language model failed, fit to show every user and to store: one short line, no credentials."""
    line = " ".join(redact(err).split())
    return line if len(line) <= MAX_REASON_CHARS else line[: MAX_REASON_CHARS - 1] + "…"


def _fallback_notice(lang: Language, reason: str) -> str:
    """A plain sentence for every user, with the (already redacted) reason; never the raw exception text."""
    reason = redact(reason)
    if lang == "nl":
        return f"Het taalmodel gaf geen antwoord; dit antwoord is uit de bronnen samengesteld. Reden: {reason}"
    return f"The language model did not answer; this answer was composed from the sources. Reason: {reason}"


def _removed_notice(lang: Language, removed: tuple[str, ...]) -> str:
    markers = " ".join(removed)
    if lang == "nl":
        return f"Verwijzingen die naar geen bron wezen zijn verwijderd: {markers}"
    return f"Citations that pointed to no source were removed: {markers}"


def _unverified_notice(lang: Language) -> str:
    if lang == "nl":
        return "Het taalmodel gaf geen controleerbare bronverwijzingen; dit antwoord is uit de bronnen samengesteld."
    return "The language model gave no checkable citations; this answer was composed from the sources."
