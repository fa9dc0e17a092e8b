"""What the service keeps of every answer it gives: the answer metrics (stages, tokens, outcome) and one
`answered` log line, with the question's text only when `log_questions` allows it."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from assistant.types import Answer
from ui.service.metrics import Metrics

if TYPE_CHECKING:
    from index.tokens import TokenCounter

log = logging.getLogger("policy_assistant.api")


class Recorder:
    """`recorder(answer, route)` after each answer: metrics and the `answered` log line."""

    def __init__(self, tokens: TokenCounter, metrics: Metrics, *, log_questions: bool = False) -> None:
        self.metrics = metrics
        self.log_questions = log_questions
        # Sources repeat from question to question: count each text's tokens once.
        self._count = functools.lru_cache(maxsize=4096)(tokens.count)

    def __call__(self, answer: Answer, route: str) -> None:
        count = self._count
        self.metrics.observe_answer(answer, sum(count(s.text) for s in answer.sources), count(answer.text))
        fields: dict[str, Any] = {
            "route": route,
            "mode": str(answer.mode),
            "language": answer.language,
            "refused": answer.refused,
            "unverified": answer.unverified,
            "sources": len(answer.sources),
            "question_chars": len(answer.question),
            "timings_ms": {stage: round(seconds * 1000, 1) for stage, seconds in answer.timings.items()},
            "latency_ms": round(answer.latency_ms, 1),
        }
        if self.log_questions:
            fields["question"] = answer.question
        if answer.fallback:
            fields["fallback"] = answer.fallback
        log.info("answered", extra=fields)
