"""Generative backends: a one-method `LLM` protocol and its OpenAI-compatible implementation.

`OpenAIChat` talks to any `/v1/chat/completions` endpoint (OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp)
through the official `openai` SDK. Every failure, including one in the middle of a stream, becomes one
`LLMError` line that names the endpoint and says what to do; the caller decides whether to fall back.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from assistant.redact import redact
from assistant.types import Message
from errors import ConfigError, LLMError

if TYPE_CHECKING:
    import openai

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Local servers ignore the key, but the SDK refuses to start without one.
PLACEHOLDER_KEY = "not-needed"
_FALLBACK_HINT = "or use --mode extractive"
_MAX_DETAIL = 200


@runtime_checkable
class LLM(Protocol):
    """Turns chat messages into text, streamed as deltas."""

    @property
    def model(self) -> str: ...

    def stream(self, messages: Sequence[Message]) -> Iterator[str]: ...


def complete(llm: LLM, messages: Sequence[Message]) -> str:
    """The whole reply of `llm` to `messages`, as one string."""
    return "".join(llm.stream(messages))


def _from_env(value: str | None, name: str) -> str | None:
    """`value` if given, else the environment variable `name`; empty strings count as unset."""
    if value is not None and value.strip():
        return value.strip()
    env = os.environ.get(name, "").strip()
    return env or None


class OpenAIChat:
    """Any OpenAI-compatible chat completions endpoint, streamed through the official openai SDK.

    `base_url` and `api_key` fall back to `OPENAI_BASE_URL` and `OPENAI_API_KEY` when None; an explicit
    argument wins. `max_retries` is the SDK's: it retries connection errors, timeouts, 408/409/429 and 5xx
    with exponential backoff (0.5 s doubling, at most 8 s), honouring Retry-After up to 60 s.
    """

    def __init__(
        self,
        base_url: str | None,
        model: str,
        api_key: str | None = None,
        temperature: float = 0.0,
        timeout: float = 30.0,
        max_retries: int = 2,
        max_tokens: int | None = 600,
    ) -> None:
        if not model or not model.strip():
            raise ConfigError("no language model name given: set ASSISTANT_OPENAI_MODEL")
        if timeout <= 0:
            raise ConfigError(f"the language model timeout must be positive, got {timeout!r}")
        if max_retries < 0:
            raise ConfigError(f"the language model retries must be 0 or more, got {max_retries!r}")
        if max_tokens is not None and max_tokens < 1:
            raise ConfigError(f"max_tokens must be at least 1 (or unset), got {max_tokens!r}")
        if not 0.0 <= temperature <= 2.0:
            raise ConfigError(f"temperature must be between 0 and 2, got {temperature!r}")
        url = _from_env(base_url, "OPENAI_BASE_URL") or DEFAULT_BASE_URL
        if not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"the language model URL {redact(url)!r} must start with http:// or https://, "
                "e.g. http://127.0.0.1:8080/v1: check ASSISTANT_OPENAI_BASE_URL"
            )
        self._base_url = url.rstrip("/")
        self._model = model.strip()
        self._temperature = temperature
        self._timeout = timeout
        self._max_retries = max_retries
        self._max_tokens = max_tokens
        key = _from_env(api_key, "OPENAI_API_KEY")
        self._has_key = key is not None
        import openai  # here, not at the top: the SDK takes most of a second to import, extractive needs none

        # The key lives only inside the SDK client, so no attribute of ours can print it.
        self._client = openai.OpenAI(
            base_url=self._base_url,
            api_key=key or PLACEHOLDER_KEY,
            timeout=timeout,
            max_retries=max_retries,
        )

    @property
    def model(self) -> str:
        return self._model

    @property
    def base_url(self) -> str:
        return self._base_url

    def __repr__(self) -> str:
        key = "'***'" if self._has_key else "None"
        return (
            f"OpenAIChat(base_url={redact(self._base_url)!r}, model={self._model!r}, api_key={key}, "
            f"timeout={self._timeout!r}, max_retries={self._max_retries!r})"
        )

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        """Yield the reply's text deltas; any failure, also mid-stream, raises `LLMError`."""
        import openai

        if not messages:
            raise ValueError("stream() needs at least one message")
        payload: list[Any] = [{"role": m.role, "content": m.content} for m in messages]
        options: dict[str, Any] = {"temperature": self._temperature}
        if self._max_tokens is not None:
            options["max_tokens"] = self._max_tokens
        log.debug("chat request to %s (model %s, %d messages)", redact(self._base_url), self._model, len(payload))
        try:
            response = self._client.chat.completions.create(model=self._model, messages=payload, stream=True, **options)
        except (openai.OpenAIError, ValueError) as err:
            raise self._error(err, streaming=False) from err

        finish_reason: str | None = None
        try:
            for chunk in response:
                for choice in getattr(chunk, "choices", None) or ():
                    if (getattr(choice, "index", 0) or 0) != 0:  # n=1: other choices never come
                        continue
                    delta = getattr(choice, "delta", None)
                    text = getattr(delta, "content", None)
                    if text:
                        yield text
                    finish_reason = getattr(choice, "finish_reason", None) or finish_reason
        except (openai.OpenAIError, ValueError) as err:
            raise self._error(err, streaming=True) from err
        finally:
            # Also when the caller stops reading (`close()`: its client went away): the connection to the
            # model server closes now, and the model stops writing an answer nobody reads.
            response.close()
        if finish_reason is None:
            # A stream cut off cleanly still lacks the final chunk that every server sends.
            raise LLMError(
                f"the language model at {redact(self._base_url)} ended its answer without finishing it: "
                f"try again {_FALLBACK_HINT} (a server that stops like this may have run out of context: "
                "give the model a context window of at least 4,096 tokens, e.g. llama.cpp --ctx-size 4096)"
            )
        if finish_reason == "length":
            log.info("the answer of %s was cut at max_tokens=%s", self._model, self._max_tokens)

    def _redact(self, text: object) -> str:
        """`text` on one short line, with the API key (should a server echo it) blanked out."""
        line = redact(" ".join(str(text).split()))
        key = self._client.api_key
        if self._has_key and isinstance(key, str) and key:
            line = line.replace(key, "***")
        return line if len(line) <= _MAX_DETAIL else line[: _MAX_DETAIL - 1] + "…"

    def _detail(self, err: openai.APIStatusError) -> str:
        """The server's own explanation, without the SDK's "Error code: 500 - " prefix."""
        body = err.body
        if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"].strip():
            return self._redact(body["message"])
        return self._redact(re.sub(r"^Error code: \d+ - ", "", err.message))

    def _error(self, err: Exception, *, streaming: bool) -> LLMError:
        """Translate an openai SDK error into one actionable line that never holds the key."""
        import openai

        where = f"the language model at {redact(self._base_url)}"
        tried = f", tried {self._max_retries + 1} times" if self._max_retries else ""
        if isinstance(err, openai.APITimeoutError):
            if streaming:
                msg = (
                    f"{where} stalled for more than {self._timeout:g} s in the middle of its answer: "
                    f"try again, raise the timeout, {_FALLBACK_HINT}"
                )
            else:
                msg = (
                    f"{where} did not answer within {self._timeout:g} s{tried}: check that it is running "
                    f"and not overloaded, raise the timeout, {_FALLBACK_HINT}"
                )
        elif isinstance(err, openai.APIConnectionError):
            cause = self._redact(err.__cause__ or err)
            if streaming:
                msg = f"{where} broke off its answer mid-stream ({cause}): try again {_FALLBACK_HINT}"
            else:
                msg = f"{where} is unreachable ({cause}): start it or check ASSISTANT_OPENAI_BASE_URL, {_FALLBACK_HINT}"
        elif isinstance(err, openai.AuthenticationError | openai.PermissionDeniedError):
            # The server's own text is left out: some echo the key back.
            state = "refused the API key" if self._has_key else "needs an API key"
            msg = f"{where} {state} (HTTP {err.status_code}): check ASSISTANT_OPENAI_API_KEY"
        elif isinstance(err, openai.NotFoundError):
            msg = (
                f"{where} answered HTTP 404 for model {self._model!r}: check the model name "
                "(ASSISTANT_OPENAI_MODEL) and that the base URL ends in /v1"
            )
        elif isinstance(err, openai.RateLimitError):
            msg = (
                f"{where} is rate-limited (HTTP 429{tried}): wait a minute and try again, "
                f"check the account's quota, {_FALLBACK_HINT}"
            )
        elif isinstance(err, openai.APIStatusError) and err.status_code >= 500:
            msg = (
                f"{where} failed with HTTP {err.status_code}{tried} ({self._detail(err)}): "
                f"check the server's log {_FALLBACK_HINT}"
            )
        elif isinstance(err, openai.APIStatusError):
            msg = (
                f"{where} rejected the request for model {self._model!r} with HTTP {err.status_code} "
                f"({self._detail(err)}): check the model name, its context size and the server's log"
            )
        else:
            when = " mid-stream" if streaming else ""
            msg = (
                f"{where} gave an unusable answer{when} ({self._redact(err)}): check that it is an "
                f"OpenAI-compatible chat endpoint, {_FALLBACK_HINT}"
            )
        return LLMError(msg)
