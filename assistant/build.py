"""Wiring: turn one `Settings` into the parts every interface uses (`build_assistant(settings)` → `Parts`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from assistant.answer import ExtractiveAnswerer, GenerativeAnswerer
from assistant.breaker import CircuitBreaker
from assistant.core import Assistant, Policy
from assistant.llm import LLM, OpenAIChat
from assistant.retrieve import Retriever
from assistant.settings import Settings
from index.chunk import Chunker
from index.corpus import read_manifest
from index.embed import Embedder, build_embedder
from index.embed_batch import BatchingEmbedder
from index.embed_cache import CachingEmbedder
from index.pipeline import VERSIONS, Indexer
from index.store import IndexStore, open_client
from index.tokens import TokenCounter
from index.types import DocumentInfo
from storage.conversations import ConversationStore
from storage.db import Database, open_database
from storage.feedback import FeedbackStore


@dataclass
class Parts:
    """The assistant, its stores and their settings, built lazily: nothing heavy (the model, Chroma, a
    database) loads until it is first used. Every interface and the evaluation receive this object."""

    settings: Settings

    @cached_property
    def embedder(self) -> Embedder:
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
        s = self.settings
        client = open_client(s.data_dir, s.chroma_host, s.chroma_port)
        return IndexStore(client, model=self.embedder.name, versions=VERSIONS)

    @cached_property
    def tokens(self) -> TokenCounter:
        return TokenCounter(self.settings.tiktoken_dir)

    @cached_property
    def indexer(self) -> Indexer:
        s = self.settings
        chunker = Chunker(self.tokens.count, max_tokens=s.chunk_tokens, overlap_tokens=s.chunk_overlap)
        return Indexer(self.store, self.embedder, chunker, s.corpus_dir, sentence_cache=self.answer_embedder)

    @cached_property
    def answer_embedder(self) -> CachingEmbedder:
        """The embedder behind questions and sentence re-ranking: vectors kept (memory and disk), and
        concurrent questions embedded together."""
        s = self.settings
        batching = BatchingEmbedder(self.embedder)
        return CachingEmbedder(batching, capacity=s.embed_cache_size, directory=s.data_dir / "cache")

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.store, self.answer_embedder, documents=self.documents)

    @cached_property
    def documents(self) -> list[DocumentInfo]:
        """The bundled corpus' descriptions (aliases help find the document a question names)."""
        return read_manifest(self.settings.corpus_dir) if self.settings.corpus_dir else []

    @cached_property
    def llm(self) -> LLM | None:
        s = self.settings
        if not s.llm_configured:
            return None
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
        url = self.settings.database_url
        return open_database(url.get_secret_value()) if url else None

    @cached_property
    def conversations(self) -> ConversationStore:
        return ConversationStore(self.database or self.settings.data_dir / "conversations.sqlite3")

    @cached_property
    def feedback(self) -> FeedbackStore:
        """Ratings from the web UI, the Slack bot and the API, in one store."""
        return FeedbackStore(self.database or self.settings.data_dir / "feedback.sqlite3")

    @cached_property
    def assistant(self) -> Assistant:
        s = self.settings
        llm = self.llm
        policy = Policy(
            k=s.search_k,
            min_dense=s.refusal_min_dense,
            min_sentence_similarity_nl=s.refusal_sentence_nl,
            min_sentence_similarity_en=s.refusal_sentence_en,
            fallback_on_error=s.fallback_on_error,
            unverified_fallback=s.unverified_fallback,
        )
        return Assistant(
            retriever=self.retriever,
            extractive=ExtractiveAnswerer(self.answer_embedder),
            generative=GenerativeAnswerer(llm) if llm else None,
            llm=llm,
            conversations=self.conversations,
            policy=policy,
            default_mode=s.answer_mode,
            forced_language=None if s.language == "auto" else s.language,
        )


def build_assistant(settings: Settings) -> Parts:
    """The parts every interface shares (assistant, stores, feedback, documents), wired from one settings
    object; nothing heavy loads until it is first used."""
    return Parts(settings)
