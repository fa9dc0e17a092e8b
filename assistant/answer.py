"""Answer modes behind one protocol: extractive (no model needed) and generative (OpenAI-compatible LLM).

Both take the same `AnswerRequest` (the standalone question, its language and the numbered sources) and
yield the answer text in pieces; the assistant checks the citations of whatever they produce.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from assistant.lexical import terms
from assistant.llm import LLM  # noqa: TC001
from assistant.types import Language, Message, Mode, Source, Turn
from index.embed import Embedder
from index.sentences import passage_sentences as candidate_sentences
from prompts import render

REFUSAL = {"nl": "Dat staat niet in de documenten.", "en": "The documents don't cover this."}
_ASKS_NUMBER = re.compile(
    r"\b(hoeveel|hoe veel|aantal|percentage|procent|wanneer|welk jaar|in welk jaar|hoe lang|tegen wanneer|"
    r"uiterlijk|how many|how much|number of|share|percent|percentage|when|what year|which year|by when|"
    r"how long|deadline)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


@dataclass(frozen=True)
class AnswerRequest:
    """What an answerer gets: the standalone question, its sources, and what retrieval knew of it."""

    question: str  # standalone
    language: Language
    sources: tuple[Source, ...]
    history: tuple[Turn, ...] = ()
    query_vector: np.ndarray | None = field(default=None, repr=False, compare=False)
    # The question's index terms with their weight (idf) in the lexical index, in a fixed order.
    term_weights: dict[str, float] = field(default_factory=dict, compare=False)


class Answerer(Protocol):
    """Turns a request into answer text, streamed in pieces."""

    @property
    def mode(self) -> Mode: ...

    def answer(self, request: AnswerRequest) -> Iterator[str]: ...


# ------------------------------------------------------------------------------------------ extractive


@dataclass(frozen=True)
class SentenceWeights:
    """Every constant of sentence scoring and selection. They were set by hand on the gold set's dev items
    when the extractive mode was written (commits 6dba008, dea8b38); no ablation of each was recorded, so
    re-tune them with `bench/answer.py` and `policy-assistant eval` on the dev split."""

    rank_prior: float = 0.25  # a sentence of the n-th source (from 0) gets rank_prior / (1 + n)
    number_bonus: float = 0.15  # the question asks for a figure or a date, and the sentence has a digit
    year_bonus: float = 0.2  # the sentence names a year the question names
    long_sentence_chars: int = 450  # sentences longer than this make poor answers ...
    long_sentence_penalty: float = 0.1  # ... and lose this much
    semantic_candidates: int = 8  # the best sentences by terms that are re-ranked by embedding similarity
    semantic_weight: float = 1.5  # re-ranked score: score + semantic_weight × (similarity − semantic_centre)
    semantic_centre: float = 0.8  # similarities above it raise a sentence, below it lower it
    max_sentences: int = 3  # sentences in an answer
    select_margin: float = 0.25  # a further sentence must score within this of the best one
    duplicate_overlap: float = 0.7  # word overlap above which two sentences say the same thing


@dataclass(frozen=True)
class ScoredSentence:
    source: Source
    text: str
    score: float  # term coverage plus the bonuses of `SentenceWeights` (and the re-ranking, when done)
    coverage: float  # idf-weighted share of the question's terms in the sentence
    order: int  # position within the source
    similarity: float = 0.0  # cosine similarity to the question (only for the semantically re-ranked head)


class ExtractiveAnswerer:
    """Composes a short answer from the source sentences that best answer the question. Deterministic."""

    mode = Mode("extractive")

    def __init__(self, embedder: Embedder, weights: SentenceWeights | None = None) -> None:
        self.embedder = embedder
        self.weights = weights or SentenceWeights()

    def rank(self, request: AnswerRequest) -> list[ScoredSentence]:
        """All sentences of the sources, best first."""
        w = self.weights
        weights = request.term_weights
        total = sum(weights.values()) or 1.0
        asks_number = bool(_ASKS_NUMBER.search(request.question))
        years = set(_YEAR.findall(request.question))
        candidates: list[ScoredSentence] = []
        for rank, source in enumerate(request.sources):
            prior = w.rank_prior / (1 + rank)
            for order, text in enumerate(candidate_sentences(source.text)):
                sentence_terms = set(terms(text))
                coverage = sum(weight for t, weight in weights.items() if t in sentence_terms) / total
                score = coverage + prior
                if asks_number and _NUMBER.search(text):
                    score += w.number_bonus
                if years and years & set(_YEAR.findall(text)):
                    score += w.year_bonus
                if len(text) > w.long_sentence_chars:
                    score -= w.long_sentence_penalty
                candidates.append(ScoredSentence(source, text, score, coverage, order))
        candidates.sort(key=lambda s: -s.score)
        return self._semantic_rerank(candidates, request)

    def _semantic_rerank(self, candidates: list[ScoredSentence], request: AnswerRequest) -> list[ScoredSentence]:
        if request.query_vector is None or not candidates:
            return candidates
        w = self.weights
        head = candidates[: w.semantic_candidates]
        vectors = self.embedder.embed([s.text for s in head], query=False)
        similarity = vectors @ np.asarray(request.query_vector, dtype=np.float32)
        rescored = [
            ScoredSentence(
                s.source,
                s.text,
                s.score + w.semantic_weight * (float(sim) - w.semantic_centre),
                s.coverage,
                s.order,
                float(sim),
            )
            for s, sim in zip(head, similarity, strict=True)
        ]
        rescored.sort(key=lambda s: -s.score)
        return rescored + candidates[w.semantic_candidates :]

    def warm(self, texts: Iterable[str], batch: int = 32) -> int:
        """Embed the sentences of `texts` ahead of questions (into the embedder's cache); returns how many."""
        sentences = list(dict.fromkeys(s for text in texts for s in candidate_sentences(text)))
        for start in range(0, len(sentences), batch):
            self.embedder.embed(sentences[start : start + batch], query=False)
        return len(sentences)

    def select(self, ranked: list[ScoredSentence], include: Sequence[str] = ()) -> list[ScoredSentence]:
        """The answer's sentences: the best one and those within `select_margin` of it, no two alike.
        `include`: sentences that must be among them (the coverage check found that they answer the
        question), first."""
        if not ranked:
            return []
        w = self.weights
        first: dict[str, ScoredSentence] = {}
        for s in ranked:
            first.setdefault(s.text, s)  # a sentence found in two sources: its best-ranked copy
        must = [first[text] for text in dict.fromkeys(include) if text in first][: w.max_sentences]
        best = ranked[0]
        chosen = must or [best]
        for s in ranked:
            if s in chosen:
                continue
            if len(chosen) == w.max_sentences:
                break
            if s.score < best.score - w.select_margin or any(
                _similar(s.text, c.text, w.duplicate_overlap) for c in chosen
            ):
                continue
            chosen.append(s)
        # Keep the documents' reading order within each source, sources in rank order.
        return sorted(chosen, key=lambda s: (s.source.n, s.order))

    def answer(self, request: AnswerRequest) -> Iterator[str]:
        chosen = self.select(self.rank(request))
        if not chosen:
            yield REFUSAL[request.language]
            return
        yield compose(chosen, request.language)


def _similar(a: str, b: str, overlap: float) -> bool:
    wa, wb = set(a.lower().split()), set(b.lower().split())
    return len(wa & wb) / max(1, min(len(wa), len(wb))) > overlap


def compose(sentences: Sequence[ScoredSentence], language: Language, lacking: str = "") -> str:
    """Dutch: the sentences with their markers. English: the Dutch sentences quoted and labelled as quotes.
    With `lacking` (what the documents do not give, as a sentence: a partial answer), that comes first and
    the sentences follow as what the documents do give."""
    if language == "nl":
        said = " ".join(f"{s.text} [{s.source.n}]" for s in sentences)
        return f"{lacking.rstrip('.')}; wel staat er: {said}" if lacking else said
    quotes = " ".join(f"“{s.text}” [{s.source.n}]" for s in sentences)
    if lacking:
        return f"{lacking} What they do say (quoted in Dutch): {quotes}"
    return f"The documents say (quoted in Dutch): {quotes}"


# ------------------------------------------------------------------------------------------ generative


# The answer prompt's delimiters; inside quoted text they become harmless look-alikes (‹sources›), so a
# document or a question cannot close its block and speak outside it.
_DELIMITER = re.compile(r"<\s*(/?)\s*(sources|question)\s*>", re.IGNORECASE)


def quoted(text: str) -> str:
    """`text` with the prompt's block delimiters neutralised."""
    return _DELIMITER.sub(lambda m: f"‹{m.group(1)}{m.group(2)}›", text)


def source_block(sources: Sequence[Source]) -> str:
    """Numbered sources as the model sees them."""
    parts = []
    for s in sources:
        year = f", {s.year}" if s.year else ""
        parts.append(quoted(f"[{s.n}] {s.doc_title}{year} — {s.section}\n{s.text}"))
    return "\n\n".join(parts)


class GenerativeAnswerer:
    """Any OpenAI-compatible chat model, prompted with the numbered sources; streams tokens."""

    def __init__(self, llm: LLM) -> None:
        self.llm = llm

    @property
    def mode(self) -> Mode:
        return Mode("openai", self.llm.model)

    def messages(self, request: AnswerRequest) -> list[Message]:
        system = render(f"system_{request.language}")
        user = render("answer", sources=source_block(request.sources), question=quoted(request.question))
        return [Message("system", system), Message("user", user)]

    def answer(self, request: AnswerRequest) -> Iterator[str]:
        yield from self.llm.stream(self.messages(request))


def is_refusal(text: str) -> bool:
    """The model said the documents do not cover the question."""
    folded = " ".join(text.lower().split())
    return any(r.lower().rstrip(".") in folded for r in REFUSAL.values()) or folded.startswith(
        ("the documents do not cover", "dat staat niet in de documenten", "de documenten bevatten")
    )
