"""Start-up benchmark: a fresh data directory to an index and to a first answer, with the prebuilt vectors.

Run with `.venv/bin/python bench/start.py [--runs 5] [--fresh-runs 1] [--full]`. Prints figures; asserts
nothing. Each figure is the wall time of a whole CLI command in a new process, as a user sees it (the
median of `--runs` processes where the command can be repeated, of `--fresh-runs` fresh data directories
where it cannot):

- `index --if-needed` on a fresh data directory (the bundled corpus' prebuilt vectors are used);
- the same again on the now up-to-date data directory (decided from the index pointer, no Chroma);
- `ask "..."` in a new process on that index (answered from the generation's saved copy, no Chroma);
- a fresh data directory to the first answer: `index --if-needed` then `ask "..."`;
- with `--full`: `index --no-prebuilt` on a fresh data directory, i.e. embedding the corpus for real (minutes),
  the figure that holds for a user's own documents.

Commands run with Python's bytecode cache on, as an installed package runs (see `bench/startup.py`).
Targets (issue 12): a fresh machine answers within 20 s; `index` with nothing to do under 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / ".venv" / "bin" / "policy-assistant"
QUESTION = "Hoe lang duurt de screening aan de buitengrens?"


def timed(args: list[str], data_dir: Path) -> tuple[float, str]:
    """Wall seconds of `policy-assistant ARGS` with its own data directory, and its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["ASSISTANT_DATA_DIR"] = str(data_dir)
    started = time.perf_counter()
    done = subprocess.run([str(CLI), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"`policy-assistant {' '.join(args)}` failed ({done.returncode}):\n{done.stderr}")
    return elapsed, (done.stdout + done.stderr).strip()


def median_of(runs: int, args: list[str], data_dir: Path) -> float:
    """Median wall seconds of `runs` new processes of `policy-assistant ARGS` on `data_dir`."""
    return statistics.median(timed(args, data_dir)[0] for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="new processes per repeatable figure (default 5)")
    parser.add_argument("--fresh-runs", type=int, default=1, help="fresh data directories per figure (default 1)")
    parser.add_argument("--full", action="store_true", help="also time a cold index without prebuilt vectors")
    args = parser.parse_args()
    runs, fresh_runs = max(1, args.runs), max(1, args.fresh_runs)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} cores, load average {load} (figures scale with it)")
    with tempfile.TemporaryDirectory() as tmp:
        fresh, out = timed(["index", "--if-needed"], Path(tmp) / "a")
        print(f"index --if-needed, fresh data dir      {fresh:6.2f} s   ({out.splitlines()[-1] if out else ''})")
        again = median_of(runs, ["index", "--if-needed"], Path(tmp) / "a")
        print(f"index --if-needed, up to date          {again:6.2f} s   (median of {runs})")
        ask = median_of(runs, ["ask", QUESTION], Path(tmp) / "a")
        print(f"ask, index ready (new process)         {ask:6.2f} s   (median of {runs})")

        firsts: list[tuple[float, float]] = []
        answer = ""
        for n in range(fresh_runs):
            first_index, _ = timed(["index", "--if-needed"], Path(tmp) / f"b{n}")
            first_ask, answer = timed(["ask", QUESTION], Path(tmp) / f"b{n}")
            firsts.append((first_index, first_ask))
        total = statistics.median(i + a for i, a in firsts)
        first_index, first_ask = min(firsts, key=lambda f: abs(f[0] + f[1] - total))
        print(
            f"fresh data dir to first answer         {total:6.2f} s   "
            f"(index {first_index:.2f} s + ask {first_ask:.2f} s; median of {fresh_runs})"
        )
        print(f"  answer: {answer.splitlines()[0][:100] if answer else '(none)'}")
        if args.full:
            full, out = timed(["index", "--no-prebuilt"], Path(tmp) / "c")
            print(f"index --no-prebuilt, fresh data dir    {full:6.2f} s   ({out.splitlines()[-1] if out else ''})")


if __name__ == "__main__":
    main()
