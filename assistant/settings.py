"""One settings object for the whole application, read from `ASSISTANT_*` variables and a `.env` file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from errors import ConfigError
from index.corpus import DEFAULT_CORPUS_DIR


class Settings(BaseSettings):
    """Every setting, with its default; the README's configuration table mirrors this class."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    data_dir: Path = Field(Path("data"), description="Where the Chroma store, caches and databases live.")
    corpus_dir: Path = Field(DEFAULT_CORPUS_DIR, description="The bundled corpus folder with manifest.json.")

    chunk_tokens: int = Field(200, ge=50, le=2000, description="Token budget of one chunk (tiktoken cl100k).")
    chunk_overlap: int = Field(30, ge=0, le=500, description="Tokens carried over between parts of a long section.")
    max_document_mb: float = Field(10.0, gt=0, le=1024, description="`index` refuses user files larger than this.")

    embed_backend: Literal["e5", "openai"] = Field("e5", description="`e5` (bundled) or `openai` (an endpoint).")
    embed_base_url: str | None = Field(None, description="OpenAI-compatible embeddings endpoint, e.g. http://host/v1.")
    embed_model: str | None = Field(None, description="Embedding model name at that endpoint.")
    embed_query_model: str | None = Field(None, description="Model name for queries, if the server tells them apart.")
    embed_api_key: SecretStr | None = Field(None, description="Key for the embeddings endpoint.")
    embed_threads: int | None = Field(None, ge=1, description="Threads for the bundled embedder (default: all cores).")

    chroma_host: str | None = Field(None, description="Chroma server host; unset means Chroma on disk in data_dir.")
    chroma_port: int = Field(8000, ge=1, le=65535, description="Chroma server port.")

    database_url: SecretStr | None = Field(
        None,
        description="Database for conversations and feedback, e.g. postgresql+psycopg://user:pass@host:5432/assistant; "
        "unset: SQLite files in data_dir.",
    )

    search_k: int = Field(5, ge=1, le=50, description="Number of passages returned by a search and used as sources.")

    answer_mode: Literal["extractive", "openai"] = Field(
        "extractive", description="`extractive` (no model needed) or `openai` (an OpenAI-compatible chat endpoint)."
    )
    language: Literal["auto", "nl", "en"] = Field("auto", description="Answer language; `auto` follows the question.")
    openai_base_url: str | None = Field(
        None, description="Chat endpoint, e.g. http://127.0.0.1:8000/v1 (else OPENAI_BASE_URL)."
    )
    openai_api_key: SecretStr | None = Field(None, description="Key for the chat endpoint (else OPENAI_API_KEY).")
    openai_model: str | None = Field(None, description="Chat model name at that endpoint.")
    openai_temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    openai_timeout: float = Field(30.0, gt=0, le=600, description="Seconds to wait for the endpoint.")
    openai_max_retries: int = Field(2, ge=0, le=10, description="Retries (with backoff) on 429, 5xx and timeouts.")
    fallback_on_error: bool = Field(True, description="Answer extractively when the endpoint is down or fails.")
    unverified_fallback: bool = Field(
        False, description="Answer extractively when the model cites nothing valid (else mark it unverified)."
    )
    refusal_min_dense: float = Field(0.80, ge=0, le=1, description="Refuse when the best passage is less similar.")

    web_users: SecretStr | None = Field(
        None, description="Web login: `user:password,user2:password2`; required to bind beyond 127.0.0.1 safely."
    )

    slack_rate_limit: int = Field(
        5, ge=0, le=1000, description="Slack bot: questions per user per minute (0: no limit)."
    )

    reviewers: str | None = Field(
        None,
        description="Web logins (of web_users) that may open the review page, comma-separated; without a login "
        "configured the page is open on 127.0.0.1 only.",
    )
    gold_candidates: Path | None = Field(
        None, description="Where the review page saves gold candidates (default: data_dir/eval/gold/candidates.jsonl)."
    )
    retention_days: int | None = Field(
        None,
        ge=1,
        le=36_500,
        description="Delete conversations, issued answers, ratings and review notes older than this many days "
        "(at the start of web, serve and slack, and daily); unset: keep them.",
    )

    api_tokens: SecretStr | None = Field(
        None,
        description="Service API bearer tokens, comma-separated; required to serve beyond 127.0.0.1.",
    )
    api_max_inflight: int = Field(
        64, ge=1, le=10_000, description="Service API: requests answered at once; more get HTTP 429."
    )
    api_max_body_bytes: int = Field(
        65_536, ge=1024, le=10_000_000, description="Service API: largest request body accepted (else HTTP 413)."
    )
    log_questions: bool = Field(False, description="Service logs include the question text (off: only its length).")
    openai_breaker_failures: int = Field(
        3, ge=1, le=100, description="Failures in a row after which the chat endpoint is not called for a while."
    )
    openai_breaker_cooldown: float = Field(
        30.0, gt=0, le=3600, description="Seconds the chat endpoint is left alone after those failures."
    )
    judge_base_url: str | None = Field(
        None, description="`eval`: OpenAI-compatible endpoint of the LLM judge (faithfulness, relevance)."
    )
    judge_model: str | None = Field(None, description="`eval`: the judge's model name at that endpoint.")
    judge_api_key: SecretStr | None = Field(None, description="`eval`: key for the judge's endpoint.")
    warm_up: bool = Field(
        True, description="`serve`: embed the index's sentences in the background at start (once; kept on disk)."
    )
    embed_cache_size: int = Field(
        20_000, ge=0, le=1_000_000, description="Question and sentence vectors kept in memory (0: no cache)."
    )

    @field_validator(
        "embed_base_url",
        "embed_model",
        "chroma_host",
        "openai_base_url",
        "openai_model",
        "database_url",
        "judge_base_url",
        "judge_model",
        "reviewers",
        "gold_candidates",
        "retention_days",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def tiktoken_dir(self) -> Path:
        return self.data_dir / "tiktoken"

    @property
    def answers_path(self) -> Path:
        """The SQLite file of the answers the service issued (when no database URL is set)."""
        return self.data_dir / "answers.sqlite3"

    @property
    def candidates_path(self) -> Path:
        """The gold candidates file the review page writes."""
        return self.gold_candidates or self.data_dir / "eval" / "gold" / "candidates.jsonl"

    @property
    def llm_configured(self) -> bool:
        """An OpenAI-compatible chat model is configured (here or through OPENAI_BASE_URL/OPENAI_API_KEY)."""
        return bool(
            self.openai_model
            and (
                self.openai_base_url
                or os.environ.get("OPENAI_BASE_URL")
                or self.openai_api_key
                or os.environ.get("OPENAI_API_KEY")
            )
        )


def load_settings(**overrides: object) -> Settings:
    """Build the settings at an entry point; invalid values become one readable `ConfigError`."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        problems = "; ".join(
            f"ASSISTANT_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(f"invalid setting: {problems}") from err
    if settings.embed_backend == "openai" and not (settings.embed_base_url and settings.embed_model):
        raise ConfigError(
            "ASSISTANT_EMBED_BACKEND=openai needs ASSISTANT_EMBED_BASE_URL and ASSISTANT_EMBED_MODEL; "
            "or unset ASSISTANT_EMBED_BACKEND to use the bundled model"
        )
    if settings.answer_mode == "openai" and not settings.llm_configured:
        raise ConfigError(
            "ASSISTANT_ANSWER_MODE=openai needs ASSISTANT_OPENAI_MODEL and ASSISTANT_OPENAI_BASE_URL (or "
            "OPENAI_API_KEY for OpenAI itself); or use the extractive mode"
        )
    return settings
