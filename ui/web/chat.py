"""The web chat's behaviour, independent of Gradio: every `WebChat` method is the body of one callback.

The chat does no retrieval or prompting of its own: every answer comes from `parts.assistant`, feedback goes
to `parts.feedback`, and a conversation is kept in `parts.conversations` so a page reload can resume it.

Every conversation belongs to its principal (`owner`): `web:user:<login>` behind a login, otherwise
`web:session:<random id>` that the browser keeps. Conversation ids come from the server
(`ConversationStore.new`); an id of another principal, a Slack thread's included, is "not found" and the chat
starts a new conversation, never showing or extending someone else's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from assistant.compare import Comparison, attach
from assistant.conversation import Conversation
from assistant.core import Delta, Done, Reset, validate_question
from assistant.types import Answer, Language
from errors import InputError, NotFoundError, PolicyAssistantError, StoreError
from index.sections import section_texts
from index.types import Chunk
from ui.i18n import t
from ui.web import compare, export, render
from ui.web.render import ChatMessage, SectionTexts
from ui.web.state import Exchange

if TYPE_CHECKING:
    from assistant.build import Parts

# What a chat callback returns to the page: messages, sources panel HTML, the exchanges, the conversation id.
ChatView = tuple[list[ChatMessage], str, list[Exchange], str]
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{22,64}")  # what `new_session_id` makes
KEPT_COMPARISONS = 512  # the entries of comparative answers kept for showing them again (page reloads)
RESUMED_COMPARISONS = 10  # the most recent turns of a resumed conversation whose entries are rebuilt


def new_session_id() -> str:
    """A random, unguessable id for a browser without a login (kept in its local storage)."""
    return secrets.token_urlsafe(24)


def principal(login: str | None, session_id: str) -> str:
    """The owner of a browser's conversations: its login, or else its session id."""
    if login:
        return f"web:user:{login}"
    if not SESSION_ID.fullmatch(session_id):
        raise InputError("the browser session id is missing or malformed; reload the page")
    return f"web:session:{session_id}"


class WebChat:
    """The callbacks of the web chat over one `Parts`."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        # The whole text of every section, for the chunks it was built from (the list of one index generation).
        self._sections: tuple[list[Chunk] | None, SectionTexts] = (None, {})
        # Exports for download, in one private folder removed when the process ends.
        self._exports = tempfile.TemporaryDirectory(prefix="policy-assistant-export-")
        # The entries of the comparative questions' answers, shown inline under them; by answer, newest last.
        self._comparisons: OrderedDict[tuple[str | None, str, str], Comparison] = OrderedDict()
        self._comparisons_lock = threading.Lock()

    # -- header

    def banner(self, ui: str = "nl") -> str:
        """The answer mode and the index status, as one Markdown line."""
        try:
            mode = str(self.parts.assistant.mode)
        except PolicyAssistantError as err:
            mode = str(err)
        try:
            status = self.parts.store.status()
            if status.chunks:
                when = (
                    dt.datetime.fromtimestamp(status.indexed_at).strftime("%Y-%m-%d %H:%M")
                    if status.indexed_at
                    else t("web.never", ui)
                )
                index = t("web.index_status", ui, documents=status.documents, chunks=status.chunks, when=when)
            else:
                index = t("web.index_empty", ui)
        except PolicyAssistantError as err:
            index = t("web.index_unavailable", ui, error=err)
        return f"**{t('web.mode', ui)}:** `{mode}` · **{t('web.index', ui)}:** {index}"

    def document_choices(self) -> list[tuple[str, str]]:
        """(label, doc_id) for the document filter."""
        try:
            docs = self.parts.store.documents()
        except PolicyAssistantError:
            return []
        return [(f"{d.title} ({d.year})" if d.year else d.title, d.doc_id) for d in docs]

    # -- chat

    def respond(
        self,
        question: str,
        exchanges: Sequence[Exchange] | None,
        conversation_id: str | None,
        answer_language: str = "auto",
        doc_ids: Sequence[str] | None = None,
        ui: str = "nl",
        *,
        owner: str,
    ) -> Iterator[ChatView]:
        """Ask the assistant in `owner`'s conversation `conversation_id` (a new one when empty or not theirs)
        and stream the view as the answer grows. An empty question does nothing.

        Errors never escape: they become a plain assistant message, and the app keeps running."""
        shown = list(exchanges or [])
        if not str(question or "").strip():
            return
        exchange = Exchange(str(question).strip())
        shown.append(exchange)
        try:
            question = validate_question(question)
            self._check_index(ui)
            conversation, kept = self._conversation(conversation_id, owner)
            conversation_id = conversation.id if kept else ""  # an unkept one is not worth resuming
            language = cast(Language, answer_language) if answer_language in ("nl", "en") else None
            events = self.parts.assistant.ask_stream(
                question,
                conversation,
                doc_ids=list(doc_ids) if doc_ids else None,
                language=language,
                remember=kept,
            )
            yield self._view(shown, conversation_id, ui)
            for event in events:
                if isinstance(event, Delta):
                    exchange = shown[-1] = dataclasses.replace(exchange, partial=exchange.partial + event.text)
                    yield self._view(shown, conversation_id, ui)
                elif isinstance(event, Reset):
                    exchange = shown[-1] = dataclasses.replace(exchange, partial="")
                elif isinstance(event, Done):
                    answer = event.answer
                    if not kept:
                        notice = t("web.history_unavailable", ui)
                        answer = dataclasses.replace(answer, notices=(*answer.notices, notice))
                    self._compare(answer, doc_ids)
                    exchange = shown[-1] = dataclasses.replace(exchange, answer=answer, partial="")
        except PolicyAssistantError as err:
            shown[-1] = dataclasses.replace(exchange, error=str(err), partial="")
        except Exception as err:  # noqa: BLE001 - a bug or a library failure must not take the app down
            error = t("web.error_internal", ui, error=f"{type(err).__name__}: {err}")
            shown[-1] = dataclasses.replace(exchange, error=error, partial="")
        yield self._view(shown, conversation_id or "", ui)

    def _check_index(self, ui: str) -> None:
        if not self.parts.store.status().chunks:
            raise PolicyAssistantError(t("web.index_empty", ui))

    def _conversation(self, conversation_id: str | None, owner: str) -> tuple[Conversation, bool]:
        """`owner`'s conversation `conversation_id`, or a new one when there is none or it is not theirs; and
        whether it is kept. With the database down, a conversation in memory only: the question is still
        answered (the store reconnects by itself once the database is back)."""
        if not owner:
            raise InputError("this browser session has no owner yet; reload the page")
        try:
            if conversation_id:
                try:
                    return self.parts.conversations.get(conversation_id, owner), True
                except NotFoundError:
                    pass  # someone else's id, or one that is gone: never theirs, a new conversation instead
            return self.parts.conversations.new(owner), True
        except StoreError:
            return Conversation(owner=owner), False

    def resume(self, conversation_id: str | None, ui: str = "nl", *, owner: str) -> tuple[ChatView, str]:
        """`owner`'s stored conversation `conversation_id` (after a page reload or from `?conversation=`) and a
        status text: an empty chat with "conversation not found" when the id is unknown or not theirs."""
        if not conversation_id:
            return self._view([], "", ui), ""
        try:
            turns = self.parts.conversations.history(conversation_id, owner)
        except NotFoundError:
            return self._view([], "", ui), t("web.conversation_not_found", ui)
        except StoreError:  # the database is down: the chat itself still answers
            return self._view([], conversation_id, ui), t("web.history_unavailable", ui)
        for turn in turns[-RESUMED_COMPARISONS:]:
            self._compare(turn.answer, None)
        return self._view([Exchange.recorded(turn) for turn in turns], conversation_id, ui), ""

    def new_conversation(self, ui: str = "nl") -> ChatView:
        """An empty chat; its conversation is made by the first question."""
        return [], self.sources_html([], ui), [], ""

    # -- feedback

    def rate(
        self, exchanges: Sequence[Exchange], message_index: int, liked: bool, ui: str = "nl"
    ) -> tuple[int | None, str]:
        """Store 👍/👎 for the answer at `message_index` of the chat; returns (feedback id, status text)."""
        turn_index = message_index // 2  # each exchange is two messages: the question and the answer
        answer = exchanges[turn_index].answer if 0 <= turn_index < len(exchanges) else None
        if answer is None:
            return None, t("web.rate_first", ui)
        try:
            feedback_id = self.parts.feedback.add(answer, "up" if liked else "down", channel="web")
        except PolicyAssistantError as err:  # e.g. the database is down: say so instead of failing the callback
            return None, str(err)
        return feedback_id, t("web.thanks", ui)

    def comment(self, feedback_id: int | None, text: str, ui: str = "nl") -> tuple[str, str]:
        """Attach a comment to the last rating; returns (new comment box value, status text)."""
        if feedback_id is None:
            return text, t("web.rate_first", ui)
        try:
            self.parts.feedback.set_comment(int(feedback_id), text)
        except PolicyAssistantError as err:
            return text, str(err)
        return "", t("web.thanks_comment", ui)

    # -- export

    def export_file(self, exchanges: Sequence[Exchange], conversation_id: str | None, ui: str = "nl") -> Path | None:
        """The conversation as a Markdown file to download; None when there is nothing yet."""
        return export.export_file(exchanges, conversation_id, Path(self._exports.name), ui)

    # -- rendering

    def messages(self, exchanges: Sequence[Exchange], ui: str = "nl") -> list[ChatMessage]:
        """The chat as Gradio messages; a comparative question's answer is followed by its entries."""
        out = render.messages(exchanges, ui)
        for i, exchange in enumerate(exchanges, start=1):
            comparison = self._comparison_of(exchange.answer)
            if comparison is not None:
                message = out[2 * i - 1]
                message["content"] += "\n\n" + compare.inline_markdown(comparison, i, ui)
        return out

    def sources_html(self, exchanges: Sequence[Exchange], ui: str = "nl") -> str:
        """The sources panel, with the whole text of each source's section (and those of a comparison's
        entries, numbered after the answer's own)."""
        shown = []
        for exchange in exchanges:
            comparison = self._comparison_of(exchange.answer)
            if exchange.answer is not None and comparison is not None:
                # The panel lists the sources the answer's text cites: those of the entries count as cited.
                with_entries = attach(exchange.answer, comparison)
                markers = "".join(f"[{n}]" for e in comparison.entries for n in e.sources)
                answer = dataclasses.replace(with_entries, text=f"{with_entries.text} {markers}")
                exchange = dataclasses.replace(exchange, answer=answer)
            shown.append(exchange)
        return render.sources_html(shown, self._section_texts(), ui)

    # -- comparisons

    @staticmethod
    def _key(answer: Answer) -> tuple[str | None, str, str]:
        return answer.conversation_id, answer.question, answer.text

    def _compare(self, answer: Answer, doc_ids: Sequence[str] | None) -> None:
        """Keep the entries of `answer` when its question compares documents or years."""
        try:
            comparison = self.parts.comparer.for_answer(answer, doc_ids=list(doc_ids) if doc_ids else None)
        except PolicyAssistantError:  # the answer stands without its entries
            return
        if comparison is None:
            return
        with self._comparisons_lock:
            self._comparisons[self._key(answer)] = comparison
            self._comparisons.move_to_end(self._key(answer))
            while len(self._comparisons) > KEPT_COMPARISONS:
                self._comparisons.popitem(last=False)

    def _comparison_of(self, answer: Answer | None) -> Comparison | None:
        if answer is None:
            return None
        with self._comparisons_lock:
            return self._comparisons.get(self._key(answer))

    def section_text(self, doc_id: str, section_path: str) -> str:
        """The whole text of one section of the active index ("" when it is unknown)."""
        return self._section_texts().get((doc_id, section_path), "")

    def _view(self, exchanges: list[Exchange], conversation_id: str, ui: str) -> ChatView:
        # A copy: the caller goes on changing its list while Gradio may still be sending this view.
        return self.messages(exchanges, ui), self.sources_html(exchanges, ui), list(exchanges), conversation_id

    def _section_texts(self) -> SectionTexts:
        try:
            chunks = self.parts.store.chunks()  # the same list while the index generation stays
        except PolicyAssistantError:
            return {}
        built_from, texts = self._sections
        if built_from is not chunks:
            texts = section_texts(chunks)
            self._sections = (chunks, texts)
        return texts
