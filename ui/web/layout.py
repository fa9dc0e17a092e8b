"""The Gradio page of the web chat: components, their wiring to `WebChat`'s callbacks, labels in both
interface languages, and the look (theme, CSS and the citation script from `static/`)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.compare import Comparison
from ui.i18n import EXAMPLES, t
from ui.web.chat import SESSION_ID, ChatView, WebChat, new_session_id, principal
from ui.web.compare import CompareView, ExportKind
from ui.web.compare import sources_html as compare_sources_html
from ui.web.compare import table_html as compare_table_html
from ui.web.state import Exchange

STATIC = Path(__file__).with_name("static")
STORAGE_KEY = "policy-assistant-conversation"  # the browser's localStorage key of the conversation id
SESSION_KEY = "policy-assistant-session"  # ... and of its session id (the owner of its conversations)
CONCURRENCY = 8  # questions answered at once; more wait in Gradio's queue


def theme() -> gr.themes.Base:
    """The default theme with system fonts: Gradio's own would fetch Google Fonts from the internet."""
    return gr.themes.Default(
        font=["system-ui", "-apple-system", "Segoe UI", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "Consolas", "monospace"],
    )


def css() -> str:
    return "\n".join((STATIC / name).read_text(encoding="utf-8") for name in ("web.css", "compare.css"))


def head() -> str:
    """The page's extra <head>: the script that brings a cited source into view."""
    return f"<script>\n{(STATIC / 'cite.js').read_text(encoding='utf-8')}</script>\n"


def build_blocks(chat: WebChat, secret: str | None = None) -> gr.Blocks:
    """The Gradio interface around `chat`'s callbacks (and the compare view's, `CompareView`); `secret`
    encrypts the conversation id the browser keeps."""
    view = CompareView(chat.parts)
    with gr.Blocks(title=t("web.title"), analytics_enabled=False) as demo:
        ui = gr.State("nl")
        exchanges = gr.State([])
        feedback_id = gr.State(None)
        conversation = gr.BrowserState("", storage_key=STORAGE_KEY, secret=secret)
        session = gr.BrowserState("", storage_key=SESSION_KEY, secret=secret)
        owner = gr.State("")  # server side: set on load from the login or the browser's session id

        with gr.Row(equal_height=True):
            title = gr.Markdown(f"## {t('web.title')}")
            ui_choice = gr.Radio(
                [("Nederlands", "nl"), ("English", "en")], value="nl", label=t("web.ui_language"), elem_id="pa-ui-lang"
            )
        banner = gr.Markdown(chat.banner(), elem_id="pa-banner")
        with gr.Tabs(elem_id="pa-tabs"):
            with gr.Tab(t("compare.tab_chat"), id="chat", elem_id="pa-tab-chat") as chat_tab, gr.Row():
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
                            label=t("web.question"), placeholder=t("web.placeholder"), scale=5, elem_id="pa-question"
                        )
                        send = gr.Button(t("web.send"), variant="primary", scale=1, elem_id="pa-send")
                    with gr.Row():
                        comment = gr.Textbox(
                            label=t("web.comment"),
                            placeholder=t("web.comment_placeholder"),
                            scale=5,
                            elem_id="pa-comment",
                        )
                        comment_send = gr.Button(t("web.send_comment"), scale=1, elem_id="pa-comment-send")
                    status = gr.Markdown("", elem_id="pa-status")
                    with gr.Row():
                        new = gr.Button(t("web.new"), elem_id="pa-new")
                        export = gr.Button(t("web.export"), elem_id="pa-export")
                    export_file = gr.File(label=t("web.export_file"), visible=False, elem_id="pa-export-file")
                with gr.Column(scale=2):
                    answer_language = gr.Radio(
                        _answer_languages("nl"), value="auto", label=t("web.answer_language"), elem_id="pa-answer-lang"
                    )
                    documents = gr.Dropdown(
                        choices=chat.document_choices(),
                        multiselect=True,
                        label=t("web.documents"),
                        info=t("web.documents_info"),
                        elem_id="pa-docs",
                    )
                    sources_title = gr.Markdown(f"### {t('sources')}")
                    sources = gr.HTML(chat.sources_html([]), elem_id="pa-sources")
            with gr.Tab(t("compare.tab"), id="compare", elem_id="pa-tab-compare") as compare_tab:
                cmp = _compare_tab(chat)

        chat_outputs = [chatbot, sources, exchanges, conversation]
        label_outputs = [
            title, banner, question, send, comment, comment_send, new, export, answer_language, documents,
            sources_title, chat_tab, compare_tab, *cmp.labelled,
        ]  # fmt: skip

        def on_load(stored: str, session_id: str, request: gr.Request) -> tuple[Any, ...]:
            params = dict(request.query_params) if request else {}
            lang = "en" if params.get("lang") == "en" else "nl"
            if not SESSION_ID.fullmatch(session_id or ""):
                session_id = new_session_id()
            who = principal(getattr(request, "username", None), session_id)
            view, notice = chat.resume(params.get("conversation") or stored, lang, owner=who)
            messages, html_sources, loaded, conversation_id = view
            return (
                lang, lang, messages, html_sources, loaded, conversation_id, session_id, who, notice,
                *_labels(chat, lang),
            )  # fmt: skip

        def relabel(lang: str, current: list[Exchange]) -> tuple[Any, ...]:
            return (lang, chat.messages(current, lang), chat.sources_html(current, lang), *_labels(chat, lang))

        load_outputs = [ui, ui_choice, chatbot, sources, exchanges, conversation, session, owner, status]
        demo.load(on_load, [conversation, session], [*load_outputs, *label_outputs])
        ui_choice.change(relabel, [ui_choice, exchanges], [ui, chatbot, sources, *label_outputs])
        ui_choice.change(view.relabel, [cmp.comparison, ui_choice], [cmp.table, cmp.sources])

        def compare_topic(
            topic: str, docs: list[str], year_from: object, year_to: object, ui_lang: str
        ) -> tuple[Any, ...]:
            return view.run(topic, docs, year_from, year_to, ui_lang)

        compare_inputs = [cmp.topic, cmp.documents, cmp.year_from, cmp.year_to, ui]
        compare_outputs = [cmp.table, cmp.sources, cmp.comparison, cmp.status]
        for trigger in (cmp.topic.submit, cmp.run.click):
            trigger(compare_topic, compare_inputs, compare_outputs, concurrency_limit=CONCURRENCY, api_name=False)

        def on_compare_export(current: Comparison | None, ui_lang: str, kind: ExportKind) -> tuple[Any, str]:
            path = view.export_file(current, kind, ui_lang)
            if path is None:
                return gr.update(visible=False, value=None), t("compare.export_empty", ui_lang)
            return gr.update(visible=True, value=str(path)), ""

        exports: tuple[tuple[Any, ExportKind], ...] = ((cmp.export_md, "md"), (cmp.export_csv, "csv"))
        for button, kind in exports:
            button.click(functools.partial(on_compare_export, kind=kind), [cmp.comparison, ui], [cmp.file, cmp.status])

        def ask(
            text: str, current: list[Exchange], conv: str, lang: str, docs: list[str], ui_lang: str, who: str
        ) -> Iterator[tuple[Any, ...]]:
            views = chat.respond(text, current, conv, lang, docs, ui_lang, owner=who)
            yield from ((*view, "") for view in views)  # "": clear the question box

        ask_inputs = [question, exchanges, conversation, answer_language, documents, ui, owner]
        for trigger in (question.submit, send.click):
            trigger(ask, ask_inputs, [*chat_outputs, question], concurrency_limit=CONCURRENCY, api_name="ask")

        def ask_example(
            current: list[Exchange], conv: str, lang: str, docs: list[str], ui_lang: str, who: str, evt: gr.SelectData
        ) -> Iterator[ChatView]:
            value = evt.value if isinstance(evt.value, dict) else {"text": str(evt.value)}
            yield from chat.respond(value.get("text", ""), current, conv, lang, docs, ui_lang, owner=who)

        chatbot.example_select(ask_example, ask_inputs[1:], chat_outputs, concurrency_limit=CONCURRENCY)

        def on_like(current: list[Exchange], ui_lang: str, evt: gr.LikeData) -> tuple[int | None, str]:
            index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            return chat.rate(current, int(index), evt.liked is True, ui_lang)

        chatbot.like(on_like, [exchanges, ui], [feedback_id, status])
        comment_send.click(chat.comment, [feedback_id, comment, ui], [comment, status])
        comment.submit(chat.comment, [feedback_id, comment, ui], [comment, status])

        def on_new(ui_lang: str) -> tuple[Any, ...]:
            return (*chat.new_conversation(ui_lang), None, "")  # None: no rating to comment on

        new.click(on_new, [ui], [*chat_outputs, feedback_id, status])
        chatbot.clear(on_new, [ui], [*chat_outputs, feedback_id, status])  # the chat's own 🗑 button

        def on_export(current: list[Exchange], conv: str, ui_lang: str) -> tuple[Any, str]:
            path = chat.export_file(current, conv, ui_lang)
            if path is None:
                return gr.update(visible=False, value=None), t("web.export_empty", ui_lang)
            return gr.update(visible=True, value=str(path)), ""

        export.click(on_export, [exchanges, conversation, ui], [export_file, status])
    return demo


def _answer_languages(lang: str) -> list[tuple[str, str]]:
    return [(t("web.auto", lang), "auto"), ("Nederlands", "nl"), ("English", "en")]


def _labels(chat: WebChat, lang: str) -> tuple[Any, ...]:
    """The new value of each of the page's labelled components (`label_outputs`) in interface language `lang`."""
    return (
        f"## {t('web.title', lang)}",
        chat.banner(lang),
        gr.update(label=t("web.question", lang), placeholder=t("web.placeholder", lang)),
        gr.update(value=t("web.send", lang)),
        gr.update(label=t("web.comment", lang), placeholder=t("web.comment_placeholder", lang)),
        gr.update(value=t("web.send_comment", lang)),
        gr.update(value=t("web.new", lang)),
        gr.update(value=t("web.export", lang)),
        gr.update(label=t("web.answer_language", lang), choices=_answer_languages(lang)),
        gr.update(label=t("web.documents", lang), info=t("web.documents_info", lang), choices=chat.document_choices()),
        f"### {t('sources', lang)}",
        gr.update(label=t("compare.tab_chat", lang)),
        gr.update(label=t("compare.tab", lang)),
        *_compare_labels(chat, lang),
    )


@dataclass(frozen=True)
class _CompareTab:
    """The compare view's components."""

    topic: Any
    year_from: Any
    year_to: Any
    documents: Any
    run: Any
    export_md: Any
    export_csv: Any
    status: Any
    table: Any
    file: Any
    sources_title: Any
    sources: Any
    comparison: Any  # gr.State: the comparison shown (for the exports and a change of language)

    @property
    def labelled(self) -> list[Any]:
        """The components `_compare_labels` relabels, in its order."""
        return [self.topic, self.year_from, self.year_to, self.documents, self.run, self.export_md, self.export_csv,
                self.sources_title]  # fmt: skip


def _compare_tab(chat: WebChat) -> _CompareTab:
    """The "Vergelijken over tijd" view: a topic, the documents and years, the table of documents by year
    and the sources panel its links open."""
    with gr.Row():
        with gr.Column(scale=3):
            with gr.Row():
                topic = gr.Textbox(
                    label=t("compare.topic"),
                    placeholder=t("compare.topic_placeholder"),
                    scale=4,
                    elem_id="pa-cmp-topic",
                )
                year_from = gr.Textbox(label=t("compare.from"), placeholder="2011", scale=1, elem_id="pa-cmp-from")
                year_to = gr.Textbox(label=t("compare.to"), placeholder="2026", scale=1, elem_id="pa-cmp-to")
            documents = gr.Dropdown(
                choices=chat.document_choices(),
                multiselect=True,
                label=t("web.documents"),
                info=t("web.documents_info"),
                elem_id="pa-cmp-docs",
            )
            with gr.Row():
                run = gr.Button(t("compare.run"), variant="primary", elem_id="pa-cmp-run")
                export_md = gr.Button(t("compare.export_md"), elem_id="pa-cmp-md")
                export_csv = gr.Button(t("compare.export_csv"), elem_id="pa-cmp-csv")
            status = gr.Markdown("", elem_id="pa-cmp-status")
            table = gr.HTML(compare_table_html(None), elem_id="pa-cmp-table")
            file = gr.File(label=t("web.export_file"), visible=False, elem_id="pa-cmp-file")
        with gr.Column(scale=2):
            sources_title = gr.Markdown(f"### {t('sources')}")
            sources = gr.HTML(compare_sources_html(None), elem_id="pa-cmp-sources")
    return _CompareTab(
        topic, year_from, year_to, documents, run, export_md, export_csv, status, table, file, sources_title, sources,
        gr.State(None),
    )  # fmt: skip


def _compare_labels(chat: WebChat, lang: str) -> tuple[Any, ...]:
    """The new value of each of `_CompareTab.labelled` in interface language `lang`."""
    return (
        gr.update(label=t("compare.topic", lang), placeholder=t("compare.topic_placeholder", lang)),
        gr.update(label=t("compare.from", lang)),
        gr.update(label=t("compare.to", lang)),
        gr.update(label=t("web.documents", lang), info=t("web.documents_info", lang), choices=chat.document_choices()),
        gr.update(value=t("compare.run", lang)),
        gr.update(value=t("compare.export_md", lang)),
        gr.update(value=t("compare.export_csv", lang)),
        f"### {t('sources', lang)}",
    )
