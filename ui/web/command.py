"""`policy-assistant web`: serve the chat with uvicorn until interrupted (options: `ui.commands`).

Importing this module loads nothing heavy; `run` imports Gradio and uvicorn when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ui.network import check_exposure, check_port, web_users

if TYPE_CHECKING:
    from assistant.build import Parts


def run(parts: Parts, args: argparse.Namespace) -> int:
    """Serve the web UI until interrupted; beyond 127.0.0.1 only with a login (ASSISTANT_WEB_USERS)."""
    check_port(args.port)
    users = web_users(parts.settings)
    check_exposure(args.host, web=True, users=users)

    import uvicorn

    from ui.web.app import create_app

    app = create_app(parts, users)
    print(f"policy-assistant web on http://{args.host}:{args.port}", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
