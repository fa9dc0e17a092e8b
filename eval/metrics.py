"""Scoring functions for the evaluation: retrieval hits, key facts, citations, language, refusals, latency.

Every function here is pure: it scores one answer (or a list of numbers) and never calls the assistant.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import math
import re
from collections.abc import Iterable, Sequence

from assistant.cite import MARKER, strip_markers
from assistant.language import detect_language
from assistant.lexical import fold
from assistant.types import COVERAGES, Language, Source

_TOKEN = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    """Lowercase, strip diacritics and punctuation, collapse whitespace."""
    return " ".join(_TOKEN.findall(fold(text)))


# ------------------------------------------------------------------------------------------- retrieval


def evidence_in(evidence: str, text: str) -> bool:
    """True when `text` holds the evidence, or at least half of its words in one run.

    Tolerant of whitespace, punctuation, hyphenation and footnote markers (digits glued to words are
    compared both with and without a trailing marker), and of chunk boundaries (the half-run rule).
    """
    ev = normalise(evidence).split()
    if not ev:
        return False
    hay = " " + normalise(text) + " "
    hay_unmarked = " " + re.sub(r"(?<=[^\W\d_])\d{1,3}\b", "", normalise(text)) + " "
    need = max(1, (len(ev) + 1) // 2)
    for size in (len(ev), need):
        for start in range(0, len(ev) - size + 1):
            window = " " + " ".join(ev[start : start + size]) + " "
            if window in hay or window in hay_unmarked:
                return True
    return False


def first_hit_rank(evidence: Sequence[str], texts: Sequence[str]) -> int | None:
    """1-based rank at which every evidence quote has been found in `texts` (None if never)."""
    if not evidence:
        return None
    ranks = []
    for quote in evidence:
        rank = next((i + 1 for i, t in enumerate(texts) if evidence_in(quote, t)), None)
        if rank is None:
            return None
        ranks.append(rank)
    return max(ranks)


# ------------------------------------------------------------------------------------------- key facts

# Dutch and English words that mean the same number, unit, month or fraction map to one canonical token,
# so "twaalf weken", "twelve weeks" and "12 weeks" compare equal. "een" is both "a" and "one" in Dutch:
# it counts as 1, which is right for every number phrase ("een derde", "een miljoen").
_NUMBER_WORDS = {
    **dict.fromkeys(("nul", "zero"), "0"),
    **dict.fromkeys(("een", "one"), "1"),
    **dict.fromkeys(("twee", "two"), "2"),
    **dict.fromkeys(("drie", "three"), "3"),
    **dict.fromkeys(("vier", "four"), "4"),
    **dict.fromkeys(("vijf", "five"), "5"),
    **dict.fromkeys(("zes", "six"), "6"),
    **dict.fromkeys(("zeven", "seven"), "7"),
    **dict.fromkeys(("acht", "eight"), "8"),
    **dict.fromkeys(("negen", "nine"), "9"),
    "tien": "10",  # not English "ten": Dutch "ten" is a preposition ("ten minste")
    **dict.fromkeys(("elf", "eleven"), "11"),
    **dict.fromkeys(("twaalf", "twelve"), "12"),
    **dict.fromkeys(("dertien", "thirteen"), "13"),
    **dict.fromkeys(("veertien", "fourteen"), "14"),
    **dict.fromkeys(("vijftien", "fifteen"), "15"),
    **dict.fromkeys(("zestien", "sixteen"), "16"),
    **dict.fromkeys(("zeventien", "seventeen"), "17"),
    **dict.fromkeys(("achttien", "eighteen"), "18"),
    **dict.fromkeys(("negentien", "nineteen"), "19"),
    **dict.fromkeys(("twintig", "twenty"), "20"),
    **dict.fromkeys(("dertig", "thirty"), "30"),
    **dict.fromkeys(("veertig", "forty"), "40"),
    **dict.fromkeys(("vijftig", "fifty"), "50"),
    **dict.fromkeys(("honderd", "hundred"), "100"),
    **dict.fromkeys(("duizend", "thousand"), "1000"),
}
_WORD_EQUIVALENTS = {
    **dict.fromkeys(("miljoen", "miljoenen", "million", "millions", "mln"), "million"),
    **dict.fromkeys(("miljard", "miljarden", "billion", "billions"), "billion"),
    **dict.fromkeys(("procent", "percent", "pct"), "%"),
    **dict.fromkeys(("euro", "euros", "eur"), "eur"),
    **dict.fromkeys(("jaar", "jaren", "year", "years"), "year"),
    **dict.fromkeys(("maand", "maanden", "month", "months"), "month"),
    **dict.fromkeys(("week", "weken", "weeks"), "week"),
    **dict.fromkeys(("dag", "dagen", "day", "days"), "day"),
    **dict.fromkeys(("derde", "derden", "third", "thirds"), "third"),
    **dict.fromkeys(("kwart", "quarter", "quarters"), "quarter"),
    **dict.fromkeys(("helft", "half"), "half"),
    "januari": "january",
    "februari": "february",
    "maart": "march",
    "mei": "may",
    "juni": "june",
    "juli": "july",
    "augustus": "august",
    "oktober": "october",
}
_FRACTIONS = {"third", "quarter", "half"}

# "38 000", "38.000" and "38,000" (groups of exactly three digits) are one number; "4,7" is 4.7.
_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:[ .,\u00a0\u202f]\d{3})+(?!\d|[.,]\d)")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
_FACT_TOKEN = re.compile(r"\d+(?:\.\d+)?|%|€|[^\W\d_]+")
_PHRASES = [(re.compile(r"\bper cent\b"), "%"), (re.compile(r"\bde helft\b"), "half")]


def fact_tokens(text: str) -> list[str]:
    """`text` as canonical tokens: folded case and diacritics, numbers, number words and units unified."""
    folded = fold(text.replace("\u00a0", " ").replace("\u202f", " "))
    folded = _THOUSANDS.sub(lambda m: re.sub(r"\D", "", m.group()), folded)
    folded = _DECIMAL_COMMA.sub(".", folded)
    for pattern, replacement in _PHRASES:
        folded = pattern.sub(replacement, folded)
    raw = ["eur" if t == "€" else t for t in _FACT_TOKEN.findall(folded)]
    words = [_NUMBER_WORDS.get(t, _WORD_EQUIVALENTS.get(t, t)) for t in raw]
    tokens: list[str] = []
    for i, token in enumerate(words):
        if token in ("a", "an") and i + 1 < len(words) and words[i + 1] in _FRACTIONS:
            token = "1"  # "a third" is "een derde"
        tokens.append(token)
    return tokens


def _is_number(token: str) -> bool:
    return token[:1].isdigit()


def _token_matches(fact: str, word: str) -> bool:
    if fact == word:
        return True
    if _is_number(fact) or _is_number(word) or len(fact) < 4:
        return False
    # Dutch and English inflection: "veilig"/"veilige", "terugkeerhubs"/"terugkeerhub".
    return word.startswith(fact) or (len(word) >= 5 and fact.startswith(word) and len(fact) - len(word) <= 2)


def _phrase_in(fact: list[str], words: list[str]) -> bool:
    if not fact:
        return False
    size = len(fact)
    for start in range(len(words) - size + 1):
        if all(_token_matches(f, w) for f, w in zip(fact, words[start : start + size], strict=True)):
            return True
    # A Dutch compound written as one word: "blauwe kaart" in "blauwekaartregeling".
    joined = "".join(fact)
    return len(joined) >= 6 and not any(_is_number(t) for t in fact) and any(joined in w for w in words)


def fact_in(fact: str, text: str) -> bool:
    """True when key fact `fact` is stated in `text`, in Dutch or in English.

    Number formats ("38 000", "38.000", "38,000"; "4,7 %", "4.7%"), case, diacritics, Dutch and English
    number words ("twaalf", "twelve", "12"), units, months and glossary translations of Dutch terms
    ("blauwe kaart", "Blue Card") compare equal; numbers must match whole ("12" is not in "2012").
    """
    words = fact_tokens(strip_markers(text))
    return any(_phrase_in(fact_tokens(form), words) for form in (fact, *english_forms(fact)))


@functools.cache
def _dutch_to_english() -> dict[str, tuple[str, ...]]:
    """The project's English-Dutch glossary read backwards: folded Dutch term -> English terms."""
    text = importlib.resources.files("assistant").joinpath("glossary_en_nl.tsv").read_text(encoding="utf-8")
    reverse: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#") or line.count("\t") != 1:
            continue
        english, dutch = line.split("\t")
        for term in dutch.split("|"):
            reverse.setdefault(normalise(term), []).append(english.strip())
    return {k: tuple(dict.fromkeys(v)) for k, v in reverse.items()}


def english_forms(fact: str) -> tuple[str, ...]:
    """English equivalents of a Dutch key fact from the project glossary (empty when it has none)."""
    return _dutch_to_english().get(normalise(fact), ())


def key_facts_found(facts: Sequence[str], text: str) -> tuple[list[str], list[str]]:
    """The key facts stated in `text`, and those missing."""
    found = [f for f in facts if fact_in(f, text)]
    return found, [f for f in facts if f not in found]


def key_fact_recall(facts: Sequence[str], text: str) -> float | None:
    """Share of `facts` stated in `text`; None when there are no facts to find."""
    if not facts:
        return None
    found, _ = key_facts_found(facts, text)
    return len(found) / len(facts)


# ------------------------------------------------------------------------------------------- citations


def cited_numbers(text: str) -> list[int]:
    """Every source number cited by a `[n]` or `[n, m]` marker, in order, repeats kept."""
    return [int(x) for m in MARKER.finditer(text) for x in re.split(r"\s*[,;]\s*", m.group(1))]


def citations_valid(text: str, sources: Sequence[Source]) -> bool | None:
    """Every marker points at a numbered source; None when the answer cites nothing."""
    cited = cited_numbers(text)
    if not cited:
        return None
    numbers = {s.n for s in sources}
    return all(n in numbers for n in cited)


def citation_precision(
    text: str, sources: Sequence[Source], evidence: Sequence[str], facts: Sequence[str]
) -> float | None:
    """Share of the cited sources that hold the evidence or a key fact; None when nothing valid is cited
    or the item has nothing to look for (an unanswerable question)."""
    by_n = {s.n: s for s in sources}
    cited = [by_n[n] for n in dict.fromkeys(cited_numbers(text)) if n in by_n]
    if not cited or not (evidence or facts):
        return None
    good = [s for s in cited if any(evidence_in(e, s.text) for e in evidence) or any(fact_in(f, s.text) for f in facts)]
    return len(good) / len(cited)


# ------------------------------------------------------------------------------------------- language

_QUOTED = re.compile(r"[“„][^“”„]*”")


def answer_language(text: str, refused: bool, language: Language) -> Language:
    """The language an answer is written in.

    Quoted passages are left out (English extractive answers quote the Dutch sources inside English
    framing); a refusal, whose text also lists Dutch section titles, is in the answer's own language.
    """
    if refused:
        return language
    plain = strip_markers(_QUOTED.sub(" ", text))
    return detect_language(plain, default=language)


# ------------------------------------------------------------------------------------------- aggregates


def mean(values: Iterable[float | bool | None]) -> float | None:
    """Mean of the values that are not None; None when there are none."""
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank `q`-th percentile (0 < q <= 100); None for no values. The one percentile of the
    project: the evaluation's latency figures and the benchmarks use it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def verdict_rates(
    expected: Sequence[str], got: Sequence[str], named_missing: Sequence[bool]
) -> dict[str, float | None]:
    """The coverage verdict's rates, from each item's expected and given verdict and whether the answer named
    what is missing: `recall` on unanswerable items (not_covered, or partial naming the missing element),
    `false_rate` (not_covered on answerable ones), `partial_rate` (partial on fully answerable ones) and
    `partial_recall` (partial items given partial); None where no item applies."""
    rows = list(zip(expected, got, named_missing, strict=True))
    return {
        "recall": mean(g == "not_covered" or (g == "partial" and n) for e, g, n in rows if e == "not_covered"),
        "false_rate": mean(g == "not_covered" for e, g, _ in rows if e != "not_covered"),
        "partial_rate": mean(g == "partial" for e, g, _ in rows if e == "answered"),
        "partial_recall": mean(g == "partial" for e, g, _ in rows if e == "partial"),
    }


def confusion(expected: Sequence[str], got: Sequence[str]) -> dict[str, dict[str, int]]:
    """Counts of given verdicts per expected verdict: `{expected: {given: n}}`, every verdict present."""
    table: dict[str, dict[str, int]] = {e: {g: 0 for g in COVERAGES} for e in COVERAGES}
    for e, g in zip(expected, got, strict=True):
        table[e][g] += 1
    return table


# ------------------------------------------------------------------------------------------- judge

_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def parse_judge_reply(text: str) -> tuple[float, str]:
    """The score (clamped to 0..1) and reason of a judge's `{"score": ..., "reason": ...}` reply.

    Raises ValueError naming the reply when it holds no such object.
    """
    match = _JSON_OBJECT.search(text)
    try:
        data = json.loads(match.group()) if match else None
        if not isinstance(data, dict):
            raise TypeError("not an object")
        score = float(data["score"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise ValueError(f"the judge did not reply with a JSON score: {text[:120]!r}") from err
    if math.isnan(score):
        raise ValueError(f"the judge's score is not a number: {text[:120]!r}")
    return min(1.0, max(0.0, score)), str(data.get("reason", ""))
