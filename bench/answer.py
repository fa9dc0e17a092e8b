"""Answer benchmark: extractive answer latency (warm), the assistant's own time around an LLM call in
`openai` mode, and the cold start of `policy-assistant ask`.

Run with `.venv/bin/python bench/answer.py` (needs an index: `make index`). Prints figures; asserts nothing.
Targets (issue 3): extractive p50 <= 300 ms warm; assistant overhead <= 100 ms on top of the LLM call;
`ask` cold start <= 4 s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.answer import GenerativeAnswerer  # noqa: E402
from assistant.build import build_components  # noqa: E402
from assistant.core import Assistant  # noqa: E402
from assistant.llm import OpenAIChat  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from assistant.types import Message  # noqa: E402
from eval.gold import load_gold  # noqa: E402
from tests.assistant.openai_server import ScriptedOpenAIServer  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


class TimedLLM:
    """Wraps an LLM and adds up the time spent waiting for it."""

    def __init__(self, llm: OpenAIChat) -> None:
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
    settings = load_settings()
    components = build_components(settings)
    assistant = components.assistant
    questions = [i.question for i in load_gold() if not i.history][:60]
    assistant.ask(questions[0])  # warm: model loaded, lexical index built

    latencies = []
    for q in questions:
        started = time.perf_counter()
        assistant.ask(q)
        latencies.append((time.perf_counter() - started) * 1000)
    print(
        f"extractive answer     p50 {statistics.median(latencies):.0f} ms   p95 {percentile(latencies, 0.95):.0f} ms"
        f"   ({len(latencies)} gold questions, warm)"
    )

    with ScriptedOpenAIServer() as server:
        timed = TimedLLM(OpenAIChat(server.base_url, "scripted-model", timeout=10))
        generative = Assistant(
            components.retriever,
            assistant.extractive,
            GenerativeAnswerer(timed),
            timed,
            None,
            assistant.policy,
            default_mode="openai",
        )
        overheads = []
        for q in questions[:30]:
            server.reply_text("Volgens de bronnen geldt dit [1].")
            timed.spent = 0.0
            started = time.perf_counter()
            generative.ask(q)
            overheads.append((time.perf_counter() - started - timed.spent) * 1000)
    print(
        f"openai-mode overhead  p50 {statistics.median(overheads):.0f} ms   p95 {percentile(overheads, 0.95):.0f} ms"
        "   (time outside the LLM call: retrieval, prompt, citation check)"
    )

    cold = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(
            [str(ROOT / ".venv/bin/policy-assistant"), "ask", questions[1], "--json"],
            check=True,
            capture_output=True,
            cwd=Path.cwd(),
        )
        cold.append(time.perf_counter() - started)
    print(f"ask cold start        {min(cold):.2f} s best, {statistics.median(cold):.2f} s median (new process)")


if __name__ == "__main__":
    main()
