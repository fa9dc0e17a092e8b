"""Credentials out of what is shown or logged: the user-info of URLs, and HTTP client loggers kept quiet.

`ASSISTANT_OPENAI_BASE_URL=http://user:pw@host/v1` is a valid way to reach a proxy with basic auth; the URL
then travels into error messages, notices and logs. Everything that shows or logs a URL passes it through
`redact` first.
"""

from __future__ import annotations

import logging
import re

# scheme://user-info@ — the user-info runs to the last "@" before the path, so a password with an unencoded
# "@" is blanked whole, not just up to its first "@".
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/?#\s@]*(?:@[^/?#\s@]*)*@")
REDACTED = "***"
# Loggers that write every request URL (user-info included) at INFO; openai 3 uses httpx2 and httpcore2.
HTTP_LOGGERS = ("httpx", "httpx2", "httpcore", "httpcore2", "openai", "urllib3")


def redact(text: object) -> str:
    """`text` with the user name and password of every URL in it replaced by `***`."""
    return _USERINFO.sub(rf"\1{REDACTED}@", str(text))


def quiet_http_loggers(level: int = logging.WARNING) -> None:
    """Raise the HTTP client loggers to `level`: at INFO they log each request's URL, credentials and all."""
    for name in HTTP_LOGGERS:
        logging.getLogger(name).setLevel(level)
