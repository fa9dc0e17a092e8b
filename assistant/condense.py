"""Rewriting a follow-up question into a standalone question.

In extractive mode this is a deterministic rule: a short or anaphoric follow-up ("En in 2022?",
"What about children?") takes over the topic of the previous question — a year or number in the follow-up
replaces the one in the previous question, anything else is joined to it. In `openai` mode the LLM rewrites
the question with the `condense` prompt, and the rule is the fallback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.types import Turn

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
_FOLLOWUP_MAX_WORDS = 6


def is_followup(question: str) -> bool:
    """Short questions and questions that point back ("those", "daarvan") need the previous turn."""
    words = re.findall(r"[^\W_]+", question.lower())
    if not words:
        return False
    if _ANAPHORIC_START.match(question.strip()):
        return True
    if len(words) <= _FOLLOWUP_MAX_WORDS - 2:
        return True
    return len(words) <= _FOLLOWUP_MAX_WORDS + 6 and bool(_ANAPHORIC_WORDS & set(words))


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
