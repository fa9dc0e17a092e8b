"""A real Chroma server (`chroma run`) on 127.0.0.1 for tests, started and stopped by the test."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _chroma_executable() -> str:
    script = Path(sys.executable).parent / "chroma"
    exe = str(script) if script.exists() else shutil.which("chroma")
    assert exe, "the `chroma` executable is not installed in this environment"
    return exe


@dataclass
class ChromaServer:
    path: Path
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, timeout: float = 30.0) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    _chroma_executable(),
                    "run",
                    "--path",
                    str(self.path),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"chroma run exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                client = chromadb.HttpClient(
                    host="127.0.0.1", port=self.port, settings=ChromaSettings(anonymized_telemetry=False)
                )
                client.heartbeat()
                return
            except Exception as err:
                if time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(
                        f"chroma run did not answer within {timeout:g}s ({err}):\n{self.tail()}"
                    ) from err
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
