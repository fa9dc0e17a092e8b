"""The Gradio page of the web chat: components, their wiring to `WebChat`'s callbacks, labels in both
interface languages, and the look (theme, CSS and the citation script from `static/`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from ui.i18n import EXAMPLES, t
from ui.web.chat import SESSION_ID, ChatView, WebChat, new_session_id, principal
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
    return (STATIC / "web.css").read_text(encoding="utf-8")


def head() -> str:
    """The page's extra <head>: the script that brings a cited source into view."""
    return f"<script>\n{(STATIC / 'cite.js').read_text(encoding='utf-8')}</script>\n"


def build_blocks(chat: WebChat, secret: str | None = None) -> gr.Blocks:
    """The Gradio interface around `chat`'s callbacks; `secret` encrypts the conversation id the browser keeps."""
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
                        label=t("web.question"), placeholder=t("web.placeholder"), scale=5, elem_id="pa-question"
                    )
                    send = gr.Button(t("web.send"), variant="primary", scale=1, elem_id="pa-send")
                with gr.Row():
                    comment = gr.Textbox(
                        label=t("web.comment"), placeholder=t("web.comment_placeholder"), scale=5, elem_id="pa-comment"
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

        chat_outputs = [chatbot, sources, exchanges, conversation]
        label_outputs = [
            title, banner, question, send, comment, comment_send, new, export, answer_language, documents,
            sources_title,
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
    )
