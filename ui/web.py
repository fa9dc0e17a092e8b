"""`policy-assistant web`: a Gradio chat over the shared `Assistant`, served with `/healthz` by uvicorn.

`WebChat` holds the callbacks (plain Python, tested without a browser); `build_blocks` lays them out in
Gradio; `create_app` mounts the interface and `/healthz` on one FastAPI app. The UI does no retrieval or
prompting of its own: every answer comes from `components.assistant`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import ipaddress
import os
import re
import secrets
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

# Gradio looks up its version and sends analytics at import and launch unless told not to.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import gradio as gr  # noqa: E402

from assistant.core import Delta, Done, Reset  # noqa: E402
from assistant.feedback import FeedbackStore  # noqa: E402
from index.errors import InputError, PolicyAssistantError  # noqa: E402
from ui.i18n import EXAMPLES, t  # noqa: E402

USERS_ENV = "ASSISTANT_WEB_USERS"
STORAGE_KEY = "policy-assistant-conversation"
CITATION = re.compile(r"\[(\d{1,3})\]")

Turn = dict[str, Any]  # {"question": str, "answer": Answer.to_json() | None, "error": str | None}
Message = dict[str, str]


class WebChat:
    """The web interface's behaviour, independent of Gradio: every method is a callback's body."""

    def __init__(self, components: Any, feedback: FeedbackStore | None = None) -> None:
        self.components = components
        self.feedback = feedback if feedback is not None else components.feedback
        self._sections: tuple[str | None, dict[tuple[str, str], str]] = (None, {})

    # -- header

    def banner(self, ui: str = "nl") -> str:
        """The answer mode and the index status, as one Markdown line."""
        try:
            mode = self.components.assistant.mode
        except PolicyAssistantError as err:
            mode = str(err)
        try:
            status = self.components.store.status()
            if status.chunks:
                when = (
                    dt.datetime.fromtimestamp(status.indexed_at).strftime("%Y-%m-%d %H:%M")
                    if status.indexed_at
                    else t("never", ui)
                )
                index = t("index_status", ui, documents=status.documents, chunks=status.chunks, when=when)
            else:
                index = t("index_empty", ui)
        except PolicyAssistantError as err:
            index = t("index_unavailable", ui, error=err)
        return f"**{t('mode', ui)}:** `{mode}` · **{t('index', ui)}:** {index}"

    def document_choices(self) -> list[tuple[str, str]]:
        """(label, doc_id) for the document filter."""
        try:
            docs = self.components.store.documents()
        except PolicyAssistantError:
            return []
        return [(f"{d.title} ({d.year})" if d.year else d.title, d.doc_id) for d in docs]

    # -- chat

    def respond(
        self,
        question: str,
        turns: list[Turn] | None,
        conversation_id: str | None,
        answer_language: str = "auto",
        doc_ids: Sequence[str] | None = None,
        ui: str = "nl",
    ) -> Iterator[tuple[list[Message], str, list[Turn], str]]:
        """Ask the assistant and stream (messages, sources HTML, turns, conversation id) as the answer grows.

        Errors never escape: they become a plain assistant message, and the app keeps running."""
        turns = list(turns or [])
        question = str(question or "").strip()
        if not question:
            return
        turn: Turn = {"question": question, "answer": None, "error": None, "partial": ""}
        turns.append(turn)
        try:
            self._check_index(ui)
            if not conversation_id:
                conversation_id = self.components.conversations.new().id
            language = answer_language if answer_language in ("nl", "en") else None
            events = self.components.assistant.ask_stream(
                question, conversation_id, doc_ids=list(doc_ids) if doc_ids else None, language=language
            )
            yield self.messages(turns, ui), self.sources_html(turns, ui), turns, conversation_id
            for event in events:
                if isinstance(event, Delta):
                    turn["partial"] += event.text
                    yield self.messages(turns, ui), self.sources_html(turns, ui), turns, conversation_id
                elif isinstance(event, Reset):
                    turn["partial"] = ""
                elif isinstance(event, Done):
                    turn["answer"] = event.answer.to_json()
        except PolicyAssistantError as err:
            turn["error"] = str(err)
        except Exception as err:  # noqa: BLE001 - a bug or a library failure must not take the app down
            turn["error"] = t("error_internal", ui, error=f"{type(err).__name__}: {err}")
        turn.pop("partial", None)
        yield self.messages(turns, ui), self.sources_html(turns, ui), turns, conversation_id or ""

    def _check_index(self, ui: str) -> None:
        if not self.components.store.status().chunks:
            raise PolicyAssistantError(t("index_empty", ui))

    def resume(self, conversation_id: str | None, ui: str = "nl") -> tuple[list[Message], str, list[Turn], str]:
        """The stored conversation `conversation_id` (after a page reload); an empty chat if it is unknown."""
        turns: list[Turn] = []
        if conversation_id:
            try:
                history = self.components.conversations.history(conversation_id)
            except PolicyAssistantError:
                history = []
            for h in history:
                answer = {
                    "question": h["question"],
                    "standalone_question": h["standalone_question"],
                    "language": h["language"],
                    "mode": h["mode"],
                    "answer": h["answer"],
                    "refused": h["refused"],
                    "unverified": h.get("unverified", False),
                    "sources": h["sources"],
                    "flagged": h.get("flagged", []),
                    "notices": h.get("notices", []),
                    "conversation_id": conversation_id,
                }
                turns.append({"question": h["question"], "answer": answer, "error": None})
        return self.messages(turns, ui), self.sources_html(turns, ui), turns, conversation_id or ""

    def new_conversation(self, ui: str = "nl") -> tuple[list[Message], str, list[Turn], str]:
        """An empty chat with a fresh conversation id."""
        conversation_id = self.components.conversations.new().id
        return [], self.sources_html([], ui), [], conversation_id

    # -- feedback

    def rate(self, turns: list[Turn], message_index: int, liked: bool, ui: str = "nl") -> tuple[int | None, str]:
        """Store 👍/👎 for the answer at `message_index` of the chat; returns (feedback id, status text)."""
        turn_index = message_index // 2
        if not 0 <= turn_index < len(turns) or not turns[turn_index].get("answer"):
            return None, t("rate_first", ui)
        try:
            feedback_id = self.feedback.add(turns[turn_index]["answer"], "up" if liked else "down")
        except PolicyAssistantError as err:  # e.g. the database is down: say so instead of failing the callback
            return None, str(err)
        return feedback_id, t("thanks", ui)

    def comment(self, feedback_id: int | None, text: str, ui: str = "nl") -> tuple[str, str]:
        """Attach a comment to the last rating; returns (new comment box value, status text)."""
        if feedback_id is None:
            return text, t("rate_first", ui)
        try:
            self.feedback.set_comment(int(feedback_id), text)
        except PolicyAssistantError as err:
            return text, str(err)
        return "", t("thanks_comment", ui)

    # -- export

    def export_markdown(self, turns: list[Turn], conversation_id: str | None, ui: str = "nl") -> str:
        """The conversation as Markdown, each answer followed by its sources."""
        lines = [f"# {t('export_heading', ui)} {conversation_id or ''}".rstrip(), ""]
        lines.append(f"_{dt.datetime.now().strftime('%Y-%m-%d %H:%M')}_")
        for i, turn in enumerate(turns, start=1):
            lines += ["", f"## {t('turn', ui, n=i)}", "", f"**{t('export_question', ui)}:** {turn['question']}", ""]
            answer = turn.get("answer")
            if not answer:
                lines.append(f"**{t('error', ui)}:** {turn.get('error') or ''}")
                continue
            lines += [f"**{t('export_answer', ui)}** (`{answer['mode']}`):", "", answer["answer"]]
            lines += [f"> {m}" for m in _marks(answer, ui)]
            lines += ["", f"### {t('sources', ui)}", ""]
            for s in _shown_sources(answer):
                year = f" ({s['year']})" if s.get("year") else ""
                lines.append(f"[{s['n']}] **{s['doc_title']}**{year} — {s['section']}")
                lines.append("")
                lines += [f"> {line}" if line else ">" for line in s["text"].splitlines()]
                lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    def export_file(self, turns: list[Turn], conversation_id: str | None, ui: str = "nl") -> str | None:
        """The Markdown export written to a temporary file (for download); None when there is nothing yet."""
        if not turns:
            return None
        folder = Path(tempfile.mkdtemp(prefix="policy-assistant-export-"))
        path = folder / f"{t('conversation', ui)}-{(conversation_id or 'new')[:12]}.md"
        path.write_text(self.export_markdown(turns, conversation_id, ui), encoding="utf-8")
        return str(path)

    # -- rendering

    def messages(self, turns: list[Turn], ui: str = "nl") -> list[Message]:
        """The chat as Gradio messages; `[n]` markers become links to the sources panel."""
        out: list[Message] = []
        for i, turn in enumerate(turns, start=1):
            out.append({"role": "user", "content": turn["question"]})
            if turn.get("error"):
                out.append({"role": "assistant", "content": f"⚠️ **{t('error', ui)}:** {html.escape(turn['error'])}"})
            elif turn.get("answer"):
                out.append({"role": "assistant", "content": _answer_markdown(turn["answer"], i, ui)})
            else:
                out.append({"role": "assistant", "content": html.escape(turn.get("partial", "")) or "…"})
        return out

    def sources_html(self, turns: list[Turn], ui: str = "nl") -> str:
        """The sources of every answer, newest first (older answers folded)."""
        parts = []
        answered = [(i, turn) for i, turn in enumerate(turns, start=1) if turn.get("answer")]
        for i, turn in reversed(answered):
            items = "".join(self._source_html(i, s, ui) for s in _shown_sources(turn["answer"]))
            is_open = " open" if i == answered[-1][0] else ""
            summary = html.escape(_shorten(turn["question"], 90))
            parts.append(
                f'<details class="pa-turn" id="turn-{i}"{is_open}><summary>{t("turn", ui, n=i)}: {summary}</summary>'
                f"{items}</details>"
            )
        if not parts:
            return f'<div class="pa-sources pa-empty">{t("no_sources", ui)}</div>'
        return f'<div class="pa-sources">{"".join(parts)}</div>'

    def _source_html(self, turn_no: int, s: dict[str, Any], ui: str) -> str:
        year = f" ({s['year']})" if s.get("year") else ""
        page = f", p. {s['page']}" if s.get("page") else ""
        path = " › ".join(p.strip() for p in str(s.get("section_path") or s["section"]).split(" > "))
        whole = self.section_text(s["doc_id"], s.get("section_path") or "")
        whole_html = (
            f'<details class="pa-whole"><summary>{t("whole_section", ui)}</summary>'
            f'<div class="pa-section-text">{_paragraphs(html.escape(whole))}</div></details>'
            if whole
            else ""
        )
        return (
            f'<div class="pa-source" id="src-{turn_no}-{s["n"]}" data-n="{s["n"]}">'
            f'<div class="pa-head"><span class="pa-n">[{s["n"]}]</span> <strong>{html.escape(s["doc_title"])}'
            f"</strong>{year}{page}</div>"
            f'<div class="pa-section">{html.escape(path)}</div>'
            f'<blockquote class="pa-passage">{_highlighted(s["text"], s.get("highlight") or "")}</blockquote>'
            f"{whole_html}</div>"
        )

    def section_text(self, doc_id: str, section_path: str) -> str:
        """The whole text of one section, from its chunks in the index (overlaps removed)."""
        if not section_path:
            return ""
        store = self.components.store
        try:
            generation = store.active_generation()
            if self._sections[0] != generation or not self._sections[1]:
                by_section: dict[tuple[str, str], list[str]] = {}
                for c in store.chunks():  # sorted by document and position
                    by_section.setdefault((c.doc_id, c.section_path), []).append(c.text)
                self._sections = (generation, {k: _join_parts(v) for k, v in by_section.items()})
        except PolicyAssistantError:
            return ""
        return self._sections[1].get((doc_id, section_path), "")


# -- rendering helpers


def _shown_sources(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The sources the answer cites; all of them when it cites none (a refusal lists the nearest passages)."""
    sources = answer.get("sources") or []
    cited = {int(n) for n in CITATION.findall(answer.get("answer", ""))}
    shown = [s for s in sources if s["n"] in cited]
    return sorted(shown or sources, key=lambda s: s["n"])


def _marks(answer: dict[str, Any], ui: str) -> list[str]:
    marks = []
    if answer.get("refused"):
        marks.append(f"🚫 **{t('refused', ui)}**")
    if answer.get("unverified"):
        marks.append(f"⚠️ **{t('unverified', ui)}**")
    marks += [f"⚠️ {t('check', ui)}: {html.escape(sentence)}" for sentence in answer.get("flagged") or []]
    marks += [f"ℹ️ {html.escape(notice)}" for notice in answer.get("notices") or []]
    return marks


def _answer_markdown(answer: dict[str, Any], turn_no: int, ui: str) -> str:
    numbers = {s["n"] for s in answer.get("sources") or []}

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in numbers:
            return match.group(0)
        return f'<a href="#src-{turn_no}-{n}" class="pa-cite" title="{t("sources", ui)} {n}">[{n}]</a>'

    text = CITATION.sub(link, html.escape(answer.get("answer", ""), quote=False))
    marks = _marks(answer, ui)
    if marks:
        text += "\n\n" + "\n".join(f"> {m}  " for m in marks)
    return text + f"\n\n<sub>{html.escape(answer.get('mode', ''))}</sub>"


def _highlighted(text: str, highlight: str) -> str:
    """`text` as HTML with the supporting sentence wrapped in <mark> (whitespace may differ)."""
    words = highlight.split()
    match = re.search(r"\s+".join(map(re.escape, words)), text) if words else None
    if match is None:
        return _paragraphs(html.escape(text))
    before, found, after = text[: match.start()], match.group(0), text[match.end() :]
    return _paragraphs(f"{html.escape(before)}<mark>{html.escape(found)}</mark>{html.escape(after)}")


def _paragraphs(escaped: str) -> str:
    return escaped.replace("\n\n", "<br><br>").replace("\n", " ")


def _join_parts(parts: list[str]) -> str:
    """Join the parts of a section, dropping the text each part repeats from the one before (chunk overlap)."""
    text = parts[0] if parts else ""
    for part in parts[1:]:
        overlap = next(
            (k for k in range(min(len(text), len(part), 3000), 20, -1) if text.endswith(part[:k])),
            0,
        )
        text = text + part[overlap:] if overlap else f"{text}\n\n{part}"
    return text


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- Gradio

CSS = """
#pa-banner { font-size: 0.9em; }
.pa-sources { max-height: 70vh; overflow-y: auto; }
.pa-source { border-left: 3px solid #d0d7de; padding: 4px 10px; margin: 8px 0; }
.pa-source.pa-target { border-left-color: #d97706; background: #fff7e6; }
.pa-section { color: #57606a; font-size: 0.9em; }
.pa-passage { margin: 6px 0; font-size: 0.92em; }
.pa-passage mark { background: #fde68a; }
.pa-whole summary, .pa-turn > summary { cursor: pointer; }
.pa-section-text { font-size: 0.9em; max-height: 40vh; overflow-y: auto; }
"""

# A `[n]` link in an answer opens that answer's sources and scrolls the source into view.
HEAD = """
<script>
document.addEventListener("click", function (event) {
  const link = event.target.closest && event.target.closest('a[href^="#src-"]');
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const target = document.getElementById(link.getAttribute("href").slice(1));
  if (!target) return;
  const turn = target.closest("details.pa-turn");
  if (turn) turn.open = true;
  document.querySelectorAll(".pa-source.pa-target").forEach(function (el) { el.classList.remove("pa-target"); });
  target.classList.add("pa-target");
  target.scrollIntoView({behavior: "smooth", block: "center"});
}, true);
</script>
"""


def _theme() -> Any:
    # System fonts: the default theme would fetch Google Fonts from the internet.
    return gr.themes.Default(
        font=["system-ui", "-apple-system", "Segoe UI", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "Consolas", "monospace"],
    )


def build_blocks(chat: WebChat, secret: str | None = None) -> Any:
    """The Gradio interface around `chat`'s callbacks."""
    with gr.Blocks(title=t("title"), analytics_enabled=False) as demo:
        ui = gr.State("nl")
        turns = gr.State([])
        feedback_id = gr.State(None)
        conversation = gr.BrowserState("", storage_key=STORAGE_KEY, secret=secret)

        with gr.Row(equal_height=True):
            title = gr.Markdown(f"## {t('title')}")
            ui_choice = gr.Radio(
                [("Nederlands", "nl"), ("English", "en")], value="nl", label=t("ui_language"), elem_id="pa-ui-lang"
            )
        banner = gr.Markdown(chat.banner(), elem_id="pa-banner")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    elem_id="pa-chat",
                    height=520,
                    examples=[{"text": q} for q in EXAMPLES],
                    feedback_options=("Like", "Dislike"),
                    show_label=False,
                    latex_delimiters=[],
                    buttons=["copy"],
                )
                with gr.Row():
                    question = gr.Textbox(
                        label=t("question"), placeholder=t("placeholder"), scale=5, elem_id="pa-question"
                    )
                    send = gr.Button(t("send"), variant="primary", scale=1, elem_id="pa-send")
                with gr.Row():
                    comment = gr.Textbox(
                        label=t("comment"), placeholder=t("comment_placeholder"), scale=5, elem_id="pa-comment"
                    )
                    comment_send = gr.Button(t("send_comment"), scale=1, elem_id="pa-comment-send")
                status = gr.Markdown("", elem_id="pa-status")
                with gr.Row():
                    new = gr.Button(t("new"), elem_id="pa-new")
                    export = gr.Button(t("export"), elem_id="pa-export")
                export_file = gr.File(label=t("export_file"), visible=False, elem_id="pa-export-file")
            with gr.Column(scale=2):
                answer_language = gr.Radio(
                    _answer_languages("nl"),
                    value="auto",
                    label=t("answer_language"),
                    elem_id="pa-answer-lang",
                )
                documents = gr.Dropdown(
                    choices=chat.document_choices(),
                    multiselect=True,
                    label=t("documents"),
                    info=t("documents_info"),
                    elem_id="pa-docs",
                )
                sources_title = gr.Markdown(f"### {t('sources')}")
                sources = gr.HTML(chat.sources_html([]), elem_id="pa-sources")

        chat_outputs = [chatbot, sources, turns, conversation]

        def on_load(stored: str, request: gr.Request):  # type: ignore[no-untyped-def]
            params = request.query_params if request else {}
            lang = "en" if params.get("lang") == "en" else "nl"
            conversation_id = params.get("conversation") or stored
            messages, html_sources, loaded, conversation_id = chat.resume(conversation_id, lang)
            return (lang, lang, messages, html_sources, loaded, conversation_id, *_labels(chat, lang, loaded))

        def relabel(lang: str, current: list[Turn]):  # type: ignore[no-untyped-def]
            return (lang, chat.messages(current, lang), chat.sources_html(current, lang), *_labels(chat, lang, current))

        label_outputs = [
            title, banner, question, send, comment, comment_send, new, export, answer_language, documents,
            sources_title,
        ]  # fmt: skip
        demo.load(on_load, [conversation], [ui, ui_choice, chatbot, sources, turns, conversation, *label_outputs])
        ui_choice.change(relabel, [ui_choice, turns], [ui, chatbot, sources, *label_outputs])

        def ask(text: str, current: list[Turn], conv: str, lang: str, docs: list[str], ui_lang: str):  # type: ignore[no-untyped-def]
            yield from ((*out, "") for out in chat.respond(text, current, conv, lang, docs, ui_lang))

        ask_inputs = [question, turns, conversation, answer_language, documents, ui]
        for trigger in (question.submit, send.click):
            trigger(ask, ask_inputs, [*chat_outputs, question], concurrency_limit=8, api_name="ask")

        def ask_example(current: list[Turn], conv: str, lang: str, docs: list[str], ui_lang: str, evt: gr.SelectData):  # type: ignore[no-untyped-def]
            value = evt.value if isinstance(evt.value, dict) else {"text": str(evt.value)}
            yield from chat.respond(value.get("text", ""), current, conv, lang, docs, ui_lang)

        chatbot.example_select(ask_example, ask_inputs[1:], chat_outputs, concurrency_limit=8)

        def on_like(current: list[Turn], ui_lang: str, evt: gr.LikeData):  # type: ignore[no-untyped-def]
            index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            return chat.rate(current, int(index), evt.liked is True, ui_lang)

        chatbot.like(on_like, [turns, ui], [feedback_id, status])
        comment_send.click(chat.comment, [feedback_id, comment, ui], [comment, status])
        comment.submit(chat.comment, [feedback_id, comment, ui], [comment, status])

        def on_new(ui_lang: str):  # type: ignore[no-untyped-def]
            return (*chat.new_conversation(ui_lang), None, "")

        new.click(on_new, [ui], [*chat_outputs, feedback_id, status])
        chatbot.clear(on_new, [ui], [*chat_outputs, feedback_id, status])  # the chat's own 🗑 button

        def on_export(current: list[Turn], conv: str, ui_lang: str):  # type: ignore[no-untyped-def]
            path = chat.export_file(current, conv, ui_lang)
            if path is None:
                return gr.update(visible=False, value=None), t("export_empty", ui_lang)
            return gr.update(visible=True, value=path), ""

        export.click(on_export, [turns, conversation, ui], [export_file, status])
    return demo


def _answer_languages(lang: str) -> list[tuple[str, str]]:
    return [(t("auto", lang), "auto"), ("Nederlands", "nl"), ("English", "en")]


def _labels(chat: WebChat, lang: str, turns: list[Turn]) -> tuple[Any, ...]:
    return (
        f"## {t('title', lang)}",
        chat.banner(lang),
        gr.update(label=t("question", lang), placeholder=t("placeholder", lang)),
        gr.update(value=t("send", lang)),
        gr.update(label=t("comment", lang), placeholder=t("comment_placeholder", lang)),
        gr.update(value=t("send_comment", lang)),
        gr.update(value=t("new", lang)),
        gr.update(value=t("export", lang)),
        gr.update(label=t("answer_language", lang), choices=_answer_languages(lang)),
        gr.update(label=t("documents", lang), info=t("documents_info", lang), choices=chat.document_choices()),
        f"### {t('sources', lang)}",
    )


def users_from_env(value: str | None = None) -> list[tuple[str, str]]:
    """`user:password,user2:password2` (the `web_users` setting, ASSISTANT_WEB_USERS) as a list of pairs."""
    raw = os.environ.get(USERS_ENV, "") if value is None else value
    users = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, password = item.partition(":")
        if not sep or not name or not password:
            raise InputError(f"{USERS_ENV}: {name or item!r} needs the form user:password (comma-separated)")
        users.append((name, password))
    return users


def _secret(data_dir: Path) -> str:
    """A per-installation key for the browser's stored conversation id, so it survives a restart."""
    path = data_dir / "web_secret"
    try:
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(16)
        path.write_text(value, encoding="utf-8")
        path.chmod(0o600)
        return value
    except OSError:
        return secrets.token_hex(16)


def create_app(components: Any, users: Sequence[tuple[str, str]] = (), feedback: FeedbackStore | None = None) -> Any:
    """A FastAPI app with the chat at `/` and `/healthz`."""
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    app = FastAPI(title="policy-assistant", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        try:
            status = components.store.status()
        except PolicyAssistantError as err:
            return JSONResponse({"status": "error", "error": str(err)}, status_code=503)
        body = {"status": "ok" if status.chunks else "empty", "documents": status.documents, "chunks": status.chunks}
        return JSONResponse(body, status_code=200 if status.chunks else 503)

    return mount_web(app, components, users, feedback)


def mount_web(
    app: Any, components: Any, users: Sequence[tuple[str, str]] = (), feedback: FeedbackStore | None = None
) -> Any:
    """Mount the chat at `/` of an existing FastAPI `app` (routes added before it keep precedence)."""
    chat = WebChat(components, feedback)
    demo = build_blocks(chat, secret=_secret(components.settings.data_dir))
    demo.queue(default_concurrency_limit=8)
    return gr.mount_gradio_app(
        app,
        demo,
        path="",
        auth=list(users) or None,
        ssr_mode=False,
        footer_links=[],
        theme=_theme(),
        css=CSS,
        head=HEAD,
        mcp_server=False,
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def add_parser(subparsers: Any) -> None:
    """Add the `web` subcommand to `subparsers` (from `ArgumentParser.add_subparsers`)."""
    p = subparsers.add_parser("web", help="serve the chat in the browser (Gradio)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default: 7860)")


def run(components: Any, args: argparse.Namespace) -> int:
    """Serve the web UI until interrupted."""
    import uvicorn

    if not 1 <= args.port <= 65535:
        raise InputError(f"--port {args.port} is out of range; use 1 to 65535")
    configured = components.settings.web_users
    users = users_from_env(configured.get_secret_value() if configured else "")
    if not users and not is_loopback(args.host):
        print(
            f"warning: serving on {args.host} without a login; anyone who can reach it can use the assistant. "
            f"Set {USERS_ENV}=user:password,... to require one.",
            file=sys.stderr,
        )
    app = create_app(components, users)
    print(f"policy-assistant web on http://{args.host}:{args.port}", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
