"""Domain types of the assistant: what the UI, the Slack bot and the evaluation see."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Language = Literal["nl", "en"]
Role = Literal["user", "assistant", "system"]


@dataclass(frozen=True)
class Message:
    """One chat message sent to an LLM backend."""

    role: Role
    content: str


@dataclass(frozen=True)
class Source:
    """A numbered source of an answer: what `[n]` points to."""

    n: int
    chunk_id: str
    doc_id: str
    doc_title: str
    doc_short_title: str
    year: int | None
    section: str  # heading as printed, e.g. "2.5 Een doeltreffend ... terugkeer"
    section_path: str
    text: str
    score: float
    page: int | None = None
    highlight: str = ""  # the sentence of `text` that best supports the answer

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "doc_title": self.doc_title,
            "section": self.section,
            "text": self.text,
            "score": round(self.score, 4),
            "section_path": self.section_path,
            "year": self.year,
            "page": self.page,
            "chunk_id": self.chunk_id,
            "highlight": self.highlight,
        }


@dataclass(frozen=True)
class Turn:
    """One question and its answer in a conversation."""

    question: str
    answer: str
    standalone_question: str = ""
    language: Language = "nl"


@dataclass(frozen=True)
class Answer:
    """The result of `Assistant.ask`; `to_json()` is the `ask --json` object."""

    question: str
    standalone_question: str
    language: Language
    mode: str  # "extractive" or "openai:<model>"
    text: str
    sources: tuple[Source, ...]
    refused: bool = False
    unverified: bool = False
    flagged: tuple[str, ...] = ()  # answer sentences with a number or name found in no cited source
    notices: tuple[str, ...] = ()  # plain-language notes for the user (e.g. a fallback was used)
    latency_ms: float = 0.0
    conversation_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Seconds spent per stage ("retrieve", "rerank", "generate"), for metrics; not part of `to_json()`.
    timings: dict[str, float] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        data = {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "language": self.language,
            "mode": self.mode,
            "answer": self.text,
            "refused": self.refused,
            "unverified": self.unverified,
            "sources": [s.to_json() for s in self.sources],
            "latency_ms": round(self.latency_ms, 1),
            "flagged": list(self.flagged),
            "notices": list(self.notices),
            "conversation_id": self.conversation_id,
        }
        return data


def as_dict(obj: Any) -> dict[str, Any]:
    return asdict(obj)
