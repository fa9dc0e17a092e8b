"""`OpenAIChat` against a real local OpenAI-compatible server over HTTP (the scripted test server)."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import openai
import pytest

from assistant.llm import LLM, OpenAIChat, complete
from assistant.types import Message
from errors import ConfigError, LLMError

# `tests.assistant.*` needs the repository root on sys.path: `python -m pytest` run there adds it, the bare
# `pytest` command does not (unless pytest's `pythonpath = ["."]` is set).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.assistant import openai_server  # noqa: E402
from tests.assistant.openai_server import ScriptedOpenAIServer  # noqa: E402

scripted_openai = openai_server.scripted_openai  # the fixture, under its own name

KEY = "sk-test-SECRET-4f9a1c"
QUESTION = [Message("user", "Wat regelt het Migratiepact?")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _error(llm: OpenAIChat, messages: list[Message] = QUESTION) -> str:
    with pytest.raises(LLMError) as info:
        complete(llm, messages)
    message = str(info.value)
    assert "\n" not in message  # interfaces print it as one line
    return message


def test_stream_yields_the_deltas_in_order_and_complete_joins_them(
    scripted_openai: ScriptedOpenAIServer,
) -> None:
    deltas = ["Het ", "pact ", "regelt ", "asiel ", "en ", "migratie", "."]
    scripted_openai.reply_text(deltas)
    scripted_openai.reply_text("Het pact regelt asiel en migratie.")
    llm = OpenAIChat(scripted_openai.base_url, "gemma-test")
    assert isinstance(llm, LLM)
    assert llm.model == "gemma-test"

    assert list(llm.stream(QUESTION)) == deltas
    assert complete(llm, QUESTION) == "Het pact regelt asiel en migratie."
    assert len(scripted_openai.chat_requests) == 2


def test_the_request_carries_the_messages_in_order_with_roles(scripted_openai: ScriptedOpenAIServer) -> None:
    scripted_openai.reply_text("Antwoord [1].")
    messages = [
        Message("system", "Antwoord alleen uit de bronnen."),
        Message("user", "Wat is de screeningsverordening?"),
        Message("assistant", "Een verordening over controles aan de buitengrens [1]."),
        Message("user", "En wanneer geldt die?"),
    ]
    llm = OpenAIChat(scripted_openai.base_url, "gemma-test", temperature=0.2, max_tokens=123)

    assert complete(llm, messages) == "Antwoord [1]."
    (request,) = scripted_openai.chat_requests
    assert request.body["messages"] == [{"role": m.role, "content": m.content} for m in messages]
    assert request.body["model"] == "gemma-test"
    assert request.body["stream"] is True
    assert request.body["temperature"] == 0.2
    assert request.body["max_tokens"] == 123
    # No key configured: a placeholder, because local servers need none but the SDK insists.
    assert request.headers["authorization"] == "Bearer not-needed"


def test_max_tokens_none_leaves_the_limit_to_the_server(scripted_openai: ScriptedOpenAIServer) -> None:
    scripted_openai.reply_text("ok")
    complete(OpenAIChat(scripted_openai.base_url, "m", max_tokens=None), QUESTION)
    assert "max_tokens" not in scripted_openai.chat_requests[0].body


def test_a_rate_limit_then_success_is_retried_by_the_sdk(scripted_openai: ScriptedOpenAIServer) -> None:
    scripted_openai.reply_status(429, "slow down", retry_after=0)
    scripted_openai.reply_text("Na een tweede poging.")
    llm = OpenAIChat(scripted_openai.base_url, "m", max_retries=2)

    assert complete(llm, QUESTION) == "Na een tweede poging."
    assert len(scripted_openai.chat_requests) == 2
    first, second = scripted_openai.chat_requests
    assert first.body == second.body


def test_retry_after_is_honoured(scripted_openai: ScriptedOpenAIServer) -> None:
    scripted_openai.reply_status(429, retry_after=1.0)
    scripted_openai.reply_text("ok")
    started = time.monotonic()
    assert complete(OpenAIChat(scripted_openai.base_url, "m", max_retries=1), QUESTION) == "ok"
    assert time.monotonic() - started >= 0.95  # the server asked for one second


def test_a_persistent_rate_limit_says_so(scripted_openai: ScriptedOpenAIServer) -> None:
    scripted_openai.reply_status(429, retry_after=0, times=2)
    message = _error(OpenAIChat(scripted_openai.base_url, "m", max_retries=1))
    assert "rate-limited" in message
    assert "HTTP 429" in message
    assert scripted_openai.base_url in message
    assert len(scripted_openai.chat_requests) == 2


def test_a_persistent_server_error_fails_after_the_configured_retries(
    scripted_openai: ScriptedOpenAIServer,
) -> None:
    scripted_openai.reply_status(500, "CUDA out of memory", retry_after=0, times=3)
    scripted_openai.reply_text("never reached")
    message = _error(OpenAIChat(scripted_openai.base_url, "m", max_retries=2))

    assert len(scripted_openai.chat_requests) == 3  # one attempt plus two retries
    assert scripted_openai.pending == 1
    assert "HTTP 500" in message
    assert "tried 3 times" in message
    assert "CUDA out of memory" in message
    assert scripted_openai.base_url in message
    assert "--mode extractive" in message


def test_a_slow_server_times_out(scripted_openai: ScriptedOpenAIServer) -> None:
    scripted_openai.reply_delay(5.0)
    llm = OpenAIChat(scripted_openai.base_url, "m", timeout=0.5, max_retries=0)
    started = time.monotonic()
    message = _error(llm)
    assert time.monotonic() - started < 3
    assert "did not answer within 0.5 s" in message
    assert scripted_openai.base_url in message


def test_a_dead_port_is_unreachable_quickly() -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    started = time.monotonic()
    message = _error(OpenAIChat(url, "m", timeout=5, max_retries=0))
    assert time.monotonic() - started < 3
    assert f"the language model at {url} is unreachable" in message
    assert "start it" in message
    assert "--mode extractive" in message


def test_dying_mid_stream_raises_after_the_first_deltas(scripted_openai: ScriptedOpenAIServer) -> None:
    scripted_openai.reply_die_mid_stream(["Het antwoord ", "begint "])
    llm = OpenAIChat(scripted_openai.base_url, "m", max_retries=2)
    received: list[str] = []
    with pytest.raises(LLMError) as info:
        for delta in llm.stream(QUESTION):
            received.append(delta)

    assert received == ["Het antwoord ", "begint "]
    assert "mid-stream" in str(info.value)
    assert scripted_openai.base_url in str(info.value)
    assert len(scripted_openai.chat_requests) == 1  # the SDK does not retry a stream once it has started


def test_a_stream_without_a_finish_reason_is_incomplete(scripted_openai: ScriptedOpenAIServer) -> None:
    scripted_openai.reply_text("Een half", finish_reason=None)
    scripted_openai.reply_text("Afgekapt bij max_tokens", finish_reason="length")
    llm = OpenAIChat(scripted_openai.base_url, "m")

    assert "without finishing" in _error(llm)
    assert complete(llm, QUESTION) == "Afgekapt bij max_tokens"  # a cut at max_tokens is still an answer


def test_an_unscripted_request_fails_without_retries(scripted_openai: ScriptedOpenAIServer) -> None:
    message = _error(OpenAIChat(scripted_openai.base_url, "m", max_retries=2))
    assert "no reply scripted" in message
    assert len(scripted_openai.chat_requests) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_says_to_check_it(scripted_openai: ScriptedOpenAIServer, status: int) -> None:
    # Some servers echo the key back in the error: it must not reach the user.
    scripted_openai.reply_status(status, f"Incorrect API key provided: {KEY}")
    message = _error(OpenAIChat(scripted_openai.base_url, "m", api_key=KEY))
    assert f"HTTP {status}" in message
    assert "check ASSISTANT_OPENAI_API_KEY" in message
    assert KEY not in message
    assert scripted_openai.chat_requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert len(scripted_openai.chat_requests) == 1  # not retried


def test_an_unknown_model_says_to_check_the_name_and_url(scripted_openai: ScriptedOpenAIServer) -> None:
    scripted_openai.reply_status(404, "model 'gpt-5-typo' not found")
    message = _error(OpenAIChat(scripted_openai.base_url, "gpt-5-typo"))
    assert "HTTP 404" in message
    assert "'gpt-5-typo'" in message
    assert "/v1" in message


def test_a_base_url_without_v1_says_to_check_it(scripted_openai: ScriptedOpenAIServer) -> None:
    url = scripted_openai.base_url.removesuffix("/v1")
    message = _error(OpenAIChat(url, "m"))
    assert "HTTP 404" in message
    assert "base URL ends in /v1" in message


@pytest.mark.parametrize("status", [400, 401, 404, 429, 500, 503])
def test_the_key_never_appears_in_errors_or_repr(scripted_openai: ScriptedOpenAIServer, status: int) -> None:
    scripted_openai.reply_status(status, f"echo of your key {KEY} and more", retry_after=0, times=2)
    llm = OpenAIChat(scripted_openai.base_url, "m", api_key=KEY, max_retries=1)
    message = _error(llm)
    assert KEY not in message
    assert KEY not in repr(llm)
    assert "***" in repr(llm)
    assert scripted_openai.base_url in repr(llm)


def test_repr_without_a_key_says_none() -> None:
    assert "api_key=None" in repr(OpenAIChat("http://127.0.0.1:9/v1", "m"))


def test_environment_variables_are_used_when_arguments_are_none(
    scripted_openai: ScriptedOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", scripted_openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    scripted_openai.reply_text("uit de omgeving")
    llm = OpenAIChat(None, "m")

    assert llm.base_url == scripted_openai.base_url
    assert complete(llm, QUESTION) == "uit de omgeving"
    assert scripted_openai.chat_requests[0].headers["authorization"] == "Bearer sk-from-env"
    assert "sk-from-env" not in repr(llm)


def test_explicit_arguments_beat_the_environment(
    scripted_openai: ScriptedOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ScriptedOpenAIServer() as other:
        monkeypatch.setenv("OPENAI_BASE_URL", other.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
        scripted_openai.reply_text("expliciet")
        llm = OpenAIChat(scripted_openai.base_url, "m", api_key="sk-explicit")

        assert complete(llm, QUESTION) == "expliciet"
        assert other.chat_requests == []
    assert scripted_openai.chat_requests[0].headers["authorization"] == "Bearer sk-explicit"


def test_invalid_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="must start with http"):
        OpenAIChat("127.0.0.1:8080/v1", "m")
    with pytest.raises(ConfigError, match="ASSISTANT_OPENAI_MODEL"):
        OpenAIChat("http://127.0.0.1:8080/v1", " ")
    with pytest.raises(ConfigError, match="timeout"):
        OpenAIChat("http://127.0.0.1:8080/v1", "m", timeout=0)


def test_the_scripted_server_speaks_plain_openai(scripted_openai: ScriptedOpenAIServer) -> None:
    """The helper other tests rely on: non-streaming completions and the model list also work."""
    client = openai.OpenAI(base_url=scripted_openai.base_url, api_key="x", max_retries=0)
    scripted_openai.reply_text("Volledig antwoord.")
    reply = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hoi"}])
    assert reply.choices[0].message.content == "Volledig antwoord."
    assert [m.id for m in client.models.list()] == ["scripted-model"]
