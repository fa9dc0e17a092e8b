"""A conversation: its bounded history of turns, and rewriting a follow-up into a standalone question.

In extractive mode this is a deterministic rule: a short or anaphoric follow-up ("En in 2022?",
"What about children?") takes over the topic of the previous question — a year or number in the follow-up
replaces the one in the previous question, anything else is joined to it. In `openai` mode the LLM rewrites
the question with the `condense` prompt, and the rule is the fallback.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assistant.redact import redact
from assistant.types import Message, Turn
from errors import LLMError
from prompts import render

if TYPE_CHECKING:
    from assistant.llm import LLM

MAX_TURNS = 6  # turns kept for condensation and the model's context


@dataclass
class Conversation:
    """A conversation in memory; `turns` holds the most recent `MAX_TURNS` turns. `owner` is the principal
    it belongs to (`api:<token hash>`, `web:user:<name>`, `web:session:<id>`, `slack:<team>:<channel>:<thread>`);
    None for the local command line."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    turns: list[Turn] = field(default_factory=list)
    owner: str | None = None

    def add(self, turn: Turn) -> None:
        self.turns.append(turn)
        del self.turns[:-MAX_TURNS]


_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_ANAPHORIC_START = re.compile(
    r"^(?:en|maar|ook|dus|wat (?:dan )?(?:over|met|betreft)|hoe zit het met|en wat|and|but|also|so|what about|"
    r"how about|and what|what of|same for|idem)\b",
    re.IGNORECASE,
)
_ANAPHORIC_WORDS = frozenset(
    [
        "dit",
        "dat",
        "deze",
        "die",
        "daar",
        "daarvan",
        "daarover",
        "hiervan",
        "hierover",
        "zij",
        "ze",
        "hun",
        "hen",
        "het",
        "ervan",
        "erover",
        "dezelfde",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "they",
        "them",
        "their",
        "there",
        "such",
        "same",
    ]
)


@dataclass(frozen=True)
class FollowupRules:
    """The word counts of the follow-up rule; set by hand with the first conversation tests (commit
    6dba008), no measurement recorded: the retrieval issue (#13) measures and replaces this rule."""

    short_words: int = 4  # a question of at most this many words is a follow-up ("En in 2022?")
    anaphoric_words: int = 12  # ... and one of at most this many with a word pointing back ("die", "those")


FOLLOWUP_RULES = FollowupRules()
# A rewritten question shorter than this is no question (the model answered "?" or nothing).
_MIN_REWRITE_CHARS = 3
MAX_REWRITE_CHARS = 2000


def is_followup(question: str, rules: FollowupRules = FOLLOWUP_RULES) -> bool:
    """Short questions and questions that point back ("those", "daarvan") need the previous turn."""
    words = re.findall(r"[^\W_]+", question.lower())
    if not words:
        return False
    if _ANAPHORIC_START.match(question.strip()):
        return True
    if len(words) <= rules.short_words:
        return True
    return len(words) <= rules.anaphoric_words and bool(_ANAPHORIC_WORDS & set(words))


def standalone_question(question: str, history: Sequence[Turn], llm: LLM | None = None) -> tuple[str, str | None]:
    """The question as it stands alone, and a notice for the user when the language model was meant to
    rewrite it and failed. With `llm`, a follow-up is rewritten by the model (the `condense` prompt); without,
    or when the model fails or returns no usable question, by the rule of `condense`."""
    if not history or not is_followup(question):
        return question, None
    notice = None
    if llm is not None:
        from assistant.llm import complete  # the OpenAI client loads only when a model is configured

        lines = "\n".join(
            f"{role}: {text}"
            for t in history
            for role, text in (("user", t.standalone_question or t.question), ("assistant", t.answer))
        )
        try:
            rewritten = complete(llm, [Message("user", render("condense", history=lines, question=question))])
            rewritten = " ".join(rewritten.split()).strip('"')
            if _MIN_REWRITE_CHARS <= len(rewritten) <= MAX_REWRITE_CHARS:
                return rewritten, None
        except LLMError as err:
            notice = f"follow-up rewritten without the language model ({redact(str(err))})"
    return condense(question, history), notice


def condense(question: str, history: Sequence[Turn]) -> str:
    """The follow-up as a standalone question, using the last turn's standalone question."""
    question = " ".join(question.split())
    if not history or not is_followup(question):
        return question
    previous = history[-1].standalone_question or history[-1].question
    years = _YEAR.findall(question)
    if years and _YEAR.search(previous):
        # "En in 2015?" after "Hoeveel aanvragen in 2019?" asks the same about another year.
        replaced = _YEAR.sub(years[0], previous, count=1)
        rest = _YEAR.sub("", _ANAPHORIC_START.sub("", question)).strip(" ?.,")
        rest = re.sub(r"^(?:in|for|voor|van|of)\b", "", rest, flags=re.IGNORECASE).strip(" ?.,")
        return f"{replaced} {rest}".strip() if rest else replaced
    return f"{question.rstrip('?').strip()} — {previous}"


# How a reply of the OpenAI-compatible endpoint ends its text: what `turns_from_messages` cuts off again.
SOURCES_FOOTERS = ("\n\nBronnen:", "\n\nSources:")


def turns_from_messages(messages: Sequence[tuple[str, str]]) -> list[Turn]:
    """An OpenAI-style history of (role, text) messages as turns: each user message with the assistant reply
    that follows it (its sources footer cut off); system, developer and tool messages, and a user message no
    reply follows, are skipped. Used by the OpenAI-compatible endpoint and the evaluation's follow-ups."""
    from assistant.language import detect_language

    turns: list[Turn] = []
    pending: str | None = None
    for role, text in messages:
        if role == "user":
            pending = text
        elif role == "assistant" and pending is not None:
            answer = text
            for footer in SOURCES_FOOTERS:
                answer = answer.split(footer)[0]
            turns.append(
                Turn(question=pending, answer=answer, standalone_question=pending, language=detect_language(pending))
            )
            pending = None
    return turns
