"""Gold candidates from reviewed answers: the draft the review form starts from (pre-filled from the answer),
its check against the corpus by the gold set's own rules (those of tests/eval/test_gold.py: evidence verbatim
in the document's text, headings as printed, key facts found, the shape of each kind), and the candidates
file, which `policy-assistant eval --gold FILE` reads and a maintainer copies into eval/gold/gold.jsonl.

A source passage is the indexed text, which the parser cleaned up (footnote markers and page breaks taken
out, hyphenated words joined): `Corpus.locate` finds the document's own wording of a chosen sentence, or the
longest part of it that is printed in one piece, so the evidence stays verbatim.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import re
import tempfile
from collections.abc import Iterator, Sequence, Set
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from assistant.types import COVERAGES, Answer, Source
from errors import InputError
from index.corpus import read_manifest
from index.sentences import split_sentences
from index.types import DocumentInfo
from storage.review import ReviewItem

KINDS = ("factoid", "number", "list", "why", "cross_doc", "over_time", "footnote", "followup", "unanswerable")
MULTI_DOCUMENT_KINDS = ("cross_doc", "over_time")
EVIDENCE_MIN, EVIDENCE_MAX = 20, 300
MAX_KEY_FACTS, MAX_KEY_FACT_WORDS = 3, 4
MAX_HISTORY_TURNS = 3  # earlier question/answer pairs a follow-up item carries
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")
_CITATION = re.compile(r"\s*\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\]")
_NUMBER = re.compile(  # a figure as printed (`698 000`, `1,28 miljoen`, `4,7 %`), with its unit word
    r"(?:\d{1,3}(?:[ .]\d{3})+(?:,\d+)?|\d+(?:[,.]\d+)?)"
    r"(?:\s?(?:%|procent|percent|miljoen|miljard|million|billion)(?!\w))?"
)
_COUNTING = re.compile(r"^\s*(hoeveel|how many|how much)\b", re.IGNORECASE)
_TRAILING = re.compile(r"^(.*?)([.,;:!?)\]”’\"']*)$")


def norm(text: str) -> str:
    """Every whitespace run as one space (the gold set's normalisation)."""
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Evidence:
    """One document's part of a gold item: the section heading and the quote that holds the answer."""

    doc: str
    section: str
    quote: str


@dataclass(frozen=True)
class Candidate:
    """A gold item as the review form holds it."""

    id: str
    lang: str
    question: str
    answer: str
    kind: str
    key_facts: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    coverage: str = "answered"
    missing: tuple[str, ...] = ()
    absent_terms: tuple[str, ...] = ()
    history: tuple[tuple[str, str], ...] = ()  # (role, content), alternating user/assistant
    origin: str = ""  # the review item it was made from

    def to_json(self) -> dict[str, Any]:
        """The gold schema's object (doc, section and evidence: one value, a list for cross_doc/over_time, or
        null for an unanswerable item)."""

        def shaped(values: list[str]) -> str | list[str] | None:
            if not values:
                return None
            return values if self.kind in MULTI_DOCUMENT_KINDS else values[0]

        item: dict[str, Any] = {
            "id": self.id,
            "lang": self.lang,
            "question": self.question,
            "answer": self.answer,
            "key_facts": list(self.key_facts),
            "doc": shaped([e.doc for e in self.evidence]),
            "section": shaped([e.section for e in self.evidence]),
            "evidence": shaped([e.quote for e in self.evidence]),
            "kind": self.kind,
            "coverage": self.coverage,
        }
        if self.history:
            item["history"] = [{"role": role, "content": content} for role, content in self.history]
        if self.missing:
            item["missing"] = list(self.missing)
        if self.absent_terms:
            item["absent_terms"] = list(self.absent_terms)
        if self.origin:
            item["origin"] = self.origin
        return item


class Corpus:
    """The corpus documents as the gold set checks them: each file's whitespace-normalised text."""

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = corpus_dir
        self.documents: dict[str, DocumentInfo] = {d.id: d for d in read_manifest(corpus_dir)}

    def text(self, doc_id: str) -> str:
        """The normalised text of a document; `InputError` for an unknown id."""
        info = self.documents.get(doc_id)
        if info is None:
            known = ", ".join(sorted(self.documents))
            raise InputError(f"unknown document {doc_id!r}; use one of {known}")
        return _file_text(self.corpus_dir / info.file)

    def contains(self, doc_id: str, text: str) -> bool:
        return norm(text) in self.text(doc_id)

    def locate(self, doc_id: str, sentence: str) -> str | None:
        """The document's own wording of `sentence` (as the index shows it), or of its longest start or end
        printed in one piece, at most `EVIDENCE_MAX` characters; None when not even that is found."""
        doc, wanted = self.text(doc_id), norm(sentence)
        if not wanted:
            return None
        if wanted in doc:
            return _at_most(wanted, EVIDENCE_MAX)
        tokens = wanted.split()
        found = _search(doc, tokens)
        if found is None:
            found = max(
                (part for part in (_longest_prefix(doc, tokens), _longest_suffix(doc, tokens)) if part),
                key=len,
                default=None,
            )
        if found is None or len(found) < EVIDENCE_MIN:
            return None
        return _at_most(found, EVIDENCE_MAX)

    def absent(self, term: str) -> bool:
        """`term` occurs in no corpus file (case-insensitive)."""
        wanted = norm(term).casefold()
        return all(wanted not in _file_text(path).casefold() for path in sorted(self.corpus_dir.glob("*.txt")))


@cache
def _file_text(path: Path) -> str:
    try:
        return norm(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InputError(f"cannot read the corpus file {path}: {err.strerror}; check ASSISTANT_CORPUS_DIR") from err


def _pattern(tokens: Sequence[str]) -> str:
    """A regex for `tokens` as the document may print them: a footnote number after a word or on its own
    between words, a line-broken hyphen (`EU- lidstaten`)."""
    parts = []
    for token in tokens:
        core, trailing = _TRAILING.match(token).groups()  # type: ignore[union-attr]
        core = r"-\s?".join(re.escape(piece) for piece in core.split("-"))
        parts.append(core + r"\d{0,3}" + re.escape(trailing) + (r"\d{0,3}" if trailing else ""))
    return r"\s+(?:\d{1,3}\s+)?".join(parts)


def _search(doc: str, tokens: Sequence[str]) -> str | None:
    match = re.search(_pattern(tokens), doc) if tokens else None
    return match.group(0) if match else None


def _longest_prefix(doc: str, tokens: list[str]) -> str | None:
    low, high, best = 1, len(tokens) - 1, None
    while low <= high:  # a prefix that is found stays found when shortened: bisect its length
        middle = (low + high) // 2
        found = _search(doc, tokens[:middle])
        if found:
            best, low = found, middle + 1
        else:
            high = middle - 1
    return best


def _longest_suffix(doc: str, tokens: list[str]) -> str | None:
    low, high, best = 1, len(tokens) - 1, None
    while low <= high:
        middle = (low + high) // 2
        found = _search(doc, tokens[len(tokens) - middle :])
        if found:
            best, low = found, middle + 1
        else:
            high = middle - 1
    return best


def _at_most(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut[: cut.rfind(" ")] if " " in cut else cut


# ------------------------------------------------------------------------------------------------ draft


def strip_citations(text: str) -> str:
    """An answer's text without its `[n]` markers."""
    return norm(_CITATION.sub("", text))


def cited_sources(answer: Answer) -> list[Source]:
    """The sources an answer cites, in order; all of them when it cites none."""
    cited = {int(n) for n in re.findall(r"\[(\d{1,3})\]", answer.text)}
    return [s for s in answer.sources if s.n in cited] or list(answer.sources)


def draft(item: ReviewItem, earlier: Sequence[Answer], corpus: Corpus, taken: Set[str] = frozenset()) -> Candidate:
    """The form's starting point for `item`: question, language, the documents and sentences its answer
    cites (their verbatim wording), numbers of the answer found there as key facts, the expected verdict;
    an id not in `taken`."""
    answer = item.answer
    kind = _kind(answer, earlier)
    evidence: list[Evidence] = []
    if kind != "unanswerable":
        for source in cited_sources(answer):
            if source.doc_id not in corpus.documents or any(e.doc == source.doc_id for e in evidence):
                continue
            quote = corpus.locate(source.doc_id, source.highlight or first_sentence(source.text)) or ""
            evidence.append(Evidence(source.doc_id, source.section, quote))
            if kind not in MULTI_DOCUMENT_KINDS:
                break
    quotes = " ".join(e.quote for e in evidence)
    facts = [n for n in dict.fromkeys(_NUMBER.findall(strip_citations(answer.text))) if n in quotes]
    history: list[tuple[str, str]] = []
    if kind == "followup":
        for turn in earlier[-MAX_HISTORY_TURNS:]:
            history += [("user", turn.question), ("assistant", strip_citations(turn.text))]
    base = f"{answer.language}-review-{item.key if item.key.startswith('f') else item.key[:12]}"
    candidate_id = next(c for n in range(1, len(taken) + 2) if (c := base if n == 1 else f"{base}-{n}") not in taken)
    return Candidate(
        id=candidate_id,
        lang=answer.language,
        question=answer.question,
        answer=strip_citations(answer.text),
        kind=kind,
        key_facts=tuple(facts[:MAX_KEY_FACTS]),
        evidence=tuple(evidence),
        coverage=answer.coverage,
        missing=answer.missing,
        history=tuple(history),
        origin=item.key,
    )


def first_sentence(text: str) -> str:
    """The first sentence of a passage."""
    spans = split_sentences(text)
    return text[spans[0][0] : spans[0][1]] if spans else text


def _kind(answer: Answer, earlier: Sequence[Answer]) -> str:
    if answer.coverage == "not_covered":
        return "unanswerable"
    if earlier and norm(answer.standalone_question) != norm(answer.question):
        return "followup"  # the question was read with the earlier turns
    cited = cited_sources(answer)
    if len({s.doc_id for s in cited}) >= 2:
        return "cross_doc"
    if cited and cited[0].footnote is not None:
        return "footnote"
    return "number" if _COUNTING.match(answer.question) else "factoid"


# ------------------------------------------------------------------------------------------------ check


def validate(candidate: Candidate, corpus: Corpus, taken: set[str]) -> tuple[Candidate, list[str]]:
    """The candidate with every quote in the document's own wording, and what breaks the gold set's rules
    (empty when nothing does). `taken`: the ids already in use."""
    c = candidate
    problems: list[str] = []
    if not _ID.fullmatch(c.id):
        problems.append(f"id {c.id!r}: use letters, digits, '-', '_' or '.', at most 80 characters")
    elif c.id in taken:
        problems.append(f"id {c.id!r} is taken; choose another")
    if c.lang not in ("nl", "en"):
        problems.append(f"language {c.lang!r}: use nl or en")
    if not c.question.strip():
        problems.append("the question is empty")
    if not c.answer.strip():
        problems.append("the answer is empty: write the answer the documents give (or that they do not cover it)")
    if c.kind not in KINDS:
        problems.append(f"kind {c.kind!r}: use one of {', '.join(KINDS)}")
    answerable = c.kind != "unanswerable"
    problems += _facts_problems(c, answerable)
    evidence, evidence_problems = _evidence(c, corpus, answerable)
    problems += evidence_problems
    c = replace(c, evidence=tuple(evidence))
    problems += _history_problems(c)
    problems += _verdict_problems(c, corpus, answerable)
    if answerable and not evidence_problems:
        quotes = " ".join(e.quote for e in c.evidence).casefold()
        for fact in c.key_facts:
            wanted = norm(fact).casefold()
            if wanted not in quotes and not any(wanted in corpus.text(e.doc).casefold() for e in c.evidence):
                problems.append(f"key fact {fact!r} is in neither the evidence nor its documents")
    return c, problems


def _facts_problems(c: Candidate, answerable: bool) -> list[str]:
    problems = []
    if len(c.key_facts) > MAX_KEY_FACTS:
        problems.append(f"{len(c.key_facts)} key facts: keep at most {MAX_KEY_FACTS}")
    for fact in c.key_facts:
        if len(fact.split()) > MAX_KEY_FACT_WORDS:
            problems.append(f"key fact {fact!r} is longer than {MAX_KEY_FACT_WORDS} words")
    if answerable and not c.key_facts:
        problems.append("an answerable item needs 1 to 3 key facts (short phrases from the evidence)")
    if not answerable and c.key_facts:
        problems.append("an unanswerable item has no key facts")
    return problems


def _evidence(c: Candidate, corpus: Corpus, answerable: bool) -> tuple[list[Evidence], list[str]]:
    rows = [e for e in c.evidence if e.doc or e.section.strip() or e.quote.strip()]
    if not answerable:
        return [], ["an unanswerable item names no document, section or evidence"] if rows else []
    problems: list[str] = []
    docs = [e.doc for e in rows]
    if c.kind in MULTI_DOCUMENT_KINDS:
        if len(set(docs)) < 2 or len(set(docs)) != len(docs):
            problems.append(f"{c.kind} items need evidence from 2 or more different documents, one each")
        elif c.kind == "over_time":
            years = {corpus.documents[d].year for d in docs if d in corpus.documents}
            if len(years) < 2:
                problems.append("an over_time item needs documents of different years")
    elif len(rows) != 1:
        problems.append(f"{c.kind} items have evidence from exactly one document ({len(rows)} given)")
    located = []
    for e in rows:
        if e.doc not in corpus.documents:
            problems.append(f"unknown document {e.doc!r}; use one of {', '.join(sorted(corpus.documents))}")
            continue
        if not e.section.strip():
            problems.append(f"{e.doc}: the section heading is empty")
        elif not corpus.contains(e.doc, e.section):
            problems.append(f"{e.doc}: the section heading {e.section!r} is not in the document as printed")
        quote = corpus.locate(e.doc, e.quote) if e.quote.strip() else None
        if not e.quote.strip():
            problems.append(f"{e.doc}: no evidence; click the sentence of a source that holds the answer")
        elif quote is None:
            problems.append(
                f"{e.doc}: the evidence is not in the document's text ({_shorten(e.quote)!r}); choose a sentence "
                "of this document's sources, or copy the words from the document"
            )
        elif not EVIDENCE_MIN <= len(quote) <= EVIDENCE_MAX:
            problems.append(f"{e.doc}: the evidence is {len(quote)} characters; use {EVIDENCE_MIN} to {EVIDENCE_MAX}")
        located.append(Evidence(e.doc, norm(e.section), quote or e.quote))
    return located, problems


def _history_problems(c: Candidate) -> list[str]:
    if c.kind != "followup":
        return ["only a followup item carries a history"] if c.history else []
    if not c.history:
        return ["a followup item needs the earlier turns (history)"]
    problems = []
    for n, (role, content) in enumerate(c.history):
        expected = "user" if n % 2 == 0 else "assistant"
        if role != expected:
            problems.append(f"history turn {n + 1} is {role!r}; turns alternate user, assistant")
        if not content.strip():
            problems.append(f"history turn {n + 1} is empty")
    if c.history[-1][0] != "assistant":
        problems.append("the history ends with the assistant's answer")
    return problems


def _verdict_problems(c: Candidate, corpus: Corpus, answerable: bool) -> list[str]:
    problems = []
    if c.coverage not in COVERAGES:
        problems.append(f"verdict {c.coverage!r}: use one of {', '.join(COVERAGES)}")
    elif answerable and c.coverage == "not_covered":
        problems.append("an answerable item has the verdict answered or partial (not_covered is for unanswerable)")
    elif not answerable and c.coverage != "not_covered":
        problems.append("an unanswerable item has the verdict not_covered")
    if any(not m.strip() for m in c.missing):
        problems.append("an entry of 'missing' is empty")
    if (c.coverage == "partial" or not answerable) and not c.missing:
        problems.append("say what the documents lack ('missing'), e.g. the amount or the name")
    if not answerable:
        if not c.absent_terms:
            problems.append("list the search terms that confirm the detail is absent (absent_terms)")
        for term in c.absent_terms:
            if not term.strip():
                problems.append("an absent term is empty")
            elif not corpus.absent(term):
                problems.append(f"the absent term {term!r} does occur in the corpus; is the item answerable after all?")
    elif c.absent_terms:
        problems.append("only an unanswerable item lists absent_terms")
    return problems


def _shorten(text: str, limit: int = 80) -> str:
    text = norm(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ------------------------------------------------------------------------------------------------- file


class CandidateFile:
    """The candidates file: one gold item per line (JSONL), appended to under a lock."""

    def __init__(self, path: Path, gold_files: Sequence[Path] = ()) -> None:
        self.path = path
        self.gold_files = tuple(gold_files)  # the gold set proper: its ids are taken too

    def items(self) -> list[dict[str, Any]]:
        """The candidates saved so far; `InputError` naming a line that is not JSON."""
        if not self.path.exists():
            return []
        return list(_read_jsonl(self.path))

    def taken(self) -> set[str]:
        """Every id in the candidates file and in the gold set."""
        ids = {str(item.get("id")) for item in self.items()}
        for path in self.gold_files:
            if path.exists() and path.resolve() != self.path.resolve():
                ids |= {str(item.get("id")) for item in _read_jsonl(path)}
        return ids

    def add(self, candidate: Candidate, corpus: Corpus) -> Candidate:
        """Check `candidate` and append it; `InputError` listing every problem (and nothing written)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._locked():
                checked, problems = validate(candidate, corpus, self.taken())
                if problems:
                    raise InputError("the gold candidate was not saved: " + "; ".join(problems))
                line = json.dumps(checked.to_json(), ensure_ascii=False)
                _check_loads(line, corpus.corpus_dir)
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(line + "\n")
        except OSError as err:
            raise InputError(f"cannot write the candidates file {self.path}: {err.strerror}; check the path") from err
        return checked

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # Two reviewers saving at once (or two worker processes) must not both take one id.
        with open(self.path.with_name(self.path.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{path}:{number} is not JSON ({err.msg}); fix or remove the line") from err
        if isinstance(item, dict):
            yield item


def _check_loads(line: str, corpus_dir: Path) -> None:
    """The line loads as `eval --gold` loads it (the loader is the evaluation's own)."""
    from eval.gold import load_gold

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "candidate.jsonl"
        path.write_text(line + "\n", encoding="utf-8")
        load_gold([path], corpus_dir=corpus_dir)
