"""`policy-assistant compare TOPIC`: what each document says on a topic, in year order, with sources.

The parser imports nothing heavy (it is built for every command, `--help` included); `run` imports the
assistant's parts when the command runs.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.build import Parts
    from assistant.compare import Comparison


def add_parser(sub: Any) -> None:
    """The `compare` subcommand of the CLI's subparsers `sub`."""
    p = sub.add_parser(
        "compare",
        help="compare what the documents say on a topic, one entry per document in year order",
        description='Compare what each document says on a topic, e.g. `policy-assistant compare "terugkeer" '
        "--from 2011 --to 2022`: one entry per document in year order (one to three cited sentences, or "
        '"not addressed"), then what changed.',
    )
    p.add_argument("topic", help="the topic or a comparative question, in Dutch or English")
    p.add_argument("--from", dest="year_from", type=int, default=None, help="only documents of this year or later")
    p.add_argument("--to", dest="year_to", type=int, default=None, help="only documents of this year or earlier")
    p.add_argument("--doc", action="append", default=None, help="only this document id (repeatable)")
    p.add_argument("--mode", choices=["extractive", "openai"], help="answer mode (default: ASSISTANT_ANSWER_MODE)")
    p.add_argument("--lang", choices=["nl", "en"], help="answer in this language (default: the topic's)")
    p.add_argument("--json", action="store_true", help="print the comparison as one JSON object")


def run(parts: Parts, args: argparse.Namespace) -> int:
    from index.corpus import resolve_doc_id

    doc_ids = [resolve_doc_id(d, parts.settings.corpus_dir) for d in args.doc] if args.doc else None
    comparison = parts.comparer.compare(
        args.topic,
        doc_ids=doc_ids,
        year_from=args.year_from,
        year_to=args.year_to,
        mode=args.mode,
        language=args.lang,
    )
    if args.json:
        print(json.dumps(comparison.to_json(), ensure_ascii=False, indent=2))
        return 0
    print_comparison(comparison)
    return 0


def print_comparison(comparison: Comparison) -> None:
    """The comparison as the terminal shows it: entries, the "what changed" line, marks, sources."""
    from rich.console import Console
    from rich.text import Text

    from assistant.compare import CHANGED, HEADING, NOT_ADDRESSED, quote_sentences, year_label
    from ui.cli import _clean  # the CLI's one filter of terminal control characters

    console = Console(highlight=False)
    lang = comparison.language
    nl = lang == "nl"
    console.print(Text(_clean(HEADING[lang].format(topic=comparison.topic)), style="bold"))
    for e in comparison.entries:
        console.print()
        console.print(Text(_clean(f"{year_label(e.year, lang)} · {e.title}"), style="bold"))
        if e.addressed:
            console.print(Text("  " + _clean(quote_sentences(e.sentences, lang))))
        else:
            console.print(Text("  " + NOT_ADDRESSED[lang], style="yellow"))
    console.print()
    console.print(Text(_clean(f"{CHANGED[lang]}: {comparison.changed}")))
    if comparison.unverified:
        console.print(
            Text(
                "Niet geverifieerd: de regel verwijst naar geen geldige bron."
                if nl
                else "Unverified: the line cites no valid source.",
                style="red",
            )
        )
    for sentence in comparison.flagged:
        console.print(Text(("Controleer: " if nl else "Check: ") + _clean(sentence), style="red"))
    for notice in comparison.notices:
        console.print(Text(_clean(notice), style="yellow"))
    console.print()
    console.print(Text("Bronnen" if nl else "Sources", style="bold"))
    for s in comparison.sources:
        page = f", p. {s.page}" if s.page else ""
        console.print(Text(_clean(f"  [{s.n}] {s.doc_title} ({s.year or 'n.d.'}{page}) — {s.label(lang)}")))
    console.print(Text(f"mode: {_clean(comparison.mode)} · {comparison.latency_ms:.0f} ms", style="dim"))
