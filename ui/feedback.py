"""`policy-assistant feedback`: the review items on the command line (`list`, `stats`, `export --gold/--csv`),
and the review parts every interface opens the same way (`open_review`, `start_retention`).

Cheap to import (the parser is built for `--help`); the stores load when a command runs.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from assistant.build import Parts
    from storage.retention import Expiring, RetentionSchedule
    from storage.review import ItemFilter, ReviewItem, ReviewStore, WeekStats
    from ui.gold_candidates import Candidate

_DURATION = re.compile(r"(\d{1,5})\s*([hdw])")
_SECONDS = {"h": 3600, "d": 86400, "w": 7 * 86400}
# Cells a spreadsheet would run as a formula: a question is staff's text, never a formula.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def add_parser(subparsers: Any) -> None:
    """Add `feedback` and its subcommands to `subparsers` (from `ArgumentParser.add_subparsers`)."""
    p = subparsers.add_parser("feedback", help="the rated, refused and unverified answers, for review")
    sub = p.add_subparsers(dest="feedback_command", required=True)

    def filters(q: argparse.ArgumentParser, status: str) -> None:
        q.add_argument("--since", help="from this day (YYYY-MM-DD, UTC) or this long ago (24h, 7d, 4w)")
        q.add_argument("--until", help="up to and including this day (YYYY-MM-DD, UTC)")
        q.add_argument("--channel", choices=["web", "slack", "api", "cli"], help="only answers given here")
        q.add_argument(
            "--rating",
            choices=["up", "down", "unrated", "any"],
            default="any",
            help="only these ratings (unrated: answers with an issue nobody rated; default: any)",
        )
        q.add_argument("--verdict", choices=["answered", "partial", "not_covered"], help="only this verdict")
        q.add_argument("--lang", choices=["nl", "en"], help="only answers in this language")
        q.add_argument(
            "--status", choices=["open", "reviewed", "all"], default=status, help=f"review status (default: {status})"
        )

    p_list = sub.add_parser("list", help="the review items, newest first")
    filters(p_list, "all")
    p_list.add_argument("--limit", type=int, default=50, help="at most this many (default: 50)")
    p_list.add_argument("--json", action="store_true", help="print JSON (one object per item, in a list)")

    p_stats = sub.add_parser("stats", help="per week and channel: questions, ratings, refusals, latency")
    p_stats.add_argument("--weeks", type=int, default=12, help="the last N weeks (default: 12)")
    p_stats.add_argument("--json", action="store_true", help="print JSON")

    p_export = sub.add_parser("export", help="reviewed items as gold candidates (--gold) or all items as CSV")
    target = p_export.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--gold", type=Path, metavar="FILE", help="reviewed items as gold items (JSONL that `eval --gold` reads)"
    )
    target.add_argument("--csv", type=Path, metavar="FILE", help="the items as CSV (`-`: standard output)")
    filters(p_export, "all")


def run(parts: Parts, args: argparse.Namespace) -> int:
    """Run `policy-assistant feedback <command>`."""
    from errors import InputError

    command = args.feedback_command
    if command == "stats":
        return _stats(parts, args)
    store = open_review(parts)
    filters = _filters(args)
    if command == "list":
        if not 1 <= args.limit <= 500:
            raise InputError(f"--limit {args.limit} is out of range; use 1 to 500")
        items = store.items(filters, limit=args.limit)
        if args.json:
            print(json.dumps([item_json(i) for i in items], ensure_ascii=False, indent=2))
        else:
            _print_items(items)
        return 0
    items = list(_all_items(store, filters))
    if args.gold:
        return _export_gold(parts, store, items, args.gold)
    if str(args.csv) == "-":
        write_csv(items, sys.stdout)
    else:
        try:
            with args.csv.open("w", encoding="utf-8", newline="") as out:
                write_csv(items, out)
        except OSError as err:
            raise InputError(f"cannot write {args.csv}: {err.strerror}; check the path") from err
        print(f"wrote {len(items)} items to {args.csv}", file=sys.stderr)
    return 0


# ------------------------------------------------------------------------------------------ review parts


def open_review(parts: Parts) -> ReviewStore:
    """The review store over the parts' conversations and feedback."""
    from storage.review import ReviewStore

    return ReviewStore(parts.conversations, parts.feedback)


def retention_stores(parts: Parts) -> dict[str, Expiring]:
    """Every store the retention setting deletes from, by what it holds."""
    stores: dict[str, Expiring] = {
        "review notes": open_review(parts),
        "ratings": parts.feedback,
        "turns": parts.conversations,
    }
    answers = parts.settings.answers_path  # the service's issued answers (ui/service/api.py)
    if parts.database is not None or answers.exists():
        from storage.answers import AnswerStore

        stores["issued answers"] = AnswerStore(parts.database or answers)
    return stores


def start_retention(parts: Parts) -> RetentionSchedule | None:
    """With the retention setting, delete what is older at once (in the background) and daily after that."""
    days = parts.settings.retention_days
    if not days:
        return None
    from storage.retention import RetentionSchedule

    return RetentionSchedule(days, lambda: retention_stores(parts)).start()


# ---------------------------------------------------------------------------------------------- output


def item_json(item: ReviewItem) -> dict[str, Any]:
    """One item as `feedback list --json` prints it."""
    return {
        "key": item.key,
        "created": _when(item.created),
        "channel": item.channel,
        "rating": item.rating,
        "comment": item.comment,
        "issues": list(item.issues),
        "review": (
            {"reviewer": item.review.reviewer, "note": item.review.note, "created": _when(item.review.created)}
            if item.review
            else None
        ),
        **item.answer.to_json(),
    }


def write_csv(items: list[ReviewItem], out: TextIO) -> None:
    """The items as CSV, one row each."""
    writer = csv.writer(out)
    writer.writerow(
        [
            "key", "created", "channel", "language", "mode", "verdict", "issues", "rating", "comment",
            "question", "answer", "sources", "latency_ms", "reviewer", "reviewed", "note",
        ]
    )  # fmt: skip
    for item in items:
        a, r = item.answer, item.review
        sources = "; ".join(f"[{s.n}] {s.doc_id} {s.label(a.language)}" for s in a.sources)
        cells = [
            item.key, _when(item.created), item.channel, a.language, str(a.mode), a.coverage, " ".join(item.issues),
            item.rating or "", item.comment, a.question, a.text, sources, round(a.latency_ms),
            r.reviewer if r else "", _when(r.created) if r else "", r.note if r else "",
        ]  # fmt: skip
        writer.writerow([_cell(c) for c in cells])


def _cell(value: object) -> object:
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA) else value


def _print_items(items: list[ReviewItem]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    if not items:
        print("no items match")
        return
    table = Table("key", "when (UTC)", "channel", "lang", "verdict / issues", "rating", "question", "comment", "review")
    for item in items:
        cells = (
            item.key,
            _when(item.created)[:16].replace("T", " "),
            item.channel,
            item.answer.language,
            " ".join(item.issues) or item.answer.coverage,
            {"up": "👍", "down": "👎"}.get(item.rating or "", ""),
            _shorten(item.answer.question, 70),
            _shorten(item.comment, 40),
            f"✓ {item.review.reviewer}" if item.review else "",
        )
        table.add_row(*(Text(_printable(c)) for c in cells))  # as text: a question is no markup
    Console().print(table)


def _stats(parts: Parts, args: argparse.Namespace) -> int:
    from errors import InputError

    if not 1 <= args.weeks <= 520:
        raise InputError(f"--weeks {args.weeks} is out of range; use 1 to 520")
    stats = open_review(parts).overview(time.time() - args.weeks * 7 * 86400)
    if args.json:
        print(json.dumps([stats_json(s) for s in stats], ensure_ascii=False, indent=2))
        return 0
    if not stats:
        print(f"no answers in the last {args.weeks} weeks")
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table("week", "channel", "asked", "rated", "👍", "👎", "not covered", "partial", "median latency")
    for s in stats:
        table.add_row(
            s.week.isoformat(), s.channel, str(s.asked), _share(s.share_rated), _share(s.share_up),
            _share(s.share_down), _share(s.refusal_rate), _share(s.partial_rate),
            f"{s.median_latency_ms:.0f} ms" if s.median_latency_ms is not None else "–",
        )  # fmt: skip
    Console().print(table)
    return 0


def stats_json(s: WeekStats) -> dict[str, Any]:
    """One week and channel of the overview, as `feedback stats --json` prints it."""
    return {
        "week": s.week.isoformat(),
        "channel": s.channel,
        "asked": s.asked,
        "rated": s.rated,
        "up": s.up,
        "down": s.down,
        "not_covered": s.not_covered,
        "partial": s.partial,
        "share_rated": s.share_rated,
        "share_up": s.share_up,
        "share_down": s.share_down,
        "refusal_rate": s.refusal_rate,
        "partial_rate": s.partial_rate,
        "median_latency_ms": s.median_latency_ms,
    }


def _export_gold(parts: Parts, store: ReviewStore, items: list[ReviewItem], path: Path) -> int:
    """Reviewed items as gold items: the candidate a reviewer saved for it, else the pre-filled draft; items
    that break the gold set's rules are left out and named."""
    from errors import InputError
    from eval.gold import DEFAULT_GOLD
    from ui.gold_candidates import CandidateFile, Corpus, draft, validate

    reviewed = [i for i in items if i.review is not None]
    corpus = Corpus(parts.settings.corpus_dir)
    candidates = CandidateFile(parts.settings.candidates_path, sorted(DEFAULT_GOLD.parent.glob("*.jsonl")))
    saved = {str(c.get("origin")): c for c in candidates.items() if c.get("origin")}
    taken = {i for i in candidates.taken() if i not in {str(c.get("id")) for c in saved.values()}}
    lines, skipped = [], []
    for item in reviewed:
        if item.key in saved:
            candidate = candidate_of(saved[item.key])
        else:
            candidate = draft(item, store.earlier_turns(item), corpus, taken)
        checked, problems = validate(candidate, corpus, taken)
        if problems:
            skipped.append(f"{item.key}: {'; '.join(problems)}")
            continue
        taken.add(checked.id)
        lines.append(json.dumps(checked.to_json(), ensure_ascii=False))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot write {path}: {err.strerror}; check the path") from err
    print(f"wrote {len(lines)} of {len(reviewed)} reviewed items to {path}", file=sys.stderr)
    for line in skipped:
        print(f"  left out {_printable(line)}", file=sys.stderr)
    return 0


def candidate_of(raw: dict[str, Any]) -> Candidate:
    """A saved candidate (a line of the candidates file) read back as a `Candidate`."""
    from ui.gold_candidates import Candidate, Evidence

    def listed(value: Any) -> list[str]:
        return [] if value is None else [str(v) for v in (value if isinstance(value, list) else [value])]

    docs, sections, quotes = listed(raw.get("doc")), listed(raw.get("section")), listed(raw.get("evidence"))
    return Candidate(
        id=str(raw.get("id", "")),
        lang=str(raw.get("lang", "")),
        question=str(raw.get("question", "")),
        answer=str(raw.get("answer", "")),
        kind=str(raw.get("kind", "")),
        key_facts=tuple(listed(raw.get("key_facts"))),
        evidence=tuple(Evidence(d, s, q) for d, s, q in zip(docs, sections, quotes, strict=False)),
        coverage=str(raw.get("coverage", "")),
        missing=tuple(listed(raw.get("missing"))),
        absent_terms=tuple(listed(raw.get("absent_terms"))),
        history=tuple((str(t.get("role")), str(t.get("content"))) for t in raw.get("history") or ()),
        origin=str(raw.get("origin", "")),
    )


# ------------------------------------------------------------------------------------------------ input


def _filters(args: argparse.Namespace) -> ItemFilter:
    from storage.review import ItemFilter

    return ItemFilter(
        channel=args.channel,
        since=parse_since(args.since),
        until=_day(args.until, "--until", end=True) if args.until else None,
        rating=args.rating,
        verdict=args.verdict,
        language=args.lang,
        status=args.status,
    )


def parse_since(value: str | None, now: float | None = None) -> float | None:
    """`--since`: a day (YYYY-MM-DD, UTC) or a time ago (`24h`, `7d`, `4w`)."""
    if not value:
        return None
    match = _DURATION.fullmatch(value.strip())
    if match:
        return (now or time.time()) - int(match.group(1)) * _SECONDS[match.group(2)]
    return _day(value, "--since")


def parse_day(value: str, name: str, *, end: bool = False) -> float | None:
    """A `YYYY-MM-DD` day (UTC) as a time: its start, or with `end` the start of the next day; None if empty."""
    from errors import InputError

    if not value.strip():
        return None
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError as err:
        raise InputError(f"{name} {value!r} is not a date; use YYYY-MM-DD") from err
    return dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time(), dt.UTC).timestamp()


def _day(value: str, option: str, *, end: bool = False) -> float | None:
    return parse_day(value, option, end=end)


def _all_items(store: ReviewStore, filters: ItemFilter) -> Any:
    offset = 0
    while True:
        batch = store.items(filters, limit=500, offset=offset)
        yield from batch
        if len(batch) < 500:
            return
        offset += 500


def _when(created: float) -> str:
    return dt.datetime.fromtimestamp(created, dt.UTC).isoformat(timespec="seconds")


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _printable(text: object) -> str:
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", "", str(text))
