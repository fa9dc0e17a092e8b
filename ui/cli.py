"""`policy-assistant`: the command line (index, search, docs, ask, chat, eval, web, slack)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

MAX_QUERY_CHARS = 2000


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policy-assistant",
        description="Answers questions about EU migration and asylum policy from official documents.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p_index = sub.add_parser("index", help="build or update the index (bundled corpus plus your own files)")
    p_index.add_argument("paths", nargs="*", type=Path, help="extra .txt/.md/.pdf files or folders to add")
    p_index.add_argument("--rebuild", action="store_true", help="re-embed everything from scratch")
    p_index.add_argument("--if-needed", action="store_true", help="quiet when the index is already up to date")

    p_search = sub.add_parser("search", help="find the passages closest to a question")
    p_search.add_argument("query", nargs="?", help="the question; omit it for an interactive prompt")
    p_search.add_argument("--k", type=int, default=None, help="number of passages (default: ASSISTANT_SEARCH_K)")
    p_search.add_argument("--doc", action="append", default=None, help="only this document id (repeatable)")
    p_search.add_argument("--json", action="store_true", help="print JSON")

    p_docs = sub.add_parser("docs", help="list the indexed documents")
    p_docs.add_argument("--json", action="store_true", help="print JSON")

    for name, help_text in (
        ("ask", "answer one question with cited sources"),
        ("chat", "an interactive conversation (follow-up questions use the earlier turns)"),
    ):
        p = sub.add_parser(name, help=help_text)
        if name == "ask":
            p.add_argument("question", help="the question, in Dutch or English")
            p.add_argument("--json", action="store_true", help="print the answer as one JSON object")
            p.add_argument("--conversation", help="continue a stored conversation (its id)")
        p.add_argument("--mode", choices=["extractive", "openai"], help="answer mode (default: ASSISTANT_ANSWER_MODE)")
        p.add_argument("--lang", choices=["nl", "en"], help="answer in this language (default: the question's)")
        p.add_argument("--doc", action="append", default=None, help="only this document id (repeatable)")
        p.add_argument("--year", action="append", type=int, default=None, help="only documents of this year")
        p.add_argument("--k", type=int, default=None, help="number of sources (default: ASSISTANT_SEARCH_K)")
        p.add_argument("--debug", action="store_true", help="show the standalone question and scores")

    from eval.cli import add_parser as add_eval_parser
    from ui.service import add_parser as add_serve_parser
    from ui.slack.app import add_parser as add_slack_parser
    from ui.web import add_parser as add_web_parser

    add_eval_parser(sub)
    add_web_parser(sub)
    add_slack_parser(sub)
    add_serve_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from assistant.build import build_components
    from assistant.settings import load_settings
    from index.errors import PolicyAssistantError

    args = _parser().parse_args(argv)
    try:
        components = build_components(load_settings())
        from eval.cli import run as run_eval
        from ui.service import run as run_serve
        from ui.slack.app import run as run_slack
        from ui.web import run as run_web

        handler = {
            "index": _cmd_index,
            "search": _cmd_search,
            "docs": _cmd_docs,
            "ask": _cmd_ask,
            "chat": _cmd_chat,
            "eval": run_eval,
            "web": run_web,
            "slack": run_slack,
            "serve": run_serve,
        }[args.command]
        return handler(components, args)
    except PolicyAssistantError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the previous index is still in use", file=sys.stderr)
        return 130


def _cmd_index(components, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    started = time.perf_counter()
    if console.is_terminal:
        with Progress(
            TextColumn("[bold]embedding chunks"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("embed", total=None)

            def update(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = components.indexer.run(args.paths, rebuild=args.rebuild, progress=update)
    else:  # no bar in logs and pipes: it would only leave blank lines behind
        report = components.indexer.run(args.paths, rebuild=args.rebuild)
    elapsed = time.perf_counter() - started
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    sync = report.sync
    if not sync.changed:
        if not args.if_needed:
            console.print(
                f"index up to date: {len(report.documents)} documents, {sync.chunks} chunks ({elapsed:.1f} s)"
            )
        return 0
    console.print(
        f"indexed {len(report.documents)} documents into {sync.chunks} chunks: {sync.embedded} embedded, "
        f"{sync.reused} reused ({elapsed:.1f} s)"
    )
    for doc_id in sync.removed_documents:
        console.print(f"removed {doc_id}")
    return 0


def _validate_query(query: str) -> str:
    from index.errors import PolicyAssistantError

    text = " ".join(query.split())
    if not text:
        raise PolicyAssistantError('the question is empty; type a question, e.g. "Wat is het solidariteitsmechanisme?"')
    if len(text) > MAX_QUERY_CHARS:
        raise PolicyAssistantError(
            f"the question is {len(text)} characters long; keep it under {MAX_QUERY_CHARS} characters"
        )
    return text


def _cmd_search(components, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from index.corpus import resolve_doc_id
    from index.errors import PolicyAssistantError

    docs = [resolve_doc_id(d, components.settings.corpus_dir) for d in args.doc] if args.doc else None
    if args.k is not None and not 1 <= args.k <= 50:
        raise PolicyAssistantError(f"--k {args.k} is out of range; use 1 to 50")
    if args.query is not None:
        _print_hits(components, _validate_query(args.query), args.k, docs, args.json)
        return 0
    print("Zoek in de documenten (Ctrl-D om te stoppen) / Search the documents (Ctrl-D to quit)")
    while True:
        try:
            line = input("vraag> ")
        except EOFError:
            print()
            return 0
        if not line.strip():
            continue
        try:
            _print_hits(components, _validate_query(line), args.k, docs, args.json)
        except PolicyAssistantError as err:
            print(f"error: {err}", file=sys.stderr)


def _print_hits(components, query: str, k: int | None, docs: list[str] | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    hits = components.dense_search(query, k=k, doc_ids=docs)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if as_json:
        print(
            json.dumps(
                {
                    "query": query,
                    "latency_ms": round(elapsed_ms, 1),
                    "results": [
                        {
                            "rank": i,
                            "doc_id": h.chunk.doc_id,
                            "doc_title": h.chunk.doc_title,
                            "section": h.chunk.section_path,
                            "score": round(h.score, 4),
                            "chunk_id": h.chunk.id,
                            "page": h.chunk.page,
                            "text": h.chunk.text,
                        }
                        for i, h in enumerate(hits, start=1)
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    from rich.console import Console

    console = Console()
    if not hits:
        console.print("no passages found (is the document filter right? see `policy-assistant docs`)")
    for i, hit in enumerate(hits, start=1):
        c = hit.chunk
        snippet = " ".join(c.text.split())
        snippet = snippet[:300] + ("…" if len(snippet) > 300 else "")
        page = f", p. {c.page}" if c.page else ""
        console.print(
            f"[bold][{i}][/bold] {c.doc_short_title} ({c.year or 'n.d.'}){page} — {c.section_path}  "
            f"[dim]score {hit.score:.3f}[/dim]"
        )
        console.print(f"    {snippet}", highlight=False)
    console.print(f"[dim]{elapsed_ms:.0f} ms[/dim]")


def _cmd_docs(components, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    docs = components.store.documents()
    if args.json:
        print(json.dumps([d.__dict__ for d in docs], ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    if not docs:
        print("the index is empty: run `policy-assistant index`")
        return 0
    table = Table("id", "title", "year", "sections", "chunks", "tokens")
    for d in docs:
        table.add_row(d.doc_id, d.title, str(d.year or ""), str(d.sections), str(d.chunks), str(d.tokens))
    Console().print(table)
    return 0


def _ask_options(components, args: argparse.Namespace) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from index.corpus import resolve_doc_id
    from index.errors import InputError

    if args.k is not None and not 1 <= args.k <= 20:
        raise InputError(f"--k {args.k} is out of range; use 1 to 20")
    return {
        "doc_ids": [resolve_doc_id(d, components.settings.corpus_dir) for d in args.doc] if args.doc else None,
        "years": args.year,
        "mode": args.mode,
        "language": args.lang,
        "k": args.k,
    }


def _cmd_ask(components, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    assistant = components.assistant
    options = _ask_options(components, args)
    conversation = args.conversation
    if args.json:
        answer = assistant.ask(args.question, conversation, **options)
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
        return 0
    _stream_answer(assistant.ask_stream(args.question, conversation, **options), args.debug)
    return 0


def _stream_answer(events, debug: bool) -> None:  # type: ignore[no-untyped-def]
    """Print the answer as it streams, then its checked form (when it differs) and its sources."""
    from assistant.core import Delta, Done, Reset

    streamed: list[str] = []
    for event in events:
        if isinstance(event, Delta):
            print(event.text, end="", flush=True)
            streamed.append(event.text)
        elif isinstance(event, Reset):
            if streamed:
                print("\n[…]")  # what follows replaces the broken-off text above
            streamed.clear()
        elif isinstance(event, Done):
            if streamed:
                print()
            _print_answer(event.answer, debug, streamed_text="".join(streamed).strip())


def _print_answer(answer, debug: bool, streamed_text: str = "") -> None:  # type: ignore[no-untyped-def]
    from rich.console import Console

    console = Console(highlight=False)
    nl = answer.language == "nl"
    if streamed_text != answer.text.strip():
        if streamed_text:
            console.print(
                "[dim]" + ("na controle van de bronverwijzingen" if nl else "after checking the citations") + ":[/dim]"
            )
        console.print(answer.text)
    if answer.refused:
        console.print(
            "[yellow]"
            + ("Geweigerd: de documenten bevatten dit niet." if nl else "Refused: the documents do not cover this.")
            + "[/yellow]"
        )
    if answer.unverified:
        console.print(
            "[red]"
            + (
                "Niet geverifieerd: het antwoord verwijst naar geen geldige bron."
                if nl
                else "Unverified: the answer cites no valid source."
            )
            + "[/red]"
        )
    for sentence in answer.flagged:
        console.print("[red]" + ("Controleer: " if nl else "Check: ") + sentence + "[/red]")
    for notice in answer.notices:
        console.print(f"[yellow]{notice}[/yellow]")
    console.print("[bold]" + ("Bronnen" if nl else "Sources") + "[/bold]")
    for s in answer.sources:
        page = f", p. {s.page}" if s.page else ""
        console.print(f"  [{s.n}] {s.doc_title} ({s.year or 'n.d.'}{page}) — {s.section}")
        snippet = " ".join((s.highlight or s.text).split())
        console.print(f"      [dim]{snippet[:240]}{'…' if len(snippet) > 240 else ''}[/dim]")
    mode = f"mode: {answer.mode}"
    if debug:
        console.print(f"[dim]standalone question: {answer.standalone_question}[/dim]")
        console.print(f"[dim]scores: {', '.join(f'[{s.n}] {s.score:.3f}' for s in answer.sources)}[/dim]")
    console.print(f"[dim]{mode} · {answer.latency_ms:.0f} ms · conversation {answer.conversation_id or '-'}[/dim]")


def _cmd_chat(components, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from index.errors import PolicyAssistantError

    assistant = components.assistant
    options = _ask_options(components, args)
    conversation = components.conversations.new()
    print(
        f"policy-assistant ({assistant.mode if not args.mode else args.mode}) — "
        "stel een vraag; /nieuw of /new begint opnieuw, Ctrl-D stopt. Ask a question; Ctrl-D quits."
    )
    while True:
        try:
            line = input("\nvraag> ")
        except EOFError:
            print()
            return 0
        if line.strip() in ("/nieuw", "/new"):
            conversation = components.conversations.new()
            print("nieuw gesprek / new conversation")
            continue
        if not line.strip():
            continue
        try:
            _stream_answer(assistant.ask_stream(line, conversation, **options), args.debug)
        except PolicyAssistantError as err:
            print(f"error: {err}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
