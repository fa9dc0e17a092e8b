"""One exception tree for the whole project; every message says what to do next."""


class PolicyAssistantError(Exception):
    """Base class: anything the user can act on. Interfaces print `str(err)` as one line."""


class ConfigError(PolicyAssistantError):
    """A setting is missing or invalid."""


class DocumentError(PolicyAssistantError):
    """A document cannot be read or holds no usable text."""


class EmbeddingError(PolicyAssistantError):
    """The embedder failed (bundled model or external endpoint)."""


class StoreError(PolicyAssistantError):
    """The vector store is missing, unreachable or inconsistent."""


class TokenizerError(PolicyAssistantError):
    """The tokenizer files could not be seeded or verified."""


class InputError(PolicyAssistantError):
    """A question, filter or other user input is invalid."""


class NotFoundError(InputError):
    """Something the user referred to (a conversation, a feedback item) does not exist for them."""


class LLMError(PolicyAssistantError):
    """The generative endpoint failed (down, slow, rate-limited, or an error reply)."""
