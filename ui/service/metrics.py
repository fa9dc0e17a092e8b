"""The service's Prometheus metrics: requests, errors, latency per route and per answer stage, tokens.

Each service app has its own registry. With several worker processes (`serve --workers N`) the workers
write their values to files in one directory (`multiprocess_dir`) and `/metrics` adds up every worker.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from assistant.types import Answer

disable_created_metrics()  # the `*_created` series only double the output

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """The service's metrics; `multiprocess_dir`: the directory the workers of `serve --workers N` share."""

    def __init__(self, multiprocess_dir: Path | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "assistant_requests", "HTTP requests answered, by route and status code.", ("route", "status"), registry=r
        )
        self.errors = Counter(
            "assistant_errors", "Requests that failed, by route and kind of error.", ("route", "kind"), registry=r
        )
        self.latency = Histogram(
            "assistant_request_seconds", "Time to answer a request, by route.", ("route",),
            buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.stages = Histogram(
            "assistant_stage_seconds", "Time spent per answer stage: retrieve, rerank, verdict, generate.", ("stage",),
            buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.tokens = Counter(
            "assistant_tokens", "Tokens handled: the sources given as context and the answers written.",
            ("kind",), registry=r,
        )  # fmt: skip
        self.answers = Counter(
            "assistant_answers", "Answers given, by mode and outcome (answered, refused, unverified, fallback).",
            ("mode", "outcome"), registry=r,
        )  # fmt: skip
        self.inflight = Gauge(
            "assistant_inflight_requests", "Requests being answered now.", registry=r, multiprocess_mode="livesum"
        )
        self.rejected = Counter(
            "assistant_rejected", "Requests turned away before any work: busy (429) or too large (413).",
            ("reason",), registry=r,
        )  # fmt: skip

    def observe_answer(self, answer: Answer, context_tokens: int, answer_tokens: int) -> None:
        for stage, seconds in answer.timings.items():
            self.stages.labels(stage).observe(seconds)
        self.tokens.labels("context").inc(context_tokens)
        self.tokens.labels("answer").inc(answer_tokens)
        if answer.refused:
            outcome = "refused"
        elif answer.fallback:
            outcome = "fallback"
        elif answer.unverified:
            outcome = "unverified"
        else:
            outcome = "answered"
        self.answers.labels(answer.mode.kind, outcome).inc()  # the kind, not the model: few label values

    def exposition(self) -> bytes:
        """The Prometheus text format, over every worker process when there are several."""
        if self.multiprocess_dir is not None:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=str(self.multiprocess_dir))
            return generate_latest(registry)
        return generate_latest(self.registry)
