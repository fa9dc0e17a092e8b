"""Fresh-clone benchmark: `make run` on a new clone to the web UI served and a first question answered.

Run with `.venv/bin/python bench/fresh.py` from the repository (its committed HEAD is cloned). Issue 12's
target: "fresh clone, dependencies installed: `make run` serves the UI and answers a question within 20 s".
"Dependencies installed" is this repository's `.venv`, linked into the clone (installing the packages is
network time, not ours); the clone has no `data/`, so `make run` builds the index from the bundled corpus
and its prebuilt vectors, then opens the UI on port 7860 (which must be free). One question is then asked
the way a browser asks it (`bench/web.py`). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.web import ask_fn_index, one_request  # noqa: E402

URL = "http://127.0.0.1:7860"
QUESTION = "Hoeveel mensen zijn sinds 2015 via hervestiging in de EU opgevangen?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=180, help="give up after this many seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pa-fresh-") as tmp:
        clone = Path(tmp) / "policy-assistant"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        (clone / ".venv").symlink_to(ROOT / ".venv")
        # The clone's files are newer than the venv's stamp: make would reinstall (and re-point the editable
        # install at the clone). The packages are the same; date the clone's pyproject before the stamp.
        os.utime(clone / "pyproject.toml", (0, 0))
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        started = time.perf_counter()
        proc = subprocess.Popen(
            ["make", "run"],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            served = None
            while served is None:
                if proc.poll() is not None:
                    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                    print(f"make run exited with {proc.returncode}:\n{out[-2000:]}")
                    return 1
                if time.perf_counter() - started > args.timeout:
                    print(f"the UI did not answer within {args.timeout:.0f} s")
                    return 1
                try:
                    if httpx.get(URL, timeout=1).status_code == 200:
                        served = time.perf_counter() - started
                except httpx.HTTPError:
                    time.sleep(0.2)
            fn_index, trigger, _ = ask_fn_index(URL)
            timing = one_request(URL, fn_index, trigger, QUESTION, timeout=args.timeout)
            answered = time.perf_counter() - started
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"fresh clone, `make run`, {os.cpu_count()} cores, load average {load}")
    print(f"  UI served after        {served:6.1f} s")
    if timing.error:
        print(f"  question failed: {timing.error}")
        return 1
    print(f"  first answer after     {answered:6.1f} s   (the question itself: {timing.full_ms or 0:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
