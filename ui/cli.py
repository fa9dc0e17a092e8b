"""`policy-assistant`: the command line (index, search, docs, ask, chat, compare, eval, web, slack, serve, feedback).

Building the parser imports nothing heavy, so `--help` is instant; each command imports what it needs
when it runs, so `ask` never loads Gradio, slack-bolt or FastAPI.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ui.commands import add_slack_parser, add_web_parser

if TYPE_CHECKING:
    from assistant.build import Parts
    from assistant.conversation import Conversation
    from assistant.core import Delta, Done, Reset
    from assistant.retrieve import Retrieval
    from assistant.types import Answer, Language, ModeKind

Handler = Callable[["Parts", argparse.Namespace], int]

# Terminal controls other than newline and tab (escape sequences, C1 controls, bidi overrides): document
# text that could move the cursor, retitle the window or hide what follows.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _clean(text: object) -> str:
    """Text from documents, answers or the index with terminal control characters removed."""
    return _CONTROLS.sub("", str(text))


def _safe(text: object) -> str:
    """Text from documents or answers, fit to go inside rich markup: controls removed, markup escaped."""
    from rich.markup import escape

    return escape(_clean(text))


def _parser() -> argparse.ArgumentParser:
    from eval.cli import add_parser as add_eval_parser
    from ui.compare import add_parser as add_compare_parser
    from ui.feedback import add_parser as add_feedback_parser
    from ui.service.command import add_parser as add_serve_parser

    parser = argparse.ArgumentParser(
        prog="policy-assistant",
        description="Answers questions about EU migration and asylum policy from official documents.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p_index = sub.add_parser("index", help="build or update the index (bundled corpus plus your own files)")
    p_index.add_argument("paths", nargs="*", type=Path, help="extra .txt/.md/.pdf files or folders to add")
    p_index.add_argument(
        "--rebuild",
        action="store_true",
        help="build a new index from scratch (the bundled corpus' prebuilt vectors are still used)",
    )
    p_index.add_argument("--if-needed", action="store_true", help="quiet when the index is already up to date")
    p_index.add_argument(
        "--year",
        type=int,
        default=None,
        help="the year of the documents in PATHS (their place in comparisons over time; kept for later runs)",
    )
    p_index.add_argument(
        "--no-prebuilt", action="store_true", help="embed the bundled corpus too instead of using its prebuilt vectors"
    )
    p_index.add_argument(
        "--write-prebuilt",
        action="store_true",
        help="embed the bundled corpus afresh and write its prebuilt vectors (corpus/vectors.npz), then index",
    )

    p_search = sub.add_parser("search", help="find the passages that best match a question (as `ask` retrieves them)")
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

    add_compare_parser(sub)
    add_eval_parser(sub)
    add_web_parser(sub)
    add_slack_parser(sub)
    add_serve_parser(sub)
    add_feedback_parser(sub)
    return parser


def _handler(command: str) -> Handler:
    """The function that runs `command`, its module imported only now."""
    if command == "compare":
        from ui.compare import run as run_compare

        return run_compare
    if command == "feedback":
        from ui.feedback import run as run_feedback

        return run_feedback
    if command == "eval":
        from eval.cli import run as run_eval

        return run_eval
    if command == "web":
        from ui.web.command import run as run_web

        return run_web
    if command == "serve":
        from ui.service.command import run as run_serve

        return run_serve
    if command == "slack":
        from ui.slack.app import run as run_slack

        return run_slack
    return {"index": _cmd_index, "search": _cmd_search, "docs": _cmd_docs, "ask": _cmd_ask, "chat": _cmd_chat}[command]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from assistant.build import build_assistant
    from assistant.redact import quiet_http_loggers
    from assistant.settings import load_settings
    from errors import PolicyAssistantError

    quiet_http_loggers()  # whoever configures logging later: request URLs may hold credentials
    try:
        parts = build_assistant(load_settings())
        if args.command in ("web", "serve", "slack"):
            from ui.feedback import start_retention

            start_retention(parts)  # ASSISTANT_RETENTION_DAYS: old conversations and ratings go, now and daily
        return _handler(args.command)(parts, args)
    except PolicyAssistantError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the previous index is still in use", file=sys.stderr)
        return 130


def _cmd_index(parts: Parts, args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if args.year is not None:
        from assistant.limits import YEARS
        from errors import InputError

        if not args.paths:
            raise InputError("--year dates the documents you add: give their files or folders too")
        if not YEARS[0] <= args.year <= YEARS[1]:
            raise InputError(f"the year {args.year} is not plausible; use {YEARS[0]} to {YEARS[1]}")
    if not (args.paths or args.rebuild or args.write_prebuilt):
        # Nothing to do is told before rich, the parser or Chroma loads (the index pointer, index/pointer.py).
        unchanged = parts.indexer.unchanged()
        if unchanged is not None:
            if not args.if_needed:
                elapsed = time.perf_counter() - started
                print(
                    f"index up to date: {len(unchanged.documents)} documents, {unchanged.sync.chunks} chunks "
                    f"({elapsed:.1f} s)",
                    file=sys.stderr,
                )
            return 0
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    if args.write_prebuilt:
        with console.status("embedding the bundled corpus and its sentences (a few minutes)"):
            path = parts.indexer.write_prebuilt()
        console.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - started:.0f} s)")
    use_prebuilt = not args.no_prebuilt
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

            report = parts.indexer.run(
                args.paths, rebuild=args.rebuild, progress=update, use_prebuilt=use_prebuilt, year=args.year
            )
    else:  # no bar in logs and pipes: it would only leave blank lines behind
        report = parts.indexer.run(args.paths, rebuild=args.rebuild, use_prebuilt=use_prebuilt, year=args.year)
    elapsed = time.perf_counter() - started
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {_safe(warning)}")
    sync = report.sync
    if not sync.changed:
        if not args.if_needed:
            console.print(
                f"index up to date: {len(report.documents)} documents, {sync.chunks} chunks ({elapsed:.1f} s)"
            )
        return 0
    prebuilt = f"{report.prebuilt} prebuilt, " if report.prebuilt else ""
    console.print(
        f"indexed {len(report.documents)} documents into {sync.chunks} chunks: {prebuilt}"
        f"{sync.embedded - report.prebuilt} embedded, {sync.reused} reused ({elapsed:.1f} s)"
    )
    for doc_id in sync.removed_documents:
        console.print(f"removed {_safe(doc_id)}")
    return 0


def _doc_ids(parts: Parts, docs: Sequence[str] | None) -> list[str] | None:
    """The document filter of `--doc`, corpus file names resolved to document ids."""
    from index.corpus import resolve_doc_id

    return [resolve_doc_id(d, parts.settings.corpus_dir) for d in docs] if docs else None


def _cmd_search(parts: Parts, args: argparse.Namespace) -> int:
    from assistant.limits import MAX_PASSAGES, check_k
    from errors import PolicyAssistantError

    docs = _doc_ids(parts, args.doc)
    k = check_k(args.k, most=MAX_PASSAGES) or parts.settings.search_k
    if args.query is not None:
        _print_hits(parts, args.query, k, docs, args.json)
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
            _print_hits(parts, line, k, docs, args.json)
        except PolicyAssistantError as err:
            print(f"error: {err}", file=sys.stderr)


def _print_hits(parts: Parts, query: str, k: int, docs: list[str] | None, as_json: bool) -> None:
    """The passages the assistant would use as sources for `query`, in their (fused) rank order."""
    from assistant.core import validate_question
    from assistant.language import detect_language

    query = validate_question(query)
    started = time.perf_counter()
    retrieval: Retrieval = parts.retriever.retrieve(query, detect_language(query), k, docs)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if as_json:
        results = [
            {
                "rank": rank,
                "doc_id": hit.chunk.doc_id,
                "doc_title": hit.chunk.doc_title,
                "section": hit.chunk.section_path,
                "score": round(hit.fused, 6),  # the fused rank score the order follows
                "similarity": round(hit.similarity, 4),  # cosine similarity to the question
                "chunk_id": hit.chunk.id,
                "page": hit.chunk.page,
                "text": hit.chunk.text,
            }
            for rank, hit in enumerate(retrieval.hits, start=1)
        ]
        payload = {"query": query, "latency_ms": round(elapsed_ms, 1), "results": results}
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.text import Text

    console = Console()
    if not retrieval.hits:
        console.print("no passages found (is the document filter right? see `policy-assistant docs`)")
    for rank, hit in enumerate(retrieval.hits, start=1):
        c = hit.chunk
        snippet = " ".join(c.text.split())
        snippet = snippet[:300] + ("…" if len(snippet) > 300 else "")
        page = f", p. {c.page}" if c.page else ""
        console.print(
            f"[bold][{rank}][/bold] {_safe(c.doc_short_title)} ({c.year or 'n.d.'}){page} — "
            f"{_safe(c.section_path)}  [dim]similarity {hit.similarity:.3f}[/dim]"
        )
        console.print(Text(f"    {_clean(snippet)}"), highlight=False)
    console.print(f"[dim]{elapsed_ms:.0f} ms[/dim]")


def _cmd_docs(parts: Parts, args: argparse.Namespace) -> int:
    docs = parts.store.documents()
    if args.json:
        print(json.dumps([d.__dict__ for d in docs], ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    if not docs:
        print("the index is empty: run `policy-assistant index`")
        return 0
    table = Table("id", "title", "year", "sections", "chunks", "tokens")
    for d in docs:
        cells = (d.doc_id, d.title, d.year or "", d.sections, d.chunks, d.tokens)
        table.add_row(*(Text(_clean(cell)) for cell in cells))  # as text: a title is no markup
    Console().print(table)
    return 0


@dataclass(frozen=True)
class _AskOptions:
    """The options of `ask` and `chat`, checked once."""

    doc_ids: list[str] | None
    years: list[int] | None
    mode: ModeKind | None
    language: Language | None
    k: int | None  # None: ASSISTANT_SEARCH_K

    @classmethod
    def of(cls, parts: Parts, args: argparse.Namespace) -> _AskOptions:
        from assistant.limits import MAX_SOURCES, check_k, check_years

        k = check_k(args.k, most=MAX_SOURCES)
        return cls(_doc_ids(parts, args.doc), check_years(args.year), args.mode, args.lang, k)

    def ask(self, parts: Parts, question: str, conversation: str | None) -> Answer:
        return parts.assistant.ask(
            question,
            conversation,
            doc_ids=self.doc_ids,
            years=self.years,
            mode=self.mode,
            language=self.language,
            k=self.k,
        )

    def stream(
        self, parts: Parts, question: str, conversation: Conversation | str | None
    ) -> Iterator[Delta | Reset | Done]:
        return parts.assistant.ask_stream(
            question,
            conversation,
            doc_ids=self.doc_ids,
            years=self.years,
            mode=self.mode,
            language=self.language,
            k=self.k,
        )


def _cmd_ask(parts: Parts, args: argparse.Namespace) -> int:
    options = _AskOptions.of(parts, args)
    if args.json:
        answer = options.ask(parts, args.question, args.conversation)
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
        return 0
    _stream_answer(options.stream(parts, args.question, args.conversation), args.debug)
    return 0


def _stream_answer(events: Iterable[Delta | Reset | Done], debug: bool) -> None:
    """Print the answer as it streams, then its checked form (when it differs) and its sources."""
    from assistant.core import Delta, Done, Reset

    streamed: list[str] = []
    for event in events:
        if isinstance(event, Delta):
            print(_clean(event.text), end="", flush=True)
            streamed.append(event.text)
        elif isinstance(event, Reset):
            if streamed:
                print("\n[…]")  # what follows replaces the broken-off text above
            streamed.clear()
        elif isinstance(event, Done):
            if streamed:
                print()
            _print_answer(event.answer, debug, streamed_text="".join(streamed).strip())


def _print_answer(answer: Answer, debug: bool, streamed_text: str = "") -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    nl = answer.language == "nl"
    if streamed_text != answer.text.strip():
        if streamed_text:
            console.print(
                "[dim]" + ("na controle van de bronverwijzingen" if nl else "after checking the citations") + ":[/dim]"
            )
        console.print(Text(_clean(answer.text)))
    if answer.refused:
        console.print(
            "[yellow]"
            + ("Geweigerd: de documenten bevatten dit niet." if nl else "Refused: the documents do not cover this.")
            + "[/yellow]"
        )
    if answer.coverage == "partial":
        console.print("[yellow]" + ("Gedeeltelijk gedekt" if nl else "Partly covered") + "[/yellow]")
    if answer.missing:
        missing = _safe("; ".join(answer.missing))
        console.print("[yellow]" + ("Ontbreekt: " if nl else "Missing: ") + missing + "[/yellow]")
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
        console.print("[red]" + ("Controleer: " if nl else "Check: ") + _safe(sentence) + "[/red]")
    for notice in answer.notices:
        console.print(f"[yellow]{_safe(notice)}[/yellow]")
    console.print("[bold]" + ("Bronnen" if nl else "Sources") + "[/bold]")
    for s in answer.sources:
        page = f", p. {s.page}" if s.page else ""
        console.print(f"  [{s.n}] {_safe(s.doc_title)} ({s.year or 'n.d.'}{page}) — {_safe(s.section)}")
        snippet = " ".join(_clean(s.highlight or s.text).split())
        console.print(Text(f"      {snippet[:240]}{'…' if len(snippet) > 240 else ''}", style="dim"))
    if debug:
        console.print(f"[dim]standalone question: {_safe(answer.standalone_question)}[/dim]")
        console.print(f"[dim]similarity: {', '.join(f'[{s.n}] {s.similarity:.3f}' for s in answer.sources)}[/dim]")
    console.print(
        f"[dim]mode: {_safe(answer.mode)} · {answer.latency_ms:.0f} ms · "
        f"conversation {_safe(answer.conversation_id or '-')}[/dim]"
    )


def _cmd_chat(parts: Parts, args: argparse.Namespace) -> int:
    from errors import PolicyAssistantError

    options = _AskOptions.of(parts, args)
    conversation = parts.conversations.new()
    print(
        f"policy-assistant ({args.mode or parts.assistant.mode}) — "
        "stel een vraag; /nieuw of /new begint opnieuw, Ctrl-D stopt. Ask a question; Ctrl-D quits."
    )
    while True:
        try:
            line = input("\nvraag> ")
        except EOFError:
            print()
            return 0
        if line.strip() in ("/nieuw", "/new"):
            conversation = parts.conversations.new()
            print("nieuw gesprek / new conversation")
            continue
        if not line.strip():
            continue
        try:
            _stream_answer(options.stream(parts, line, conversation), args.debug)
        except PolicyAssistantError as err:
            print(f"error: {err}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
