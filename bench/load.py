"""Load benchmark: N concurrent clients against `POST /v1/ask` of `policy-assistant serve` (extractive mode).

Starts the service on a free loopback port (unless `--url` points at a running one), waits until `/readyz`
says ready, then lets `--clients` clients ask questions back to back for `--duration` seconds. Questions
are the gold set's standalone questions in a shuffled order, so they repeat once the set is used up and the
embedding cache sees those repeats; `--unique` makes every question new (a numbered prefix), as when staff
ask different things, while the sentence vectors stay warm; `--no-cache` measures without any cache.
Prints throughput, latency percentiles and errors; asserts nothing. Target (issue 7, this 2-core machine):
0 errors and p95 <= 1.5 s at 50 clients.

    .venv/bin/python bench/load.py [--clients 50] [--duration 30] [--workers 1] [--unique] [--no-cache] [--url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.gold import load_gold  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_service(workers: int, cache: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ, ASSISTANT_ANSWER_MODE="extractive")
    if not cache:
        env["ASSISTANT_EMBED_CACHE_SIZE"] = "0"
    command = [str(ROOT / ".venv/bin/policy-assistant"), "serve", "--no-web", "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, f"http://127.0.0.1:{port}"


def wait_ready(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                # Readiness says the stores answer; one question loads the model and the BM25 index.
                httpx.post(f"{url}/v1/ask", json={"question": "Wat is het migratiepact?"}, timeout=60)
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the service at {url} did not become ready within {timeout:.0f} s (is the index built?)")


async def client(
    http: httpx.AsyncClient,
    questions: list[str],
    deadline: float,
    latencies: list[float],
    statuses: Counter[str],
    unique: bool,
) -> None:
    rng = random.Random()
    while time.monotonic() < deadline:
        question = rng.choice(questions)
        if unique:
            question = f"Vraag {rng.randrange(10**9)}: {question}"
        started = time.perf_counter()
        try:
            response = await http.post("/v1/ask", json={"question": question})
            statuses[str(response.status_code)] += 1
            if response.status_code == 200:
                latencies.append(time.perf_counter() - started)
        except httpx.HTTPError as err:
            statuses[type(err).__name__] += 1


async def run(url: str, clients: int, duration: float, questions: list[str], unique: bool) -> None:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        started = time.monotonic()
        deadline = started + duration
        await asyncio.gather(
            *(client(http, questions, deadline, latencies, statuses, unique) for _ in range(clients))
        )
        elapsed = time.monotonic() - started
    ok = len(latencies)
    errors = sum(n for status, n in statuses.items() if status != "200")
    print(f"clients {clients}, {elapsed:.1f} s, {ok} answers, {errors} errors {dict(statuses)}")
    print(f"throughput {ok / elapsed:.1f} answers/s")
    print(
        "latency p50 {:.0f} ms, p95 {:.0f} ms, p99 {:.0f} ms, max {:.0f} ms".format(
            *(percentile(latencies, q) * 1000 for q in (0.5, 0.95, 0.99)), max(latencies, default=0) * 1000
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load (default 30)")
    parser.add_argument("--workers", type=int, default=1, help="service worker processes (default 1)")
    parser.add_argument("--no-cache", action="store_true", help="serve without the embedding cache")
    parser.add_argument("--unique", action="store_true", help="every question new (no repeats for the cache)")
    parser.add_argument("--url", help="use a running service instead of starting one")
    args = parser.parse_args()

    questions = [item.question for item in load_gold() if not item.history]
    random.Random(7).shuffle(questions)
    process = None
    url = args.url
    if url is None:
        process, url = start_service(args.workers, cache=not args.no_cache)
    try:
        wait_ready(url)
        cache = "off" if args.no_cache else "on"
        asked = "every question new" if args.unique else f"{len(questions)} distinct questions, repeated"
        print(f"service {url}: workers {args.workers}, embedding cache {cache}, {asked}")
        asyncio.run(run(url, args.clients, args.duration, questions, args.unique))
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
