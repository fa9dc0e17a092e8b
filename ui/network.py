"""Who may reach a server the interfaces start: one policy for `web`, `serve` and `slack --http`.

On 127.0.0.1 only this machine's users reach the server, so nothing more is needed. Bound to any other
address, the API needs bearer tokens (ASSISTANT_API_TOKENS) and the web UI a login (ASSISTANT_WEB_USERS);
without them the server does not start. `slack --http` may bind anywhere (Slack has to reach it): every
request it takes is checked against the app's signing secret, which it always requires.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from assistant.settings import Settings
from errors import ConfigError, InputError

USERS_SETTING = "ASSISTANT_WEB_USERS"
TOKENS_SETTING = "ASSISTANT_API_TOKENS"


def is_loopback(host: str) -> bool:
    """`host` is reachable from this machine only (`localhost`, 127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(port: int, option: str = "--port") -> int:
    """`port` when it is a TCP port number; `InputError` otherwise."""
    if not 1 <= port <= 65535:
        raise InputError(f"{option} {port} is out of range; use 1 to 65535")
    return port


def parse_tokens(raw: str | None) -> list[str]:
    """`token1,token2` (the `api_tokens` setting) as a list; blanks are ignored."""
    return [t.strip() for t in (raw or "").split(",") if t.strip()]


def parse_users(raw: str | None) -> list[tuple[str, str]]:
    """`user:password,user2:password2` (the `web_users` setting) as a list of pairs."""
    users = []
    for item in filter(None, (part.strip() for part in (raw or "").split(","))):
        name, sep, password = item.partition(":")
        if not sep or not name or not password:
            raise InputError(f"{USERS_SETTING}: {name or item!r} needs the form user:password (comma-separated)")
        users.append((name, password))
    return users


def api_tokens(settings: Settings) -> list[str]:
    """The API bearer tokens of the `api_tokens` setting (ASSISTANT_API_TOKENS)."""
    return parse_tokens(settings.api_tokens.get_secret_value() if settings.api_tokens else None)


def web_users(settings: Settings) -> list[tuple[str, str]]:
    """The web logins of the `web_users` setting (ASSISTANT_WEB_USERS); `InputError` when one is malformed."""
    return parse_users(settings.web_users.get_secret_value() if settings.web_users else None)


def check_exposure(
    host: str,
    *,
    api: bool = False,
    web: bool = False,
    tokens: Sequence[str] = (),
    users: Sequence[tuple[str, str]] = (),
) -> None:
    """Refuse (`ConfigError`) to serve the API without tokens, or the web UI without a login, on an address
    other machines can reach."""
    if is_loopback(host):
        return
    if api and not tokens:
        raise ConfigError(
            f"serving on {host} needs API tokens: set {TOKENS_SETTING}=<long random token>[,...] "
            "(clients send `Authorization: Bearer <token>`), or bind to 127.0.0.1"
        )
    if web and not users:
        hint = "or add --no-web to serve the API only" if api else "or bind to 127.0.0.1"
        raise ConfigError(
            f"serving the web UI on {host} needs a login: set {USERS_SETTING}=user:password[,...], {hint}"
        )
