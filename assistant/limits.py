"""How much one request may ask for: the number of sources or passages (`k`) and of filter values, one set of
limits for the CLI, the API, the web UI and the Slack bot. Cheap to import (no third-party packages)."""

from __future__ import annotations

from collections.abc import Sequence

from errors import InputError

MAX_SOURCES = 20  # sources of one answer (`ask --k`, `/v1/ask` k)
MAX_PASSAGES = 50  # passages of one search (`search --k`, `/v1/search` k)
MAX_FILTER_VALUES = 20  # document ids or years in one filter
YEARS = (1900, 2100)  # the years a document filter may name


def check_k(k: int | None, *, most: int, option: str = "--k") -> int | None:
    """`k` when it is None (the default applies) or 1 to `most`; `InputError` naming `option` otherwise."""
    if k is not None and not 1 <= k <= most:
        named = f"{option} {k}" if option else str(k)
        raise InputError(f"{named} is out of range; use 1 to {most}")
    return k


def check_years(years: Sequence[int] | None, *, option: str = "--year") -> list[int] | None:
    """`years` when each is plausible and there are at most `MAX_FILTER_VALUES`; `InputError` otherwise."""
    if years is None:
        return None
    if len(years) > MAX_FILTER_VALUES:
        raise InputError(f"{len(years)} years given; filter on at most {MAX_FILTER_VALUES}")
    low, high = YEARS
    for year in years:
        if not low <= year <= high:
            named = f"{option} {year}" if option else str(year)
            raise InputError(f"{named} is not a plausible year; use {low} to {high}")
    return list(years)
