"""`CircuitBreaker` in front of a real `OpenAIChat` talking HTTP to the local scripted server."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path

import pytest

from assistant.breaker import CircuitBreaker
from assistant.llm import LLM, OpenAIChat, complete
from assistant.types import Message
from errors import ConfigError, LLMError

# `tests.assistant.*` needs the repository root on sys.path (see test_llm.py).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.assistant import openai_server  # noqa: E402
from tests.assistant.openai_server import ScriptedOpenAIServer  # noqa: E402

scripted_openai = openai_server.scripted_openai  # the fixture, under its own name

QUESTION = [Message("user", "Wat regelt het Migratiepact?")]
ANSWER = "Het pact regelt asiel en migratie."
OPEN_MESSAGE = "so it is not asked again for"


class FakeClock:
    """A monotonic clock that only moves when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fails(llm: LLM, messages: Sequence[Message] = QUESTION) -> str:
    with pytest.raises(LLMError) as info:
        complete(llm, messages)
    message = str(info.value)
    assert "\n" not in message  # interfaces print it as one line
    return message


def _breaker(server: ScriptedOpenAIServer, clock: FakeClock, failures: int = 3) -> CircuitBreaker:
    llm = OpenAIChat(server.base_url, "gemma-test", timeout=5, max_retries=0)
    return CircuitBreaker(llm, failures=failures, cooldown=30.0, clock=clock)


def _open(breaker: CircuitBreaker, server: ScriptedOpenAIServer) -> None:
    server.reply_status(500, "model crashed", times=breaker.failures)
    for _ in range(breaker.failures):
        assert "HTTP 500" in _fails(breaker)
    assert breaker.state == "open"


def test_the_breaker_is_an_llm_with_the_model_of_the_wrapped_one(scripted_openai: ScriptedOpenAIServer) -> None:
    scripted_openai.reply_text(ANSWER)
    breaker = _breaker(scripted_openai, FakeClock())
    assert isinstance(breaker, LLM)
    assert breaker.model == "gemma-test"
    assert list(breaker.stream(QUESTION)) == ["Het ", "pact ", "regelt ", "asiel ", "en ", "migratie."]
    assert breaker.state == "closed"


def test_it_opens_after_the_failures_and_then_answers_without_calling_the_endpoint(
    scripted_openai: ScriptedOpenAIServer,
) -> None:
    clock = FakeClock()
    breaker = _breaker(scripted_openai, clock)
    scripted_openai.reply_status(500, "model crashed", times=3)

    for attempt in range(3):
        assert breaker.state == "closed"
        message = _fails(breaker)
        assert "HTTP 500" in message and "model crashed" in message  # the endpoint's own error passes through
        assert len(scripted_openai.chat_requests) == attempt + 1
    assert breaker.state == "open"

    started = time.monotonic()
    message = _fails(breaker)
    elapsed = time.monotonic() - started
    assert len(scripted_openai.chat_requests) == 3  # the endpoint was not asked
    assert elapsed < 1.0  # nothing to wait for: no request, no timeout
    assert "failed 3 times in a row" in message
    assert "not asked again for 30 s" in message
    assert "check that it is running" in message

    clock.advance(20)
    assert "not asked again for 10 s" in _fails(breaker)  # the wait counts down
    assert len(scripted_openai.chat_requests) == 3


def test_after_the_cooldown_one_successful_trial_closes_it_and_resets_the_count(
    scripted_openai: ScriptedOpenAIServer,
) -> None:
    clock = FakeClock()
    breaker = _breaker(scripted_openai, clock)
    _open(breaker, scripted_openai)

    clock.advance(29.9)
    assert OPEN_MESSAGE in _fails(breaker)
    clock.advance(0.1)
    assert breaker.state == "half-open"
    scripted_openai.reply_text(ANSWER)
    assert complete(breaker, QUESTION) == ANSWER
    assert len(scripted_openai.chat_requests) == 4
    assert breaker.state == "closed"

    # The count starts again from zero: two failures do not open a breaker that needs three.
    scripted_openai.reply_status(500, times=2)
    scripted_openai.reply_text(ANSWER)
    assert "HTTP 500" in _fails(breaker)
    assert "HTTP 500" in _fails(breaker)
    assert breaker.state == "closed"
    assert complete(breaker, QUESTION) == ANSWER  # a success in between resets the count as well
    scripted_openai.reply_status(500, times=2)
    assert "HTTP 500" in _fails(breaker)
    assert "HTTP 500" in _fails(breaker)
    assert breaker.state == "closed"
    assert len(scripted_openai.chat_requests) == 9


def test_a_failed_trial_opens_it_again_for_a_whole_cooldown(scripted_openai: ScriptedOpenAIServer) -> None:
    clock = FakeClock()
    breaker = _breaker(scripted_openai, clock)
    _open(breaker, scripted_openai)

    clock.advance(30)
    scripted_openai.reply_status(503, "still loading")
    assert "HTTP 503" in _fails(breaker)  # the trial reached the endpoint
    assert len(scripted_openai.chat_requests) == 4
    assert breaker.state == "open"
    assert "not asked again for 30 s" in _fails(breaker)  # one failed trial is enough, no three again

    clock.advance(29)
    assert OPEN_MESSAGE in _fails(breaker)
    assert len(scripted_openai.chat_requests) == 4
    clock.advance(1)
    scripted_openai.reply_text(ANSWER)
    assert complete(breaker, QUESTION) == ANSWER
    assert breaker.state == "closed"


def test_only_one_trial_runs_while_half_open(scripted_openai: ScriptedOpenAIServer) -> None:
    clock = FakeClock()
    breaker = _breaker(scripted_openai, clock)
    _open(breaker, scripted_openai)
    clock.advance(30)

    scripted_openai.reply_text(ANSWER)
    trial = breaker.stream(QUESTION)
    first = next(trial)  # the trial is under way
    assert OPEN_MESSAGE in _fails(breaker)  # a second caller does not pile onto a recovering endpoint
    assert len(scripted_openai.chat_requests) == 4
    assert first + "".join(trial) == ANSWER
    assert breaker.state == "closed"


def test_a_closed_port_opens_the_breaker_too() -> None:
    llm = OpenAIChat(f"http://127.0.0.1:{_free_port()}/v1", "m", timeout=5, max_retries=0)
    breaker = CircuitBreaker(llm, failures=2, cooldown=30.0, clock=FakeClock())
    assert "is unreachable" in _fails(breaker)
    assert "is unreachable" in _fails(breaker)
    message = _fails(breaker)
    assert "is unreachable" not in message
    assert "failed 2 times in a row" in message


def test_a_reader_that_stops_early_is_no_failure(scripted_openai: ScriptedOpenAIServer) -> None:
    breaker = _breaker(scripted_openai, FakeClock())
    scripted_openai.reply_status(500, times=2)
    assert "HTTP 500" in _fails(breaker)
    assert "HTTP 500" in _fails(breaker)

    scripted_openai.reply_text(["Het ", "pact ", "regelt ", "veel."])
    stream = breaker.stream(QUESTION)
    assert isinstance(stream, Generator)  # what a web handler closes when the user presses stop
    assert next(stream) == "Het "
    stream.close()
    assert breaker.state == "closed"  # as a third failure it would have opened the breaker

    # Not a success either: the endpoint's two failures still count, so one more opens it.
    scripted_openai.reply_status(500)
    assert "HTTP 500" in _fails(breaker)
    assert len(scripted_openai.chat_requests) == 4
    assert breaker.state == "open"


def test_a_trial_whose_reader_stops_early_leaves_the_next_call_a_trial(
    scripted_openai: ScriptedOpenAIServer,
) -> None:
    clock = FakeClock()
    breaker = _breaker(scripted_openai, clock)
    _open(breaker, scripted_openai)
    clock.advance(30)

    scripted_openai.reply_text(["Het ", "pact ", "regelt ", "veel."])
    stream = breaker.stream(QUESTION)
    assert isinstance(stream, Generator)  # what a web handler closes when the user presses stop
    assert next(stream) == "Het "
    stream.close()
    assert breaker.state == "half-open"

    scripted_openai.reply_text(ANSWER)
    assert complete(breaker, QUESTION) == ANSWER  # not refused as if a trial were still running
    assert len(scripted_openai.chat_requests) == 5
    assert breaker.state == "closed"


def test_an_unexpected_error_in_the_trial_does_not_lock_the_endpoint_out(
    scripted_openai: ScriptedOpenAIServer,
) -> None:
    clock = FakeClock()
    breaker = _breaker(scripted_openai, clock)
    _open(breaker, scripted_openai)
    clock.advance(30)

    # Not an LLMError: OpenAIChat refuses an empty conversation before any request is made.
    with pytest.raises(ValueError, match="at least one message"):
        complete(breaker, [])
    assert len(scripted_openai.chat_requests) == 3

    # The endpoint is back and was never tried: the next call must reach it, not be refused forever.
    scripted_openai.reply_text(ANSWER)
    clock.advance(60)
    assert complete(breaker, QUESTION) == ANSWER
    assert breaker.state == "closed"


class _ScriptedLLM:
    """An in-test LLM: each call plays the next outcome, a text, an exception, or deltas then an exception."""

    model = "scripted"

    def __init__(self, *outcomes: str | Exception | list[str | Exception]) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, str):
            outcome = list(outcome.split())
        for step in outcome if isinstance(outcome, list) else [outcome]:
            if isinstance(step, Exception):
                raise step
            yield step


def test_a_failure_mid_stream_counts_although_text_was_already_given() -> None:
    inner = _ScriptedLLM(LLMError("boom"), ["half ", LLMError("the model broke off its answer mid-stream")])
    breaker = CircuitBreaker(inner, failures=2, cooldown=5.0, clock=FakeClock())
    with pytest.raises(LLMError, match="boom"):
        complete(breaker, QUESTION)
    received: list[str] = []
    with pytest.raises(LLMError, match="mid-stream"):
        for delta in breaker.stream(QUESTION):
            received.append(delta)
    assert received == ["half "]
    assert breaker.state == "open"
    assert OPEN_MESSAGE in _fails(breaker)
    assert inner.calls == 2


def test_failures_must_be_in_a_row() -> None:
    inner = _ScriptedLLM(LLMError("a"), "goed", LLMError("b"), "goed", LLMError("c"), LLMError("d"))
    breaker = CircuitBreaker(inner, failures=2, cooldown=5.0, clock=FakeClock())
    outcomes = []
    for _ in range(6):
        try:
            outcomes.append(complete(breaker, QUESTION))
        except LLMError as err:
            outcomes.append(str(err))
    assert outcomes == ["a", "goed", "b", "goed", "c", "d"]
    assert breaker.state == "open"


def test_failures_one_opens_on_the_first_failure() -> None:
    inner = _ScriptedLLM(LLMError("weg"))
    breaker = CircuitBreaker(inner, failures=1, cooldown=0.5, clock=FakeClock())
    assert _fails(breaker) == "weg"
    message = _fails(breaker)
    assert "failed 1 times in a row" in message or "failed once" in message
    assert "for 1 s" in message  # rounded up, never "0 s"
    assert inner.calls == 1


@pytest.mark.parametrize(
    ("failures", "cooldown", "bad"), [(0, 30.0, "0"), (-1, 30.0, "-1"), (3, 0.0, "0"), (3, -5.0, "-5")]
)
def test_the_constructor_refuses_nonsense(failures: int, cooldown: float, bad: str) -> None:
    with pytest.raises(ConfigError, match=bad):
        CircuitBreaker(_ScriptedLLM(), failures=failures, cooldown=cooldown)
