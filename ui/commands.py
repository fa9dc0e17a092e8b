"""The options of `web` and `slack`, defined without importing Gradio or slack-bolt (`serve` defines its
own in the light `ui/service/command.py`).

`ui/cli.py` builds its whole parser from light definitions, so `policy-assistant --help` and `ask` never
load those libraries; each command imports its module only when it runs.
"""

from __future__ import annotations

import argparse
from typing import Any

# Where `slack --http` receives Slack's events; ui/slack/app.py serves the same path (EVENTS_PATH).
SLACK_EVENTS_PATH = "/slack/events"


def add_web_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `web` to `subparsers` (from `ArgumentParser.add_subparsers`)."""
    p: argparse.ArgumentParser = subparsers.add_parser("web", help="serve the chat in the browser (Gradio)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    return p


def add_slack_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `slack` to `subparsers`."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "slack", help="run the Slack bot (Socket Mode by default; --http for Slack's Events API over HTTP)"
    )
    p.add_argument(
        "--http", action="store_true", help=f"receive events over HTTP at {SLACK_EVENTS_PATH} instead of Socket Mode"
    )
    p.add_argument("--host", default="127.0.0.1", help="with --http: address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=3000, help="with --http: port (default: 3000)")
    return p
