"""Wiring: turn one `Settings` into the parts every interface uses (`build_assistant(settings)` → `Parts`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from assistant.settings import Settings

if TYPE_CHECKING:
    # Each part imports its modules when it is first built: a plain `ask` does not pay for SQLAlchemy
    # (storage) or the tokenizer, and `--help` for none of them.
    from assistant.compare import Comparer
    from assistant.conversation import Conversation
    from assistant.core import Assistant
    from assistant.llm import LLM
    from assistant.retrieve import Retriever
    from assistant.types import Answer
    from index.embed import Embedder
    from index.embed_cache import CachingEmbedder
    from index.pipeline import Indexer
    from index.store import IndexStore
    from index.tokens import TokenCounter
    from index.types import DocumentInfo
    from storage.conversations import ConversationStore
    from storage.db import Database
    from storage.feedback import FeedbackStore


@dataclass
class Parts:
    """The assistant, its stores and their settings, built lazily: nothing heavy (the model, Chroma, a
    database) loads until it is first used. Every interface and the evaluation receive this object."""

    settings: Settings

    @cached_property
    def embedder(self) -> Embedder:
        from index.embed import build_embedder

        s = self.settings
        return build_embedder(
            s.embed_backend,
            base_url=s.embed_base_url,
            model=s.embed_model,
            api_key=s.embed_api_key.get_secret_value() if s.embed_api_key else None,
            query_model=s.embed_query_model,
            num_threads=s.embed_threads,
        )

    @cached_property
    def store(self) -> IndexStore:
        from index.pipeline import VERSIONS
        from index.store import IndexStore, open_client

        s = self.settings
        model, cache_dir = self.embedder.name, s.data_dir / "cache"
        if s.chroma_host:  # every read asks the server: connect now, so a wrong address is told at once
            client = open_client(s.data_dir, s.chroma_host, s.chroma_port)
            return IndexStore(client, model=model, versions=VERSIONS, cache_dir=cache_dir)
        # Chroma on disk opens (and chromadb, most of a command's start-up, is imported) only when the store
        # needs it: a question is answered from the index pointer and the generation's saved copy.
        return IndexStore(
            None,
            model=model,
            versions=VERSIONS,
            cache_dir=cache_dir,
            connect=lambda: open_client(s.data_dir),
            chroma_dir=s.data_dir / "chroma",
        )

    @cached_property
    def tokens(self) -> TokenCounter:
        from index.tokens import TokenCounter

        return TokenCounter(self.settings.tiktoken_dir)

    @cached_property
    def indexer(self) -> Indexer:
        from index.chunk import Chunker
        from index.pipeline import Indexer

        s = self.settings
        # The tokenizer loads only when a document is chunked: a run with nothing to do never needs it.
        chunker = Chunker(self._count_tokens, max_tokens=s.chunk_tokens, overlap_tokens=s.chunk_overlap)
        return Indexer(
            self.store,
            self.embedder,
            chunker,
            s.corpus_dir,
            sentence_cache=self.answer_embedder,
            max_document_bytes=int(s.max_document_mb * 1024 * 1024),
        )

    @cached_property
    def answer_embedder(self) -> CachingEmbedder:
        """The embedder behind questions and sentence re-ranking: vectors kept (memory and disk), and
        concurrent questions embedded together."""
        from index.embed_batch import BatchingEmbedder
        from index.embed_cache import CachingEmbedder

        s = self.settings
        batching = BatchingEmbedder(self.embedder)
        return CachingEmbedder(batching, capacity=s.embed_cache_size, directory=s.data_dir / "cache")

    @cached_property
    def retriever(self) -> Retriever:
        from assistant.retrieve import Retriever

        return Retriever(
            self.store, self.answer_embedder, documents=self.documents, cache_dir=self.settings.data_dir / "cache"
        )

    @cached_property
    def documents(self) -> list[DocumentInfo]:
        """The bundled corpus' descriptions (aliases help find the document a question names)."""
        from index.corpus import read_manifest

        return read_manifest(self.settings.corpus_dir) if self.settings.corpus_dir else []

    @cached_property
    def llm(self) -> LLM | None:
        s = self.settings
        if not s.llm_configured:
            return None
        from assistant.breaker import CircuitBreaker
        from assistant.llm import OpenAIChat

        chat = OpenAIChat(
            base_url=s.openai_base_url,
            model=s.openai_model or "",
            api_key=s.openai_api_key.get_secret_value() if s.openai_api_key else None,
            temperature=s.openai_temperature,
            timeout=s.openai_timeout,
            max_retries=s.openai_max_retries,
        )
        return CircuitBreaker(chat, failures=s.openai_breaker_failures, cooldown=s.openai_breaker_cooldown)

    @cached_property
    def database(self) -> Database | None:
        """The database of ASSISTANT_DATABASE_URL, shared by conversations and feedback; None: SQLite files."""
        from storage.db import open_database

        url = self.settings.database_url
        return open_database(url.get_secret_value()) if url else None

    @cached_property
    def conversations(self) -> ConversationStore:
        from storage.conversations import ConversationStore

        return ConversationStore(self.database or self.settings.data_dir / "conversations.sqlite3")

    @cached_property
    def feedback(self) -> FeedbackStore:
        """Ratings from the web UI, the Slack bot and the API, in one store."""
        from storage.feedback import FeedbackStore

        return FeedbackStore(self.database or self.settings.data_dir / "feedback.sqlite3")

    @cached_property
    def assistant(self) -> Assistant:
        from assistant.answer import ExtractiveAnswerer, GenerativeAnswerer
        from assistant.core import Assistant, Policy

        s = self.settings
        llm = self.llm
        policy = Policy(
            k=s.search_k,
            min_dense=s.refusal_min_dense,
            fallback_on_error=s.fallback_on_error,
            unverified_fallback=s.unverified_fallback,
        )
        return Assistant(
            retriever=self.retriever,
            extractive=ExtractiveAnswerer(self.answer_embedder),
            generative=GenerativeAnswerer(llm) if llm else None,
            llm=llm,
            conversations=_StoredConversations(self),
            policy=policy,
            default_mode=s.answer_mode,
            forced_language=None if s.language == "auto" else s.language,
        )

    @cached_property
    def comparer(self) -> Comparer:
        """Comparison answers (what each document says on a topic, in year order), over the assistant's parts."""
        from assistant.compare import Comparer

        a = self.assistant
        return Comparer(
            a.retriever,
            a.extractive,
            self.llm,
            documents=self.documents,
            default_mode=a.default_mode,
            forced_language=a.forced_language,
            fallback_on_error=a.policy.fallback_on_error,
        )

    def _count_tokens(self, text: str) -> int:
        return self.tokens.count(text)


class _StoredConversations:
    """The parts' conversation store, opened on first use: a question asked without a conversation id never
    opens the database (nor imports SQLAlchemy)."""

    def __init__(self, parts: Parts) -> None:
        self._parts = parts

    def get_or_new(self, conversation_id: str | None, owner: str | None = None) -> Conversation:
        return self._parts.conversations.get_or_new(conversation_id, owner)

    def record(self, conversation: Conversation, answer: Answer) -> None:
        self._parts.conversations.record(conversation, answer)


def build_assistant(settings: Settings) -> Parts:
    """The parts every interface shares (assistant, stores, feedback, documents), wired from one settings
    object; nothing heavy loads until it is first used."""
    return Parts(settings)
