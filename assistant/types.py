"""Domain types of the assistant: what the interfaces, the stores and the evaluation see.

`Answer.to_json()` is the `ask --json` object (also `/v1/ask`'s reply and what the stores keep);
`Answer.from_json()` reads it back, so an answer crosses every boundary as this one type.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal, cast

Language = Literal["nl", "en"]
Role = Literal["user", "assistant", "system"]
ModeKind = Literal["extractive", "openai"]
# Why an extractive answer stands in for the model's: the endpoint failed, or it cited nothing checkable.
Fallback = Literal["llm_error", "unverified"]
# Whether the documents answer the question: fully, partly (`Answer.missing` names what they lack) or not.
Coverage = Literal["answered", "partial", "not_covered"]
COVERAGES: tuple[Coverage, ...] = ("answered", "partial", "not_covered")
LANGUAGES: tuple[Language, ...] = ("nl", "en")


@dataclass(frozen=True)
class Message:
    """One chat message sent to an LLM backend."""

    role: Role
    content: str


@dataclass(frozen=True)
class Mode:
    """How an answer was made: `extractive`, or `openai` with the model's name."""

    kind: ModeKind = "extractive"
    model: str | None = None

    def __str__(self) -> str:
        return f"openai:{self.model}" if self.kind == "openai" else "extractive"

    @classmethod
    def parse(cls, label: str) -> Mode:
        """`extractive` or `openai:<model>`, as `str(mode)` writes it."""
        if label.startswith("openai:"):
            return cls("openai", label.split(":", 1)[1])
        if label == "openai":
            return cls("openai", None)
        return cls("extractive")


EXTRACTIVE = Mode("extractive")


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
    similarity: float  # cosine similarity of the passage to the question
    page: int | None = None
    highlight: str = ""  # the sentence of `text` that best supports the answer
    footnote: int | None = None  # the footnote's number when the passage is a footnote of `section`
    context: str = ""  # for a footnote: the sentence of the section that cites it

    def label(self, language: Language = "nl") -> str:
        """The section as a citation shows it: `2.1 Title`, or `voetnoot 12 bij 2.1 Title` for a footnote."""
        if self.footnote is None:
            return self.section
        word = "voetnoot" if language == "nl" else "footnote"
        joiner = "bij" if language == "nl" else "in"
        return f"{word} {self.footnote} {joiner} {self.section}"

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "doc_title": self.doc_title,
            "doc_short_title": self.doc_short_title,
            "section": self.section,
            "text": self.text,
            "score": round(self.similarity, 4),  # the JSON name since the first release: cosine similarity
            "section_path": self.section_path,
            "year": self.year,
            "page": self.page,
            "chunk_id": self.chunk_id,
            "highlight": self.highlight,
            "footnote": self.footnote,
            "context": self.context,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Source:
        year, page = data.get("year"), data.get("page")
        return cls(
            n=int(data.get("n", 0)),
            chunk_id=str(data.get("chunk_id", "")),
            doc_id=str(data.get("doc_id", "")),
            doc_title=str(data.get("doc_title", "")),
            doc_short_title=str(data.get("doc_short_title") or data.get("doc_title", "")),
            year=int(year) if year is not None else None,
            section=str(data.get("section", "")),
            section_path=str(data.get("section_path", "")),
            text=str(data.get("text", "")),
            similarity=float(data.get("score", 0.0)),
            page=int(page) if page is not None else None,
            highlight=str(data.get("highlight", "")),
            footnote=int(data["footnote"]) if data.get("footnote") is not None else None,
            context=str(data.get("context", "")),
        )


@dataclass(frozen=True)
class Turn:
    """One question and its answer in a conversation."""

    question: str
    answer: str
    standalone_question: str = ""
    language: Language = "nl"


@dataclass(frozen=True)
class Timings:
    """Seconds an answer spent per stage, for metrics and logs; not part of `Answer.to_json()`."""

    retrieve: float = 0.0
    rerank: float = 0.0
    verdict: float = 0.0  # question analysis and the coverage check
    generate: float = 0.0

    def items(self) -> list[tuple[str, float]]:
        """The stages that ran, with their seconds."""
        return [(f.name, getattr(self, f.name)) for f in fields(self) if getattr(self, f.name)]


@dataclass(frozen=True)
class Answer:
    """The result of `Assistant.ask`; `to_json()` is the `ask --json` object."""

    question: str
    standalone_question: str
    language: Language
    mode: Mode
    text: str
    sources: tuple[Source, ...]
    refused: bool = False
    unverified: bool = False
    flagged: tuple[str, ...] = ()  # answer sentences with a number or name found in no cited source
    notices: tuple[str, ...] = ()  # plain-language notes for the user (e.g. a fallback was used)
    latency_ms: float = 0.0
    conversation_id: str | None = None
    fallback: Fallback | None = None
    timings: Timings = field(default_factory=Timings, compare=False)
    # The coverage verdict: whether the sources hold what was asked; `missing` names, in the answer's
    # language, what they lack (empty when answered).
    coverage: Coverage = "answered"
    missing: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "language": self.language,
            "mode": str(self.mode),
            "answer": self.text,
            "refused": self.refused,
            "unverified": self.unverified,
            "sources": [s.to_json() for s in self.sources],
            "latency_ms": round(self.latency_ms, 1),
            "flagged": list(self.flagged),
            "notices": list(self.notices),
            "conversation_id": self.conversation_id,
            "coverage": self.coverage,
            "missing": list(self.missing),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answer:
        """An answer read back from `to_json()`'s object (a client's copy, a stored turn)."""
        language = data.get("language")
        fallback = data.get("fallback")
        return cls(
            question=str(data.get("question", "")),
            standalone_question=str(data.get("standalone_question", "")),
            language=cast(Language, language if language in LANGUAGES else "nl"),
            mode=Mode.parse(str(data.get("mode", "extractive"))),
            text=str(data.get("answer", "")),
            sources=tuple(Source.from_json(s) for s in data.get("sources") or () if isinstance(s, dict)),
            refused=bool(data.get("refused", False)),
            unverified=bool(data.get("unverified", False)),
            flagged=tuple(str(f) for f in data.get("flagged") or ()),
            notices=tuple(str(n) for n in data.get("notices") or ()),
            latency_ms=float(data.get("latency_ms", 0.0) or 0.0),
            conversation_id=data.get("conversation_id"),
            fallback=cast(Fallback, fallback) if fallback in ("llm_error", "unverified") else None,
            coverage=_coverage(data),
            missing=tuple(str(m) for m in data.get("missing") or ()),
        )

    @property
    def turn(self) -> Turn:
        """The answer as a turn of its conversation."""
        return Turn(self.question, self.text, self.standalone_question, self.language)


def _coverage(data: dict[str, Any]) -> Coverage:
    """The stored verdict; answers stored before verdicts existed have only `refused`."""
    coverage = data.get("coverage")
    if coverage in COVERAGES:
        return cast(Coverage, coverage)
    return "not_covered" if data.get("refused") else "answered"


@dataclass(frozen=True)
class RecordedTurn:
    """A stored turn of a conversation, for display and export: the answer as it was given, and when."""

    answer: Answer
    created: float
