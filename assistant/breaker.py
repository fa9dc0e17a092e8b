"""A circuit breaker in front of an `LLM`: after repeated failures, stop calling a dead endpoint for a while.

Each call that fails costs the user the timeout and retries before the extractive fallback answers. After
`failures` failures in a row the breaker opens: calls fail at once with an `LLMError` (so the assistant
falls back immediately) until `cooldown` seconds have passed. Then one trial call goes through; success
closes the breaker, failure opens it again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Literal

from assistant.llm import LLM
from assistant.types import Message
from errors import ConfigError, LLMError

State = Literal["closed", "open", "half-open"]


class CircuitBreaker:
    """An `LLM` that wraps another one and stops calling it after `failures` consecutive failures."""

    def __init__(
        self,
        llm: LLM,
        failures: int = 3,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures < 1:
            raise ConfigError(f"the circuit breaker needs at least 1 failure to open, got {failures}")
        if cooldown <= 0:
            raise ConfigError(f"the circuit breaker cooldown must be positive, got {cooldown}")
        self.llm = llm
        self.failures = failures
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._consecutive = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def model(self) -> str:
        return self.llm.model

    @property
    def state(self) -> State:
        with self._lock:
            return self._state()

    def _state(self) -> State:
        if self._opened_at is None:
            return "closed"
        return "half-open" if self._clock() - self._opened_at >= self.cooldown else "open"

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        self._admit()
        try:
            yield from self.llm.stream(messages)
        except LLMError:
            self._failed()
            raise
        except BaseException:
            # The caller stopped reading (GeneratorExit), or something other than the endpoint failed
            # (a bug, an interrupt): neither a success nor a failure of the endpoint.
            self._release()
            raise
        self._succeeded()

    def _admit(self) -> None:
        with self._lock:
            state = self._state()
            if state == "closed":
                return
            if state == "half-open" and not self._trial_running:
                self._trial_running = True
                return
            assert self._opened_at is not None
            wait = max(1, round(self.cooldown - (self._clock() - self._opened_at)))
        times = "once" if self.failures == 1 else f"{self.failures} times in a row"
        raise LLMError(
            f"the language model failed {times}, so it is not asked again for {wait} s: check that it is running"
        )

    def _failed(self) -> None:
        with self._lock:
            self._consecutive += 1
            self._trial_running = False
            if self._opened_at is not None or self._consecutive >= self.failures:
                self._opened_at = self._clock()

    def _succeeded(self) -> None:
        with self._lock:
            self._consecutive = 0
            self._opened_at = None
            self._trial_running = False

    def _release(self) -> None:
        with self._lock:
            self._trial_running = False
