"""Web UI benchmark: time to the first streamed answer piece and to the full answer (extractive), one client at
a time and with 10 concurrent browser-like clients, over loopback HTTP.

Run with `.venv/bin/python bench/web.py` (needs an index: `make index`). The app runs in this process on a
free loopback port; each client speaks Gradio's own browser protocol (POST /gradio_api/queue/join, then the
server-sent events of /gradio_api/queue/data) with its own session. Bounded: --requests per phase and
--timeout seconds per request. Prints figures; asserts nothing.
Targets (issue 5): first piece p50 <= 500 ms; no errors with 10 concurrent clients.

"First piece" is the second `process_generating` event of a request: the first carries the question and a
placeholder, the next one the first text from `Assistant.ask_stream`.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from assistant.build import build_assistant  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from ui.web.app import create_app  # noqa: E402

QUESTIONS = (
    "Hoeveel mensen zijn sinds 2015 via hervestiging in de EU opgevangen?",
    "Wat is het solidariteitsmechanisme in het migratiepact?",
    "How long may the screening at the external border take?",
    "Hoeveel asielaanvragen werden in 2019 ingediend?",
    "What is the purpose of the screening before entry?",
)


@dataclass
class Timing:
    first_ms: float | None
    full_ms: float | None
    error: str | None = None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ask_fn_index(base: str) -> tuple[int, int, list[int]]:
    config = httpx.get(f"{base}/config", timeout=10).json()
    for i, dep in enumerate(config["dependencies"]):
        if dep.get("api_name") == "ask":
            return dep.get("id", i), dep["targets"][0][0], dep["inputs"]
    raise SystemExit("no `ask` endpoint in the app's config")


def one_request(base: str, fn_index: int, trigger: int, question: str, timeout: float) -> Timing:
    """One question as a browser sends it: join the queue, read the event stream until the answer is complete."""
    session = uuid.uuid4().hex[:11]
    # inputs: question, turns (state, kept by the server), conversation id, answer language, documents, ui
    # language, who is asking (state: the login, empty without one)
    payload = {
        "data": [question, None, "", "auto", [], None, None],
        "event_data": None,
        "fn_index": fn_index,
        "trigger_id": trigger,
        "session_hash": session,
    }
    started = time.perf_counter()
    first: float | None = None
    try:
        with httpx.Client(timeout=timeout) as client:
            joined = client.post(f"{base}/gradio_api/queue/join", json=payload)
            joined.raise_for_status()
            generating = 0
            with client.stream("GET", f"{base}/gradio_api/queue/data", params={"session_hash": session}) as events:
                for line in events.iter_lines():
                    if time.perf_counter() - started > timeout:
                        return Timing(first, None, "timeout")
                    if not line.startswith("data:"):
                        continue
                    message = json.loads(line[5:])
                    kind = message.get("msg")
                    if kind == "process_generating":
                        generating += 1
                        if generating == 2 and first is None:
                            first = (time.perf_counter() - started) * 1000
                    elif kind == "process_completed":
                        full = (time.perf_counter() - started) * 1000
                        if not message.get("success", False):
                            return Timing(first, full, str(message.get("output", {}).get("error")))
                        return Timing(first if first is not None else full, full)
        return Timing(first, None, "stream ended before the answer was complete")
    except httpx.HTTPError as err:
        return Timing(first, None, f"{type(err).__name__}: {err}")


def report(name: str, timings: list[Timing], wall: float) -> None:
    ok = [t for t in timings if t.error is None and t.full_ms is not None]
    errors = [t.error for t in timings if t.error is not None]
    print(f"\n{name}: {len(timings)} requests in {wall:.1f} s, {len(errors)} errors")
    if ok:
        firsts = [t.first_ms for t in ok if t.first_ms is not None]
        fulls = [t.full_ms for t in ok if t.full_ms is not None]
        print(f"  first piece  p50 {statistics.median(firsts):7.0f} ms   p95 {percentile(firsts, 0.95):7.0f} ms")
        print(f"  full answer  p50 {statistics.median(fulls):7.0f} ms   p95 {percentile(fulls, 0.95):7.0f} ms")
    for error in sorted(set(e for e in errors if e))[:5]:
        print(f"  error: {error}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20, help="requests per phase (default 20, max 200)")
    parser.add_argument("--concurrency", type=int, default=10, help="concurrent clients (default 10, max 50)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request (default 60)")
    args = parser.parse_args()
    requests = max(1, min(args.requests, 200))
    concurrency = max(1, min(args.concurrency, 50))

    components = build_assistant(load_settings())
    status = components.store.status()
    if not status.chunks:
        raise SystemExit("the index is empty: run `make index` first")
    print(f"index: {status.documents} documents, {status.chunks} chunks; mode {components.assistant.mode}")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(components), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        fn_index, trigger, _ = ask_fn_index(base)
        one_request(base, fn_index, trigger, QUESTIONS[0], args.timeout)  # warm-up: model, BM25, caches

        started = time.perf_counter()
        sequential = [
            one_request(base, fn_index, trigger, QUESTIONS[i % len(QUESTIONS)], args.timeout) for i in range(requests)
        ]
        report("one client at a time", sequential, time.perf_counter() - started)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            concurrent = list(
                pool.map(
                    lambda i: one_request(base, fn_index, trigger, QUESTIONS[i % len(QUESTIONS)], args.timeout),
                    range(requests),
                )
            )
        report(f"{concurrency} concurrent clients", concurrent, time.perf_counter() - started)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
