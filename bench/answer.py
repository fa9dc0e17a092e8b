"""Answer benchmark: extractive answer latency (warm), and the assistant's own time around an LLM call in
`openai` mode.

Run with `.venv/bin/python bench/answer.py` (needs an index: `make index`). Prints figures; asserts nothing.
Targets (issue 3): extractive p50 <= 300 ms warm; assistant overhead <= 100 ms on top of the LLM call.
The cold start of `policy-assistant ask` in a new process is measured by `bench/startup.py`.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.answer import GenerativeAnswerer  # noqa: E402
from assistant.build import build_assistant  # noqa: E402
from assistant.core import Assistant  # noqa: E402
from assistant.llm import LLM  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from assistant.types import Message  # noqa: E402
from eval.gold import load_gold  # noqa: E402
from eval.metrics import percentile  # noqa: E402

REPLY = "Volgens de bronnen geldt dit [1]."


class ScriptedLLM:
    """A model that answers every question with `REPLY` at once, so only the assistant's own work is timed."""

    model = "scripted-model"

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        yield REPLY


class TimedLLM:
    """Wraps an LLM and adds up the time spent waiting for it."""

    def __init__(self, llm: LLM) -> None:
        self.llm = llm
        self.spent = 0.0

    @property
    def model(self) -> str:
        return self.llm.model

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        started = time.perf_counter()
        try:
            yield from self.llm.stream(messages)
        finally:
            self.spent += time.perf_counter() - started


def main() -> None:
    parts = build_assistant(load_settings())
    assistant = parts.assistant
    questions = [i.question for i in load_gold() if not i.history][:60]
    assistant.ask(questions[0])  # warm: model loaded, lexical index built

    latencies = []
    for q in questions:
        started = time.perf_counter()
        assistant.ask(q)
        latencies.append((time.perf_counter() - started) * 1000)
    print(
        f"extractive answer     p50 {statistics.median(latencies):.0f} ms   p95 {percentile(latencies, 95):.0f} ms"
        f"   ({len(latencies)} gold questions, warm)"
    )

    timed = TimedLLM(ScriptedLLM())
    generative = Assistant(
        retriever=parts.retriever,
        extractive=assistant.extractive,
        generative=GenerativeAnswerer(timed),
        llm=timed,
        conversations=None,
        policy=assistant.policy,
        default_mode="openai",
    )
    overheads = []
    for q in questions[:30]:
        timed.spent = 0.0
        started = time.perf_counter()
        generative.ask(q)
        overheads.append((time.perf_counter() - started - timed.spent) * 1000)
    print(
        f"openai-mode overhead  p50 {statistics.median(overheads):.0f} ms   p95 {percentile(overheads, 95):.0f} ms"
        "   (time outside the LLM call: retrieval, prompt, citation check)"
    )


if __name__ == "__main__":
    main()
