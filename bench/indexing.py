"""Index benchmark: cold full index of the bundled corpus, no-change re-index, size and peak memory.

Run with `make bench` or `.venv/bin/python bench/indexing.py`. Prints figures; asserts nothing.
Targets (issue 2, 2-core machine): cold <= 60 s, no-change <= 3 s, peak RSS <= 1 GB.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.build import build_assistant  # noqa: E402
from assistant.settings import load_settings  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp))
        started = time.perf_counter()
        parts = build_assistant(settings)
        report = parts.indexer.run()
        cold = time.perf_counter() - started

        again = build_assistant(settings)  # a new process would build its parts anew too
        started = time.perf_counter()
        second = again.indexer.run()
        warm = time.perf_counter() - started

        chunks = report.chunks
        tokens = sum(c.token_count for c in chunks)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"documents             {len(report.documents)}")
        print(
            f"chunks                {len(chunks)}  (budget {settings.chunk_tokens}, overlap {settings.chunk_overlap})"
        )
        print(f"tokens (cl100k)       {tokens}")
        print(f"cold full index       {cold:.1f} s   (embedded {report.sync.embedded})")
        print(f"no-change re-index    {warm:.2f} s   (embedded {second.sync.embedded}, changed={second.sync.changed})")
        print(f"peak RSS              {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
