"""The evidence check: do the sentences an answer would cite hold the thing the question asks for?

`check(analysis, sources)` reads every sentence of every source (a footnote with the body sentence that
cites it) and decides, for each thing the question asks (`assistant.question.Ask`), whether one sentence
carries a value of the expected type (a money amount, not a count; a percentage or a fraction; a year; a
person's name …) tied to the focus and meeting the constraints (the year asked, not a neighbouring one; the
place; the named programme). The `Verdict` is `answered` when every thing asked is answered, `partial` when
the documents give part of it or discuss the focus without the value asked for, and `not_covered` when they
do not discuss it; `missing` names what is lacking in the answer's language ("bedrag voor de
talentpartnerschappen", "figure for 2023").

`parse_stated` reads the verdict line a language model is asked to end its answer with (`DEKKING: …` /
`COVERAGE: …`), and `combine` weighs it against the offline check: a model that claims a value of the
expected type that no cited source holds gets `partial`, with the claim flagged.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from assistant.cite import MARKER, numbers_in
from assistant.lexical import fold, terms
from assistant.question import (
    AnswerType,
    Ask,
    Concept,
    Constraint,
    QuestionAnalysis,
    analyse,
    named_places_in,
    places_in,
    quick_fold,
)
from assistant.types import Coverage, Language, Source
from index.sentences import passage_sentences, split_sentences

if TYPE_CHECKING:
    from assistant.answer import AnswerRequest, ScoredSentence


@dataclass(frozen=True)
class CoverageWeights:
    """The constants of the check. Set by hand on the gold set's dev split (eval/gold/gold.jsonl items with
    "split": "dev", the coverage items among them), measured with the dev confusion table of the verdicts;
    re-tune them there, never on the test split."""

    answer_tie: float = 0.45  # share of the focus (idf-weighted) a sentence must hold to answer
    open_tie: float = 0.35  # ... for a question without a typed value (what, how, why): the sentence is the answer
    related_tie: float = 0.3  # below this no sentence is about the question's focus: not covered
    context_share: float = 0.6  # a focus word found only in the sentence's context (previous sentence, heading)
    verb_share: float = 0.35  # a verb of the question counts for this much of its weight
    similar_sentences: int = 2  # the sentences nearest by meaning (of the re-ranked head) ...
    similar_bonus: float = 0.35  # ... get this much added to their share of the focus
    head_share: float = 0.7  # a compound of the question found only by its head (`projecten`, `proefprojecten`)
    # a cause clause holding this much of a why-question's focus restates the question: no reason (dev split,
    # why items and c-nl unanswerable why items: 0.5-0.7 gave the same table)
    premise_share: float = 0.6


Status = Literal["answered", "partial", "absent"]


@dataclass(frozen=True)
class Evidence:
    """A sentence an answer could cite, with what frames it."""

    source: Source
    text: str
    context: str  # the sentence before it, the section's title, and for a footnote the sentence citing it


@dataclass(frozen=True)
class Finding:
    """What the sources hold for one thing asked."""

    ask: Ask
    status: Status
    evidence: Evidence | None  # the sentence that answers it, or the nearest one
    missing: str = ""  # what is lacking, in the answer's language


@dataclass(frozen=True)
class Verdict:
    """Whether the sources answer the question, what they lack, and the sentences that answer it."""

    coverage: Coverage
    missing: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = field(default=(), compare=False)
    flagged: tuple[str, ...] = ()  # a model's sentences claiming a value no cited source holds

    @property
    def answering(self) -> tuple[Evidence, ...]:
        """The sentences that answer a thing asked, one per answered thing, in question order."""
        return tuple(f.evidence for f in self.findings if f.status == "answered" and f.evidence is not None)


def _split(words: str) -> list[str]:
    """The words of a word list written as one string."""
    return words.split()


# ------------------------------------------------------------------------------------------ values in text

_SCALE = r"(?:duizend|miljoen|miljard|thousand|million|billion|mln|mld|bn|m)"
_NUM = r"\d{1,3}(?:[ .,\u00a0]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_NUMBER_WORDS = (
    r"een|één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|vijftien|twintig|dertig|"
    r"veertig|vijftig|zestig|zeventig|tachtig|negentig|honderd|duizend|one|two|three|four|five|six|seven|eight|"
    r"nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|hundred|thousand"
)
_QUALIFIER = (
    r"(?:ruim|bijna|meer dan|minder dan|ongeveer|circa|ca\.|zo'n|tot|ten minste|minstens|over|more than|"
    r"almost|nearly|about|around|some|up to|at least|less than|fewer than)"
)
_MONEY = re.compile(
    rf"(?:€|\bEUR\b|\beuro\b)\s*(?:{_NUM})(?:\s*{_SCALE}\b)?"
    rf"|(?:\b(?:{_NUM})|\b(?:{_NUMBER_WORDS}))\s*(?:{_SCALE}\s*)?(?:EUR\b|euro\b|€)",
    re.IGNORECASE,
)
_FRACTION = (
    r"(?:een|één|twee|drie|one|two|three)\s*(?:derde|kwart|vijfde|tiende|third|thirds|quarter|quarters|fifth|tenth)"
    r"|de helft|\bhelft van|\bhalf (?:of|the)|(?:een|één|one) op (?:de )?(?:\w+|\d+)|(?:one|1) in (?:\w+|\d+)"
    r"|meerderheid|majority"
)
_PERCENT = re.compile(rf"(?:{_NUM})\s*(?:%|procent\b|percent\b|procentpunt\w*|percentage points?)|{_FRACTION}", re.I)
_TIME_UNIT = (
    r"(?:dagen|dag|weken|week|maanden|maand|jaar|jaren|uur|uren|days|day|weeks|week|months|month|years|year|hours)"
)
_DURATION = re.compile(rf"(?:\b(?:{_NUM})|\b(?:{_NUMBER_WORDS}))\s*(?:-\s*)?{_TIME_UNIT}\b", re.I)
_YEAR = re.compile(r"(?<![\d/,.])((?:19[5-9]|20[0-9])\d)(?![\d/]|[.,]\d)")
_MONTH = (
    r"januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december|january|february|"
    r"march|may|june|july|august|october"
)
_DATE = re.compile(
    rf"\b\d{{1,2}}\s+(?:{_MONTH})\b|\b(?:{_MONTH})\s+\d{{4}}\b|\b(?:eind|begin|medio|end|early|mid)[- ]\d{{4}}", re.I
)
# Numbers that are not quantities: legal references, document numbers, article and point numbers, dates.
_NOT_QUANTITY = re.compile(
    rf"\b(?:COM|SWD|JOIN|PE|C)\s*\(\d{{4}}\)\s*\d+|\(EU\)\s*(?:nr\.\s*)?\d+/\d+|\b\d+/\d+(?:/\w+)?\b"
    rf"|\b(?:artikel|artikelen|article|articles|lid|punt|point|nr|no|paragraaf|bijlage|annex|hoofdstuk|chapter|"
    rf"afdeling|section|voetnoot|footnote|fase|niveau|level)\.?\s+\d+(?:\s*(?:,|en|and|tot|-)\s*\d+)*"
    rf"|\b\d{{1,2}}\s+(?:{_MONTH})\b|\b\d+(?:e|ste|de|th|st|nd|rd)\b|\bG\d+\b|\bCOVID-19\b",
    re.I,
)
_UNITS_NL = r"(?:een|twee|drie|vier|vijf|zes|zeven|acht|negen)"
_TENS_NL = r"(?:twintig|dertig|veertig|vijftig|zestig|zeventig|tachtig|negentig)"
_UNITS_EN = r"(?:one|two|three|four|five|six|seven|eight|nine)"
_TENS_EN = r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
# Dutch "ten" before these is no number ("ten volle", "ten opzichte van", "ten minste").
_DUTCH_TEN = (
    r"(?:volle|opzichte|minste|behoeve|aanzien|slotte|gunste|laste|tijde|dele|einde|grondslag|uitvoer|onrechte|"
    r"zuiden|noorden|oosten|westen|hoogste|eerste|tweede|derde|spoedigste|koste|overstaan|gevolge|bate)\b"
)
# A number written out, not "een"/"one" alone (an article): "drie", "zeventig", "vijfentwintig", "twenty-five",
# "dertien", "tientallen"; and a scale after it ("ruim twee miljoen").
_COUNT_WORD = re.compile(
    rf"\b(?:{_QUALIFIER}\s+)?(?:(?:{_UNITS_NL}[eë]n)?{_TENS_NL}|(?:twee|drie|vier|vijf|zes|zeven|acht|negen)|"
    rf"tien|elf|twaalf|dertien|veertien|vijftien|zestien|zeventien|achttien|negentien|honderd|duizend|"
    rf"{_TENS_EN}(?:-{_UNITS_EN})?|two|three|four|five|six|seven|eight|nine|ten(?!\s+{_DUTCH_TEN})|eleven|twelve|thirteen|"
    rf"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|hundred|thousand|tientallen|honderden|duizenden|"
    rf"dozens|hundreds|thousands)(?:\s+{_SCALE})?\s+[a-z]",
    re.I,
)
_NAME_TITLE = re.compile(
    r"\b(?:voorzitter|commissaris|president|minister|premier|directeur|coördinator|coordinator|rapporteur|"
    r"gezant|envoy|commissioner|director|chair|hoge vertegenwoordiger|high representative|vicevoorzitter|"
    r"vice-president)\s+((?:[A-Z][\w-]+\s*){1,3})"
)
_PERSON = re.compile(r"\b(?:[A-Z][a-z]+\s+)?(?:(?:von der|van der|van|de|von)\s+)?[A-Z][a-z]{2,}(?:-[A-Z][a-z]+)?\b")
_ORGANISATION = re.compile(
    r"\b(?:[A-Z]{2,}[a-z]?(?:-[A-Z]+)?|Frontex|Europol|Eurojust|Eurostat|eu-LISA|Asielagentschap\w*|"
    r"(?:Internationale Organisatie voor Migratie)|(?:Hoge Commissaris[\w ]+Vluchtelingen)|"
    r"(?:[A-Z][\w-]+\s+){0,3}(?:Agentschap|Autoriteit|Bureau|Organisatie|Comité|Netwerk|Forum|Agency|Office|"
    r"Organisation|Organization|Authority|Committee|Network)\b(?:\s+(?:voor|van|for|of)\s+(?:de\s+|the\s+)?[\w-]+)?)"
)
_ORG_NOT = frozenset({"EU", "EUR", "COM", "SWD", "VN", "UN", "NB", "II", "III", "IV", "VK", "VS"})
# A list: short items after commas, the last after "en"/"and" ("Syrië, Afghanistan en Venezuela"), or three
# or more; items marked a), b) or set off by semicolons; or examples ("zoals", "including"). Not a phrase set
# off by commas ("De pool, het eerste instrument op EU-niveau dat …, zal …"), nor a colon alone ("OESO: <title>").
_ITEM = r"(?!(?:en|of|and|or|maar|but)\b)(?:[^\s,;]+\s+){0,4}?[^\s,;]+"
_ENUMERATION = re.compile(
    rf",\s*{_ITEM}\s+(?:en|of|and|or)\s+\S|(?:,\s*{_ITEM}\s*(?=,)){{2,}}|\b[a-e]\)\s|(?:[^;]+;){{2,}}"
    r"|\b(?:zoals|waaronder|onder meer|onder andere|including|such as)\b"
)
_CAUSE = re.compile(
    r"\b(?:om\s+\w+(?:\s+\w+){0,8}\s+te|omdat|doordat|daardoor|daarom|aangezien|want|zodat|vanwege|wegens|"
    r"dankzij|gezien|teneinde|"
    r"met het oog op|als gevolg van|gevolg|oorzaak|reden|doel|bedoeld|because|since|due to|so that|"
    r"in order to|aim|purpose|reason)\b",
    re.I,
)
# A verb phrase whose subject is the cause ("De overbelaste capaciteit heeft geleid tot …").
_EFFECT = re.compile(
    r"\b(?:geleid tot|leidt tot|leiden tot|leidde tot|resulteert in|resulteerde in|heeft gezorgd voor|"
    r"hebben gezorgd voor|led to|leads to|lead to|resulted in|results in|caused|veroorzaakt\w*)\b",
    re.I,
)
# A sentence that says its cause is the sentence before it ("Daarom …", "As a result …").
_CAUSE_BEFORE = re.compile(
    r"^\W*(?:daarom|daardoor|hierdoor|om die reden|om deze reden|dit komt doordat|therefore|hence|as a result|"
    r"for this reason|this is why|thus)\b",
    re.I,
)
_ASKS_DAY = re.compile(
    r"\b(?:op welke (?:datum|dag)|welke datum|on what (?:date|day)|what date|which date|which day)\b"
)
_DATE_DAY = re.compile(rf"\b\d{{1,2}}\s+(?:{_MONTH})\b|\b(?:{_MONTH})\s+\d{{1,2}}\b", re.I)


_WHY = re.compile(r"\b(?:waarom|why|om welke reden|for what reason|wat is de reden|what is the reason)\b")
# Capitalised words that are not names of people.
_NOT_PERSON = frozenset(
    fold(w)
    for w in _split(
        "De Het Een Deze Dit Die Dat Er In Op Met Voor Van Om Als Bij Naar Uit Door Ook Zo Wel Niet Maar En "
        "Of The This That These Those It In On At For With From As By To And Or But Also Such Commissie "
        "Commission Unie Union Europese Europees European Raad Council Parlement Parliament Lidstaten Member "
        "States Staat Staten Verenigde Naties United Nations Hof Court Agentschap Agency Fonds Fund "
        "Verordening Regulation Richtlijn Directive Pact Strategie Strategy Mededeling Communication Verslag "
        "Report Team Global Gateway Partnerschap Partnership Zee Sea Oceaan Ocean Route Middellandse "
        "Atlantische Westelijke Oostelijke Centrale Noord Zuid Oost West Mediterranean Western Eastern "
        "Central Afrikaanse African Unie Overeenkomst Agreement Stichting Dienst Raad Programma Programme "
        "Plan Actieplan Kader Framework"
    )
) | frozenset(fold(m) for m in _MONTH.split("|"))


# A web address: its numbers ("…/migration-2025#…") are no years or quantities of what the sentence says.
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:eu|europa\.eu|int|org|com|net)/\S*", re.I)


def _quantities(text: str) -> str:
    """`text` with the numbers that are not quantities (references, dates, ordinals, web addresses) blanked out."""
    return _NOT_QUANTITY.sub(" ", _URL.sub(" ", text))


def money_in(text: str) -> list[str]:
    return [m.group(0) for m in _MONEY.finditer(text)]


def percentages_in(text: str) -> list[str]:
    return [m.group(0) for m in _PERCENT.finditer(text)]


def durations_in(text: str) -> list[str]:
    return [m.group(0) for m in _DURATION.finditer(_quantities(text))]


def years_in(text: str) -> set[int]:
    """The years `text` names (not those inside document references such as COM(2020) 609 or 2016/399, nor in
    web addresses)."""
    cleaned = _URL.sub(" ", text)
    cleaned = re.sub(r"\b(?:COM|SWD|JOIN)\s*\(\d{4}\)|\(EU\)\s*\d+/\d+|\b\d+/\d{4}\b|\b\d{4}/\d+\b", " ", cleaned)
    return {int(y) for y in _YEAR.findall(cleaned)}


def dates_in(text: str) -> list[str]:
    return [m.group(0) for m in _DATE.finditer(text)] + [str(y) for y in sorted(years_in(text))]


def _countable(text: str) -> str:
    """`text` with every number that counts nothing blanked out: years, money, percentages, durations,
    references and dates."""
    rest = _quantities(text)
    for pattern in (_MONEY, _PERCENT, _DURATION):
        rest = pattern.sub(" ", rest)
    return re.sub(r"(?<![\d/,.])(?:19[5-9]|20[0-9])\d(?![\d/]|[.,]\d)", " ", rest)


def counts_in(text: str) -> list[str]:
    """Quantities that count something: numbers other than years, money, percentages, durations, references
    and dates; and number words ("drie lidstaten", "ruim twee miljoen")."""
    rest = _countable(text)
    found = [m.group(0) for m in re.finditer(rf"(?<![\w.,])(?:{_NUM})(?:\s*{_SCALE}\b)?", rest)]
    found = [f for f in found if f.strip() not in ("0",)]
    found += [m.group(0) for m in _COUNT_WORD.finditer(rest)]
    return found


def people_in(text: str) -> list[str]:
    """Names of people: after a title ("voorzitter Von der Leyen"), or two capitalised words not at the start
    of the sentence that are no institution, place or month."""
    found = [m.group(1).strip() for m in _NAME_TITLE.finditer(text) if fold(m.group(1).split()[0]) not in _NOT_PERSON]
    body = text[re.match(r"\W*\w+", text).end() :] if re.match(r"\W*\w+", text) else text  # type: ignore[union-attr]
    place_forms = {f for p in places_in(text) for f in p.forms}
    for m in _PERSON.finditer(body):
        words = [w for w in re.split(r"\s+", m.group(0)) if w[:1].isupper()]
        if len(words) >= 2 and not any(fold(w) in _NOT_PERSON or fold(w) in place_forms for w in words):
            found.append(m.group(0))
    return found


def organisations_in(text: str) -> list[str]:
    return [m.group(0).strip() for m in _ORGANISATION.finditer(text) if m.group(0).strip() not in _ORG_NOT]


@functools.lru_cache(maxsize=16384)
def _values(text: str, expects: AnswerType, asked: str) -> tuple[str, ...]:
    return tuple(values_in(text, expects, asked))


def values_in(text: str, expects: AnswerType, asked: str = "") -> list[str]:
    """The values of type `expects` that `text` states; for names (person, organisation, place), those the
    question (`asked`) does not name itself."""
    if expects == "money":
        return money_in(text)
    if expects == "percentage":
        return percentages_in(text)
    if expects == "count":
        return counts_in(text)
    if expects == "duration":
        return durations_in(text)
    if expects == "date":
        return dates_in(text)
    named = fold(asked)
    if expects == "person":
        return [p for p in people_in(text) if fold(p) not in named]
    if expects == "organisation":
        return [o for o in organisations_in(text) if fold(o) not in named]
    if expects == "place":
        asked_places = {p.nl for p in places_in(asked)}
        return [p.nl for p in named_places_in(text) if p.nl not in asked_places]
    if expects == "list":
        return [m.group(0) for m in _ENUMERATION.finditer(text)]
    return []


# ------------------------------------------------------------------------------------------ evidence


def evidence(sources: Sequence[Source]) -> list[Evidence]:
    """Every sentence of every source, with its context: the sentence before it and the section's title (for
    a footnote: the sentence of the section that cites it)."""
    out: list[Evidence] = []
    for source in sources:
        sentences = passage_sentences(source.text)
        frame = f"{source.section} {source.context}".strip()
        previous = ""
        for sentence in sentences:
            out.append(Evidence(source, sentence, f"{previous} {frame}".strip()))
            previous = sentence
    return out


@functools.lru_cache(maxsize=32768)  # the corpus's sentences recur from question to question
def _terms_of(text: str) -> frozenset[str]:
    return frozenset(terms(text))


def _match(term: str, found: frozenset[str], w: CoverageWeights) -> float:
    return _match_share(term, found, w.head_share)


@functools.lru_cache(maxsize=65536)
def _match_share(term: str, found: frozenset[str], head_share: float) -> float:
    """How well `found` holds `term`: 1 when it holds it, or a compound of it (`opvangcapaciteit` holds
    `capaciteit`); `head_share` when it holds only the compound's head (`projecten` for `proefprojecten`);
    short terms must match whole."""
    if term in found:
        return 1.0
    if len(term) < 4:
        return 0.0
    if any(t.startswith(term) for t in found) or (len(term) >= 5 and any(term in t for t in found)):
        return 1.0
    if any(len(t) >= 4 and term.endswith(t) for t in found):
        return head_share
    return 0.0


@functools.lru_cache(maxsize=16384)
def _compound_in(term: str, found: frozenset[str]) -> bool:
    """A compound named by its parts: `terugkeerverorden` in a passage with `terugkeer` and `verorden`."""
    for cut in range(4, len(term) - 3):
        head, modifier = term[cut:], term[:cut]
        if any(t.endswith(head) for t in found if len(t) >= 5) and any(t.startswith(modifier) for t in found):
            return True
    return False


def _meets(alternatives: Iterable[str], found: frozenset[str], w: CoverageWeights) -> bool:
    return any(_match(t, found, w) == 1.0 for t in alternatives)


def _tie(ask: Ask, sentence: frozenset[str], context: frozenset[str], w: CoverageWeights) -> float:
    """The idf-weighted share of the ask's focus that the sentence (or, for less, its context) holds."""
    total = held = 0.0
    for concept in ask.focus:
        weight = max(concept.weight, 0.3) * (w.verb_share if concept.verb else 1.0)
        total += weight
        here = max((_match(t, sentence, w) for t in concept.terms), default=0.0)
        around = max((_match(t, context, w) for t in concept.terms), default=0.0)
        held += weight * max(here, around * w.context_share)
    return held / total if total else 1.0


TimeFit = Literal["met", "mismatch", "silent"]


# A year a sentence compares its figure with ("net als in 2021", "in vergelijking met dezelfde periode in 2021",
# "tegen 38,5 % in 2020", "compared with 2021", "(2019: 42 000)"): not the year the sentence is about.
_COMPARED_YEAR = re.compile(
    r"\b(?:net als|evenals|zoals|as|like|than|dan)\s+(?:in|voor|for)\s+(?:\w+\s+){0,2}?(?:19|20)\d\d\b"
    r"|\b(?:in vergelijking met|vergeleken met|ten opzichte van|tegenover|compared (?:with|to)|as against|"
    r"versus|vs\.?)\s+(?:[\w%.,]+\s+){0,5}?(?:19|20)\d\d\b"
    r"|\btegen\s+(?:\w+\s+)?[\d.,]+(?:\s*%|\s+\w+)?\s+in\s+(?:19|20)\d\d\b"
    r"|\((?:19|20)\d\d\s*:\s*[^)]*\)"
    r"|\b(?:ter vergelijking|by comparison|for comparison|in comparison)\b[^.;]*",
    re.I,
)


def _time_fit(constraint: Constraint, text: str) -> TimeFit:
    if constraint.so_far and constraint.start is None:
        return "met"
    years = years_in(text)
    if not years:
        return "silent"
    low = constraint.start if constraint.start is not None else -10_000
    high = constraint.end if constraint.end is not None else 10_000
    within = {y for y in years if low <= y <= high}
    if not within and not years_in(_COMPARED_YEAR.sub(" ", text)):
        return "silent"  # it names only the years it compares with: its own is its context's or its document's
    if not within:
        return "mismatch"
    if constraint.half:
        other = "tweede|second" if constraint.half == 1 else "eerste|first"
        if re.search(rf"\b(?:{other})\s+(?:helft|half)\b", fold(text)) and not re.search(
            rf"\b(?:{'eerste|first' if constraint.half == 1 else 'tweede|second'})\s+(?:helft|half)\b", fold(text)
        ):
            return "mismatch"
    return "met"


def _period_fit(c: Constraint, item: Evidence) -> TimeFit:
    fit = _time_fit(c, item.text)
    if fit == "silent":
        fit = _time_fit(c, item.context)
    dated = item.source.year is not None and c.start is not None and c.start <= item.source.year <= (c.end or 10_000)
    if fit == "silent" and dated:
        fit = "met"
    elif fit == "mismatch" and dated and _NOW.search(item.text):
        fit = "met"  # "verblijven nu … (2019: 42 000)": the document's own year, compared with another
    return "met" if fit == "silent" and c.so_far else fit


_NOW = re.compile(
    r"\b(?:nu|momenteel|thans|inmiddels|tot dusver\w*|tot nu toe|dit jaar|currently|now|so far|this year)\b", re.I
)


def _frame(source: Source) -> str:
    """What frames a passage: its document's titles, its section, and for a footnote the sentence citing it."""
    heading = source.section_path or source.section
    return f"{source.doc_title} {source.doc_short_title} {heading} {source.context}"


@dataclass(frozen=True)
class _Reading:
    """How one sentence fares against one thing asked."""

    evidence: Evidence
    values: tuple[str, ...]
    tie: float
    unmet: tuple[Constraint, ...]  # constraints the sentence (and its context) do not meet
    time_mismatch: tuple[Constraint, ...]  # ... of which periods it contradicts (another year)


@dataclass(frozen=True)
class _Item:
    """A sentence with its words read once: the index terms of the sentence, its context and its passage."""

    evidence: Evidence
    sentence: frozenset[str]
    context: frozenset[str]
    passage: frozenset[str]

    @property
    def places(self) -> frozenset[str]:
        """The places the sentence and its context name (looked up only for a question that names one)."""
        return _places(f"{self.evidence.text} {self.evidence.context}")


@functools.lru_cache(maxsize=4096)
def _places(text: str) -> frozenset[str]:
    return frozenset(p.nl for p in places_in(text))


def _items(sources: Sequence[Source]) -> list[_Item]:
    found = evidence(sources)
    sentences = {e.text: _terms_of(e.text) for e in found}
    # A passage's terms are its sentences' and its titles': each sentence is read once.
    passages = {
        s.n: frozenset().union(_terms_of(_frame(s)), *(sentences[e.text] for e in found if e.source.n == s.n))
        for s in sources
    }
    return [_Item(e, sentences[e.text], _terms_of(e.context), passages[e.source.n]) for e in found]


def _read(ask: Ask, it: _Item, asked: str, w: CoverageWeights, near: bool = False) -> _Reading:
    item = it.evidence
    sentence, context, passage = it.sentence, it.context, it.passage
    tie = _tie(ask, sentence, context, w) + (w.similar_bonus if near else 0.0)
    unmet: list[Constraint] = []
    mismatch: list[Constraint] = []
    places = [c for c in ask.constraints if c.kind == "place"]
    # One place asked must be named; of several ("uit Libië naar Niger en Rwanda") one is enough, but not for
    # a place of what the answer is about ("Waarom is er met Kosovo geen …, terwijl … de Westelijke Balkan").
    if places and not any(c.text in it.places for c in places):
        unmet += places
    elif places:
        unmet += [c for c in places if _in_subject(c, ask) and c.text not in it.places]
    names: list[tuple[Constraint, bool]] = []
    for c in ask.constraints:
        # A named thing must be in the passage (most of its words, for a name of several); the focus, which
        # holds its words too, ties it to the sentence.
        if c.kind == "entity":
            held = sum(_meets(g, passage, w) or any(_compound_in(t, passage) for t in g) for g in c.groups)
            names.append((c, held * 2 >= len(c.groups)))
    # A follow-up's names from the earlier question ("… — Sinds wanneer werkt het Asielagentschap als opvolger
    # van EASO?"): one of them is what "het" refers to.
    inherited_met = any(met for c, met in names if c.inherited)
    unmet += [c for c, met in names if not met and not (c.inherited and inherited_met)]
    # A period asked must be the sentence's (or its context's, or its document's); of several ("in 2022,
    # vergeleken met 2021 en 2019") one is enough.
    times = [c for c in ask.constraints if c.kind in ("year", "period") and not (c.so_far and c.start is None)]
    fits = [_period_fit(c, item) for c in times]
    if times and "met" not in fits:
        unmet += [c for c in times if not c.so_far]
        mismatch += [c for c, fit in zip(times, fits, strict=True) if fit == "mismatch"]
    said = _item_of(ask, item.text, w)
    values = tuple(v for kind in (ask.expects, *ask.also) for v in _values(said, kind, asked))
    if ask.expects == "count" and values:
        values = tuple(v for v in values if _counts_the_focus(v, item.text, ask, w))
    if ask.expects == "money" and values and not _EXTRA.search(fold(asked)):
        values = tuple(v for v in values if not _is_extra(v, item.text))
    return _Reading(item, values, tie, tuple(unmet), tuple(mismatch))


# An amount said to come on top of another ("485 miljoen EUR extra", "een aanvullende 50 miljoen", "additional
# funding of €…"): an increment, not the amount a question asks unless it asks for one.
_EXTRA = re.compile(r"\b(?:extra|aanvullend\w*|bijkomend\w*|additional|additionele|top-up)\b")


def _is_extra(value: str, text: str) -> bool:
    at = text.find(value)
    if at < 0:
        return False
    near = fold(text[max(0, at - 25) : at] + " " + text[at + len(value) : at + len(value) + 12])
    return bool(_EXTRA.search(near))


# The items of a sentence that lists things ("a) migratieprofielen, …, b) migratiemissies, …; c) …").
_ITEM_MARK = re.compile(r"(?:^|\s|;)\(?[a-h]\)\s|\s*;\s*")


def _item_of(ask: Ask, text: str, w: CoverageWeights) -> str:
    """The part of a sentence that lists items about which the question asks: the items holding its most
    specific focus word (a value in another item is about another thing); else the whole sentence."""
    items = [p for p in _ITEM_MARK.split(text) if p and p.strip()]
    nouns = sorted((c for c in ask.focus if not c.verb), key=lambda c: -c.weight)
    if len(items) < 2 or not nouns:
        return text
    key = nouns[0]
    held = [p for p in items if any(_match(t, _terms_of(p), w) == 1.0 for t in key.terms)]
    return " ; ".join(held) if held and len(held) < len(items) else text


def _in_subject(place: Constraint, ask: Ask) -> bool:
    """Whether a place constraint is named in what the answer is about (the ask's subject)."""
    subject = quick_fold(ask.subject)
    return any(re.search(rf"(?<![\w-]){re.escape(f)}(?![\w])", subject) for f in place.terms)


def _counts_the_focus(value: str, text: str, ask: Ask, w: CoverageWeights) -> bool:
    """Whether a number counts what the question counts: the words after it ("10 000 plaatsen", "38 000 van de
    meest kwetsbare mensen") name a focus word, or name nothing (a number at a clause's end, "(2021: 8 300)").
    "How many asylum seekers were relocated" is not answered by "10 000 places for asylum seekers"."""
    at = text.find(value)
    counted = [c for c in _subject_nouns(ask) if not c.guessed]
    if at < 0 or not counted:
        return True  # the question's counted noun has no Dutch terms (an English word the glossary lacks)
    after = re.findall(r"[^\W\d_][\w-]*|[^\w\s]", text[at + len(value) : at + len(value) + 80])[:_COUNTED_WORDS]
    if not after or not after[0][:1].isalpha() or fold(after[0]) in _AFTER_TOTAL:
        return True  # "(2021: 8 300)", "… zal 46 bedragen": the number closes a clause that named the thing
    found = _terms_of(" ".join(after))
    if not found:
        return True
    return any(_match(t, found, w) > 0 for c in ask.focus for t in c.terms)


def _subject_nouns(ask: Ask) -> list[Concept]:
    """The focus nouns made of the words of what the question asks the value of, also of several words
    ("asylum seekers")."""
    subject = set(fold(ask.subject).split())
    return [c for c in ask.focus if not c.verb and set(fold(c.text).split()) <= subject]


def _names_subject(ask: Ask, found: frozenset[str]) -> bool:
    """Whether `found` holds a word of what the question asks the value of (its subject's focus words)."""
    nouns = _subject_nouns(ask)
    return not nouns or any(_names_noun(t, found) for c in nouns for t in c.terms)


def _names_noun(term: str, found: frozenset[str]) -> bool:
    """Whether `found` holds the noun `term` itself, inflected, or as a compound's head ("arbeidsberoep"), not
    only as a compound's first part ("beroepsbevolking" names no occupation)."""
    return any(
        t == term or (t.startswith(term) and len(t) - len(term) <= _INFLECTION) or (len(term) >= 4 and t.endswith(term))
        for t in found
    )


# letters an index term may add to a noun ("beroep" → "beroepen" stem alike); dev split, /tmp eval metrics.json:
# 1, 2, 3, 4 and 6 give the same figures (unanswerable caught 0.976, partial on answerable 0.080)
_INFLECTION = 3


def _counts_subject(ask: Ask, text: str, w: CoverageWeights) -> bool:
    """Whether `text` gives a number of the things a list question asks to name ("42 beroepen", "zeventien
    landen"): a count right before (an adjective or two between) a word of the question's subject."""
    nouns = _subject_nouns(ask)
    if not nouns:
        return False
    rest = _countable(text)
    for m in re.finditer(rf"(?<![\w.,])(?:{_NUM})(?![.,]?\d)|{_COUNT_WORD.pattern}", rest, re.I):
        start = m.end() - 1 if m.group(0)[-1:].isalpha() else m.end()  # a number word's match ends on a letter
        after = re.findall(r"[^\W\d_][\w-]*", rest[start : start + 60])[:_COUNT_NOUN_WORDS]
        found = _terms_of(" ".join(after))
        if found and any(_match(t, found, w) == 1.0 for c in nouns for t in c.terms):
            return True
    return False


# a count's noun within this many words ("42 beroepen", "zeventien nieuwe derde landen"); dev split metrics.json:
# 1, 2, 3 and 5 give the same figures (unanswerable caught 0.976, partial on answerable 0.080)
_COUNT_NOUN_WORDS = 3


# Words after a number that close the clause naming what it counts ("het aantal toezichthouders zal 46 bedragen").
_AFTER_TOTAL = frozenset(
    _split("bedragen bedraagt bedroeg bedroegen zijn waren is was worden werden werd zal zullen en and in op tot")
)
_COUNTED_WORDS = 6  # the words after a number that name what it counts (dev split: 4-8 gave the same table)
_TYPED: frozenset[AnswerType] = frozenset(
    {"money", "count", "percentage", "date", "duration", "person", "organisation", "place"}
)


def check(
    analysis: QuestionAnalysis,
    sources: Sequence[Source],
    similar: Sequence[str] = (),
    weights: CoverageWeights | None = None,
) -> Verdict:
    """The verdict of the sources on every thing `analysis` asks. `similar`: the sentences nearest to the
    question by meaning, nearest first (the extractive mode's re-ranked head): they need less of the focus in
    words, since they may say it in others (an English question, a paraphrase)."""
    w = weights or CoverageWeights()
    items = _items(sources)
    near = frozenset(similar[: w.similar_sentences])
    findings = tuple(_finding(ask, items, analysis, w, near) for ask in analysis.asks)
    answered = [f for f in findings if f.status == "answered"]
    missing = tuple(dict.fromkeys(f.missing for f in findings if f.status != "answered" and f.missing))
    if len(answered) == len(findings):
        return Verdict("answered", (), findings)
    if answered or any(f.status == "partial" for f in findings):
        return Verdict("partial", missing, findings)
    return Verdict("not_covered", missing, findings)


def _finding(
    ask: Ask, items: Sequence[_Item], analysis: QuestionAnalysis, w: CoverageWeights, near: frozenset[str]
) -> Finding:
    lang = analysis.language
    readings = [_read(ask, it, analysis.question, w, it.evidence.text in near) for it in items]
    typed = ask.expects in _TYPED
    need = w.answer_tie if typed else w.open_tie

    day = ask.expects == "date" and bool(_ASKS_DAY.search(fold(ask.text)))

    def answers(r: _Reading) -> bool:
        if r.unmet or r.tie < need:
            return False
        if day:  # "op welke datum", "on what date": a day, not only a year
            return bool(_DATE_DAY.search(r.evidence.text))
        if typed or ask.expects == "list":
            if ask.expects == "list" and not r.values and _counts_subject(ask, r.evidence.text, w):
                return False  # "Which occupations …?" — "42 beroepen geïdentificeerd": how many, not which
            # a list said without commas ("de terugkeer- en de grensprocedure") names what it lists
            return bool(r.values) or (
                ask.expects == "list" and r.tie >= w.open_tie and _names_subject(ask, _terms_of(r.evidence.text))
            )
        if ask.expects == "reason" and _WHY.search(fold(ask.text)):
            return _gives_reason(ask, r.evidence, w)
        return True

    # What the answer is a value of, when the documents never say it ("Which contractor …", "How many
    # squads …" over documents without the word): no sentence names one.
    unsaid = typed and any(c.absent and not c.verb and fold(c.text) in fold(ask.subject) for c in ask.focus)
    good = [r for r in readings if answers(r)] if not unsaid else []
    if good:
        best = max(good, key=lambda r: (r.tie, len(r.values), -r.evidence.source.n))
        return Finding(ask, "answered", best.evidence)
    if not readings:
        return Finding(ask, "absent", None, describe(ask, (), lang))
    # Why not: a named thing no source mentions; the year or place asked missing where the value is given;
    # or the topic discussed without a value of the type asked.
    entities = [c for c in ask.constraints if c.kind == "entity"]
    absent = [c for c in entities if all(c in r.unmet for r in readings)]
    nearest = max(readings, key=lambda r: (r.tie - 0.2 * len(r.unmet), bool(r.values)))
    if absent:
        status_: Status = "partial" if nearest.tie >= w.related_tie else "absent"
        return Finding(ask, status_, nearest.evidence, describe(ask, absent[:1], lang))
    valued = [r for r in readings if r.values and r.tie >= need]
    if valued:
        closest = min(valued, key=lambda r: (len(r.unmet), -r.tie))
        status: Status = "partial" if closest.tie >= w.related_tie else "absent"
        return Finding(ask, status, closest.evidence, describe(ask, closest.unmet, lang))
    status = "partial" if nearest.tie >= w.related_tie else "absent"
    return Finding(ask, status, nearest.evidence, describe(ask, (), lang))


def _gives_reason(ask: Ask, item: Evidence, w: CoverageWeights) -> bool:
    """Whether the sentence states a cause or aim: a marker in the sentence itself ("omdat", "in order to")
    whose clause is not the question's own premise ("Omdat X tot dusver te weinig is benut, moeten …" gives
    no reason for X), or an opening that makes the sentence before it the cause ("Daarom …")."""
    if _CAUSE_BEFORE.search(item.text):
        return True
    for text in (*_clauses_of(ask, item.text), item.context):
        for m in _CAUSE.finditer(text):
            if _tie(ask, _terms_of(_clause(text[m.end() :])), frozenset(), w) < w.premise_share:
                return True
        for m in _EFFECT.finditer(text):  # "X heeft geleid tot <the question's premise>": X is the cause
            if _tie(ask, _terms_of(_clause(text[: m.start()], backwards=True)), frozenset(), w) < w.premise_share:
                return True
    return False


# Where a sentence joins clauses about different things ("…; Denemarken is niet gehouden …, terwijl Hongarije
# heeft meegedeeld …"): a cause in one clause is no reason for what another says.
_CLAUSE_BREAK = re.compile(r"\s*;\s*|,?\s+(?=(?:terwijl|whereas|while|maar|but|doch|zij het)\b)", re.I)


def _clauses_of(ask: Ask, text: str) -> list[str]:
    """The clauses of `text` about the place a question asks about, when it names one in some clause and not
    in others; else the whole sentence."""
    places = [c for c in ask.constraints if c.kind == "place"]
    if not places:
        return [text]
    clauses = _CLAUSE_BREAK.split(text)
    about = [cl for cl in clauses if any(c.text in _places(cl) for c in places)]
    return about if about and len(about) < len(clauses) else [text]


def _clause(text: str, backwards: bool = False) -> str:
    """The clause `text` starts (or, `backwards`, ends) with: up to a comma, semicolon or colon that comes after
    its first four words (a comma right after a noun phrase does not end it)."""
    words = text.split()
    if backwards:
        words.reverse()
    out: list[str] = []
    for word in words:
        if len(out) >= 4 and re.search(r"[,;:]", word if not backwards else word[-1:]):
            out.append(word.rstrip(",;:") if not backwards else "")
            break
        out.append(word)
    if backwards:
        out.reverse()
    return " ".join(out)


# ------------------------------------------------------------------------------------------ wording

_NOUNS: dict[AnswerType, tuple[str, str]] = {
    "money": ("bedrag", "amount"),
    "count": ("aantal", "number"),
    "percentage": ("percentage", "percentage"),
    "date": ("datum", "date"),
    "duration": ("termijn", "period"),
    "person": ("naam", "name"),
    "organisation": ("organisatie", "organisation"),
    "place": ("plaats", "place"),
    "list": ("opsomming", "list"),
    "reason": ("reden", "reason"),
    "other": ("antwoord", "answer"),
}
_FIGURE = ("cijfer", "figure")


def describe(ask: Ask, unmet: Sequence[Constraint], language: Language) -> str:
    """What is missing, as a short phrase in `language`: "bedrag voor talentpartnerschappen", "cijfer voor
    Nederland in 2023", "information on EUNAVFOR MED IRINI"; `unmet`: the constraints the nearest sentence
    does not meet (none: the value itself is missing)."""
    en = language == "en"
    noun = _NOUNS[ask.expects][1 if en else 0]
    if ask.expects == "place" and ask.plural:
        noun = "names of the places" if en else "namen van de plaatsen"
    elif ask.expects == "person":
        noun = "name of the person" if en else "naam van de persoon"
    joiner = "for" if en else "voor"
    entity = next((c for c in unmet if c.kind == "entity"), None)
    if entity is not None:
        return f"{'information on' if en else 'informatie over'} {entity.text}"
    if unmet:
        figure = _FIGURE[1 if en else 0] if ask.expects in ("money", "count", "percentage") else noun
        where = [c.text for c in unmet if c.kind == "place"]
        when = [c.text for c in unmet if c.kind in ("year", "period")]
        joint = (" in " if when and when[0][:1].isdigit() else " ") if where and when else ""
        said = " / ".join(where) + joint + " / ".join(when)
        return f"{figure} {joiner} {said}"
    subject = ask.subject or " ".join(c.text for c in ask.focus if not c.verb)[:80]
    if ask.expects in ("person", "reason", "other", "list") or not subject:
        return noun if not subject or ask.expects == "other" else f"{noun} ({subject})"
    return f"{noun} {joiner} {subject}"


def statement(verdict: Verdict, language: Language) -> str:
    """The sentence that says what the documents lack: "De documenten noemen geen bedrag voor …"."""
    if not verdict.missing:
        return ""
    listed = "; ".join(verdict.missing)
    if language == "en":
        return f"The documents give no {listed}."
    return f"De documenten noemen geen {listed}."


# ------------------------------------------------------------------------------------------ a model's verdict

Stated = Literal["answered", "partial", "not_covered"]
_STATED = {
    "volledig": "answered",
    "full": "answered",
    "fully": "answered",
    "gedeeltelijk": "partial",
    "deels": "partial",
    "partial": "partial",
    "partly": "partial",
    "niet": "not_covered",
    "none": "not_covered",
    "not": "not_covered",
    "no": "not_covered",
}
_VERDICT_LINE = re.compile(
    r"(?:^|(?<=[.!?\])]))[ \t>*_]*(?:DEKKING|COVERAGE)[*_]*\s*:\s*[*_]*\s*"
    r"(volledig|gedeeltelijk|deels|niet|full|fully|partial|partly|"
    r"none|not|no)\b[*_]*\s*(?:[—–\-:|;,]+\s*(?:ontbreekt|missing)?\s*:?\s*(.*?))?[ \t*_]*$",
    re.IGNORECASE | re.MULTILINE,
)
_EMPTY_MISSING = frozenset({"", "-", "—", "niets", "geen", "nothing", "none", "n/a", "nvt", "n.v.t."})


@dataclass(frozen=True)
class StatedVerdict:
    """The verdict line a model ended its answer with."""

    coverage: Stated
    missing: tuple[str, ...] = ()


def parse_stated(text: str) -> tuple[str, StatedVerdict | None]:
    """The answer without its verdict line(s), and the (last) verdict it stated; None when it stated none."""
    matches = list(_VERDICT_LINE.finditer(text))
    if not matches:
        return text.strip(), None
    last = matches[-1]
    coverage = _STATED[last.group(1).lower()]
    raw = (last.group(2) or "").strip().rstrip(".")
    missing = tuple(
        m.strip() for m in re.split(r"\s*;\s*", raw) if m.strip() and m.strip().lower() not in _EMPTY_MISSING
    )
    shown = _VERDICT_LINE.sub("", text)
    return re.sub(r"\n{3,}", "\n\n", shown).strip(), StatedVerdict(coverage, missing)  # type: ignore[arg-type]


def combine(
    stated: StatedVerdict | None,
    offline: Verdict,
    analysis: QuestionAnalysis,
    answer: str,
    sources: Sequence[Source],
) -> Verdict:
    """The verdict of a generated answer: the model's stated verdict weighed against the offline check. A
    model that claims a value of the expected type that none of the sources it cites holds gets `partial`,
    with the claiming sentences flagged."""
    if stated is not None and stated.coverage == "not_covered":
        return Verdict("not_covered", stated.missing or offline.missing, offline.findings)
    unsupported, supported = _claims(analysis, answer, sources)
    if unsupported:
        missing = offline.missing or tuple(describe(a, (), analysis.language) for a in analysis.asks[:1])
        return Verdict("partial", missing, offline.findings, tuple(unsupported))
    if stated is not None and stated.coverage == "partial":
        return Verdict("partial", stated.missing or offline.missing, offline.findings)
    if offline.coverage == "answered":
        return offline
    # The model says it answered, or says nothing: it may have found what the check missed, when it states a
    # value of the type asked that its sources hold; an open question (what, how, why) is the model's call.
    typed = [a for a in analysis.asks if a.expects in _TYPED]
    if stated is not None and (supported >= len(typed) or not typed):
        return Verdict("answered", (), offline.findings)
    if stated is None and typed and supported >= len(typed):
        return Verdict("answered", (), offline.findings)
    return offline


def _claims(analysis: QuestionAnalysis, answer: str, sources: Sequence[Source]) -> tuple[list[str], int]:
    """(the answer's sentences claiming a value of an expected type that none of their cited sources holds,
    how many asks get a value its sources do hold)."""
    by_n = {s.n: s for s in sources}
    unsupported: list[str] = []
    supported: set[int] = set()
    for a, b in split_sentences(answer):
        sentence = answer[a:b]
        cited = [int(x) for m in MARKER.finditer(sentence) for x in re.split(r"\s*[,;]\s*", m.group(1))]
        pool = " ".join(by_n[n].text + " " + by_n[n].context for n in cited if n in by_n) or " ".join(
            s.text for s in sources
        )
        body = MARKER.sub("", sentence)
        for i, ask in enumerate(analysis.asks):
            if ask.expects not in _TYPED:
                continue
            claimed = values_in(body, ask.expects, analysis.question)
            if not claimed:
                continue
            if all(_held(value, ask.expects, pool) for value in claimed):
                supported.add(i)
            elif sentence.strip() not in unsupported:
                unsupported.append(sentence.strip())
    return unsupported, len(supported)


def _held(value: str, expects: AnswerType, pool: str) -> bool:
    """Whether a claimed value is in the sources: its numbers (any notation), or its name (or the Dutch form
    of an English place name)."""
    if expects in ("money", "count", "percentage", "duration", "date"):
        numbers = numbers_in(value)
        if not numbers:  # a number word ("a third"): the sources must say a value of the type too
            return bool(values_in(pool, expects))
        held = numbers_in(pool)
        return all(n in held for n in numbers)
    if expects == "place":
        return any(p.nl == value for p in places_in(pool))
    return fold(value) in fold(pool)


_LINE_START = ("DEKKING", "COVERAGE")


class VerdictLineFilter:
    """Holds back, while an answer streams, a line that is (or may become) the verdict line, so the reader
    never sees it: `feed` each piece and show what it returns, then `flush` at the end."""

    def __init__(self) -> None:
        self._line = ""  # the text since the last newline, not shown yet

    def feed(self, piece: str) -> str:
        shown = []
        self._line += piece
        while "\n" in self._line:
            line, self._line = self._line.split("\n", 1)
            if not _VERDICT_LINE.search(line):
                shown.append(line + "\n")
        if self._line and not self._may_be_verdict(self._line):
            shown.append(self._line)
            self._line = ""
        return "".join(shown)

    def flush(self) -> str:
        rest, self._line = self._line, ""
        return "" if _VERDICT_LINE.search(rest) else rest

    @staticmethod
    def _may_be_verdict(line: str) -> bool:
        head = line.lstrip(" \t>*_").upper()
        return any(word.startswith(head[: len(word)]) for word in _LINE_START) if head else True


class CoverageTopicCheck:
    """`assistant.compare.TopicCheck` by this check: a document addresses a topic when its passages are not
    `not_covered` for it (the topic read as a question; the closest other document does not matter)."""

    def addressed(self, request: AnswerRequest, ranked: Sequence[ScoredSentence], closest: float) -> bool:
        analysis = analyse(request.question, request.language, request.term_weights)
        near = [s.text for s in sorted((s for s in ranked if s.similarity > 0), key=lambda s: -s.similarity)]
        return check(analysis, request.sources, near).coverage != "not_covered"
