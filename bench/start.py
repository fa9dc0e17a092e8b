"""Start-up benchmark: a fresh data directory to an index and to a first answer, with the prebuilt vectors.

Run with `.venv/bin/python bench/start.py [--full]`. Prints figures; asserts nothing. Each figure is the wall
time of a whole CLI command in a new process, as a user sees it:

- `index --if-needed` on a fresh data directory (the bundled corpus' prebuilt vectors are used);
- the same again on the now up-to-date data directory;
- a fresh data directory to the first answer: `index --if-needed` then `ask "..."`;
- with `--full`: `index --no-prebuilt` on a fresh data directory, i.e. embedding the corpus for real (minutes),
  the figure that holds for a user's own documents.

Targets (issue 12): a fresh machine answers within 20 s; `index` with nothing to do under 1 s.
"""

from __future__ import annotations

import argparse
import os
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
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_DATA_DIR"] = str(data_dir)
    started = time.perf_counter()
    done = subprocess.run([str(CLI), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"`policy-assistant {' '.join(args)}` failed ({done.returncode}):\n{done.stderr}")
    return elapsed, (done.stdout + done.stderr).strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also time a cold index without prebuilt vectors")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh, out = timed(["index", "--if-needed"], Path(tmp) / "a")
        print(f"index --if-needed, fresh data dir      {fresh:6.2f} s   ({out.splitlines()[-1] if out else ''})")
        again, _ = timed(["index", "--if-needed"], Path(tmp) / "a")
        print(f"index --if-needed, up to date          {again:6.2f} s")
        ask, _ = timed(["ask", QUESTION], Path(tmp) / "a")
        print(f"ask, index ready (new process)         {ask:6.2f} s")

        first_index, _ = timed(["index", "--if-needed"], Path(tmp) / "b")
        first_ask, answer = timed(["ask", QUESTION], Path(tmp) / "b")
        print(
            f"fresh data dir to first answer         {first_index + first_ask:6.2f} s   "
            f"(index {first_index:.2f} s + ask {first_ask:.2f} s)"
        )
        print(f"  answer: {answer.splitlines()[0][:100] if answer else '(none)'}")
        if args.full:
            full, out = timed(["index", "--no-prebuilt"], Path(tmp) / "c")
            print(f"index --no-prebuilt, fresh data dir    {full:6.2f} s   ({out.splitlines()[-1] if out else ''})")


if __name__ == "__main__":
    main()
