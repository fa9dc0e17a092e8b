"""The `serve` subcommand: its options, the exposure check, and uvicorn running the app in this process
(`--workers 1`) or in N worker processes that share the listening socket, each built from the settings
passed down to it. Cheap to import: FastAPI and uvicorn load only when `run` runs."""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from errors import InputError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from assistant.build import Parts
    from assistant.settings import Settings

MAX_WORKERS = 64
_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def add_parser(subparsers: Any) -> None:
    """Add the `serve` subcommand to `subparsers` (from `ArgumentParser.add_subparsers`)."""
    p = subparsers.add_parser("serve", help="serve the JSON API and the web UI (one ASGI app)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    p.add_argument("--workers", type=int, default=1, help=f"worker processes, 1 to {MAX_WORKERS} (default: 1)")
    p.add_argument("--no-web", action="store_true", help="serve the API only, without the chat UI at /")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])


def run(parts: Parts, args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    import uvicorn

    from ui.network import api_tokens, check_exposure, check_port, web_users
    from ui.service import logs

    settings = parts.settings
    check_port(args.port)
    if not 1 <= args.workers <= MAX_WORKERS:
        raise InputError(f"--workers {args.workers} is out of range; use 1 to {MAX_WORKERS}")
    web = not args.no_web
    check_exposure(args.host, api=True, web=web, tokens=api_tokens(settings), users=web_users(settings))
    logs.configure(args.log_level)
    print(
        f"policy-assistant serve on http://{args.host}:{args.port} (API under /v1, docs at /docs"
        + (", web UI at /)" if web else ")"),
        file=sys.stderr,
    )
    common: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_config": None,
        "access_log": False,
        "timeout_keep_alive": 30,
    }
    if args.workers == 1:
        from ui.service.app import create_service

        uvicorn.run(create_service(parts, web=web), **common)
        return 0
    _serve_workers(settings, args.workers, web=web, log_level=args.log_level, common=common)
    return 0


def _serve_workers(settings: Settings, workers: int, *, web: bool, log_level: str, common: dict[str, Any]) -> None:
    """Run `workers` processes on one socket, each with its own app built by `worker_app`."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    if settings.embed_threads is None:
        # The cores shared out between the workers' embedders: one short question is embedded faster by a
        # single thread than by threads that wait on each other (measured: 40 answers/s against 30).
        settings = settings.model_copy(update={"embed_threads": max(1, (os.cpu_count() or 1) // workers)})
    given = os.environ.get(_METRICS_DIR)
    metrics_dir = Path(given) if given else Path(tempfile.mkdtemp(prefix="policy-assistant-metrics-"))
    # prometheus_client keeps values that several processes add up only when this variable names their
    # directory, read when the library is imported and for every metric: there is no argument for it. The
    # workers (new processes, started below) inherit it; the directory itself reaches them as an argument.
    os.environ[_METRICS_DIR] = str(metrics_dir)
    factory = functools.partial(worker_app, settings, web=web, log_level=log_level, metrics_dir=metrics_dir)
    try:
        config = uvicorn.Config(factory, factory=True, workers=workers, **common)
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    finally:
        if not given:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def worker_app(settings: Settings, *, web: bool, log_level: str, metrics_dir: Path) -> FastAPI:
    """The app of one worker process of `serve --workers N` (picklable through `functools.partial`)."""
    from assistant.build import build_assistant
    from ui.service import logs
    from ui.service.app import create_service
    from ui.service.metrics import Metrics

    logs.configure(log_level)  # a new process: its logging starts unconfigured
    end_with_parent()
    return create_service(build_assistant(settings), web=web, metrics=Metrics(metrics_dir))


def end_with_parent(poll_seconds: float = 0.5, grace_seconds: float = 10.0) -> threading.Thread:
    """Stop this worker when its master goes, also by `kill -9` (which the master cannot pass on): a
    worker left behind would keep the port, and the next `serve` fail with "address already in use".
    The parent's id is polled, which works everywhere; the worker then stops as on SIGTERM, and exits
    outright when open connections keep it beyond `grace_seconds`."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful stop: open requests are finished
        time.sleep(grace_seconds)
        os._exit(1)

    thread = threading.Thread(target=watch, daemon=True, name="end-with-parent")
    thread.start()
    return thread
