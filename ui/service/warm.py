"""The service's warm-up: load the model and the lexical index, then embed the corpus' sentences, in a
background thread, so that the first question is not the one that waits."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from errors import PolicyAssistantError

if TYPE_CHECKING:
    from assistant.build import Parts

log = logging.getLogger("policy_assistant.service")


def start_warm_up(parts: Parts) -> threading.Thread:
    """Start `warm_up(parts)` in a daemon thread; questions are answered meanwhile."""
    thread = threading.Thread(target=warm_up, args=(parts,), daemon=True, name="warm-up")
    thread.start()
    return thread


def warm_up(parts: Parts) -> None:
    """Load the model and the lexical index; with `warm_up` and an embedding cache, embed every sentence."""
    try:
        parts.answer_embedder.embed(["warm-up"], query=True)
        chunks = parts.retriever.chunks()
        log.info("model and index loaded")
        if parts.settings.warm_up and parts.settings.embed_cache_size:
            # Sentence vectors for the extractive re-ranking: computed once per corpus (kept on disk).
            started = time.perf_counter()
            # Small batches: a question arriving meanwhile waits for one batch at most.
            count = parts.assistant.extractive.warm((c.text for c in chunks), batch=8)
            seconds = round(time.perf_counter() - started, 1)
            log.info("sentence vectors ready", extra={"sentences": count, "seconds": seconds})
    except PolicyAssistantError as err:
        log.warning("not ready yet: %s", err)
    except Exception:  # noqa: BLE001 - a warm-up failure must not hide: the first questions will be slow
        log.exception("warm-up failed; questions are answered, the first ones more slowly")
