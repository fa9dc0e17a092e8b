"""Offline Dutch vs English detection of a question, from function words and spelling cues.

No model is involved: a question is scored against two small profiles, function words (articles,
pronouns, auxiliaries, prepositions, question words) and word-shape cues ("ij", "sch", "-atie" vs "th",
"wh", "-tion"), and the domain glossary's two sides (an English term such as "return" or "resettlement",
a Dutch one such as "hervestiging"), which decide a bare topic of a comparison ("climate change"). Function
words decide almost every question, spelling cues and glossary terms break the rest. Words in
quotes and capitalised words inside a sentence are usually terms or names ("What is the 'blauwe kaart'?",
"Wat is de EU Blue Card?"), so they count for little. Without any evidence the caller's default wins.
"""

from __future__ import annotations

import functools
import re

from assistant.glossary import glossary, lookup
from assistant.types import Language

# Weights: 3 = only ever seen in this language in questions, 2 = strong, 1 = common in the other
# language too as a rarer word. Words spelled the same in both ("is", "in", "over", "was", "we") are absent.


def _weighted(words: str, weight: float) -> dict[str, float]:
    return dict.fromkeys(words.split(), weight)


# Weights: 3 = only ever seen in this language in questions, 2 = strong, 1 = common in the other
# language too as a rarer word. Words spelled the same in both ("is", "in", "over", "was", "we") are absent.
_DUTCH_WORDS: dict[str, float] = {
    **_weighted(
        """de het een wat hoe welke welk waarom wanneer hoeveel wie waar waarin waarvoor waarover
        niet geen ook maar en dat deze dit zijn wordt worden werd werden heeft hebben hadden
        kan kun kunt kunnen moet moeten mag mogen zal zullen zou zouden wil willen
        van voor met door op naar bij uit tot tegen tussen zonder binnen tijdens volgens sinds onder
        er daar hier nog al reeds alleen iets niets meer meest veel weinig
        je jij u uw jouw ik mij mijn wij ons onze ze zij hij hun hen haar
        zegt zeggen staat doet gaat komt krijgt krijgen geldt gelden vindt betekent bedoel bedoelt
        geef noem leg vat vertel bedankt dank graag alsjeblieft nee ja wel zo""",
        3.0,
    ),
    **_weighted(
        """te aan om als dan toen nu eens elke ieder alle andere zelfde eerste
        nieuwe nieuw jaar jaren landen mensen kinderen vrouwen lidstaten verschil""",
        2.0,
    ),
    **_weighted("die den des ten ter", 1.0),
}

_ENGLISH_WORDS: dict[str, float] = {
    **_weighted(
        """the a an what how which why when who whom whose where there their they them
        does did do doesn't don't didn't isn't aren't wasn't weren't can't won't what's
        are were been being has have having will would could should must shall
        and or not no yes to for with from by on at into about between against without within
        during according since under this these those that it its our us your my i you he she
        also only still yet already again any anything else some many much more most
        says say said mean means tell explain give list summarise summarize thank thanks please
        than then here just very can now so""",
        3.0,
    ),
    **_weighted(
        """as be may new year years countries people children women member states other
        same first each every all difference""",
        2.0,
    ),
    "of": 1.5,  # also Dutch ("or"), but far more frequent in English
}

# Spelling cues inside a word that is in neither function-word list: (pattern, weight).
_DUTCH_CUES = [
    (re.compile(p), w)
    for p, w in [
        (r"ij", 1.0),
        (r"uw", 0.8),
        (r"aa", 0.8),
        (r"uu", 0.8),
        (r"oe", 0.6),
        (r"sch", 0.6),
        (r"cht", 0.6),
        (r"kw", 0.6),
        (r"^v[lr]", 0.8),
        (r"^z", 0.4),
        (r"ee", 0.3),
        (r"ui", 0.3),
        (r"(?:dt|gt)$", 0.8),
        (r"(?:atie|aties|itie|ities|iteit|heid|heden|lijk|lijke|isch|ische|ief|ieve|iek|ingen|tje)$", 1.0),
        (r"(?:eren|elen|ende|ogen)$", 0.5),
        (r"[^aeiou]en$", 0.3),
    ]
]
_ENGLISH_CUES = [
    (re.compile(p), w)
    for p, w in [
        (r"th", 0.8),
        (r"^wh", 1.0),
        (r"sh", 0.6),
        (r"gh", 0.8),
        (r"ck", 0.5),
        (r"y", 0.6),
        (r"ea", 0.4),
        (r"ow", 0.5),
        (r"(?:tion|tions|sion|sions|ness|ous|ful|ive|ives|ity|ities|ance|ence|ances|ences)$", 1.0),
        (r"(?:ble|ple|ly|ic|ics|ical)$", 0.6),
        (r"[^a]al$", 0.4),
        (r"[^e]ed$", 0.4),
        (r"ing$", 0.2),
    ]
]

_QUOTED = re.compile(r"""(?<!\w)['‘"“„«]([^'‘’"“”„«»]+)['’"”»](?!\w)""")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_SENTENCE_PUNCT = re.compile(r"[.!?:;]")

# Weight of words that are probably terms rather than the language of the question.
_QUOTED_WEIGHT = 0.2
_NAME_WEIGHT = 0.3
# Spelling cues are weaker evidence than a clear function word: one word's cues count at most this much.
_MAX_CUE_PER_WORD = 1.2
# A word that is a term on one side of the glossary only: as strong as one word's spelling cues, so a bare
# topic is decided by it and a question by its function words (gold set: 343 of 343 questions detected
# right with and without it; topics "return", "blue card", "climate change" were Dutch without it).
_GLOSSARY_WEIGHT = 1.2

_NAMES: dict[Language, dict[Language, str]] = {
    "nl": {"nl": "Nederlands", "en": "Engels"},
    "en": {"nl": "Dutch", "en": "English"},
}


def detect_language(text: str, default: Language = "nl") -> Language:
    """The language of `text`: "nl" or "en"; `default` when the text gives no evidence either way."""
    nl, en = _scores(text)
    if nl > en:
        return "nl"
    if en > nl:
        return "en"
    return default


def language_name(lang: Language, in_lang: Language) -> str:
    """The name of `lang` written in `in_lang`: language_name("nl", "en") == "Dutch"."""
    return _NAMES[in_lang][lang]


def _scores(text: str) -> tuple[float, float]:
    nl = en = 0.0
    for word, weight in _weighted_words(text):
        lower = word.lower()
        nl_word = _DUTCH_WORDS.get(lower, 0.0)
        en_word = _ENGLISH_WORDS.get(lower, 0.0)
        if nl_word or en_word:
            nl += weight * nl_word
            en += weight * en_word
            continue
        bare = lower.replace("'", "")
        english_term, dutch_term = _glossary_sides(bare)
        if english_term != dutch_term:
            nl += weight * _GLOSSARY_WEIGHT * dutch_term
            en += weight * _GLOSSARY_WEIGHT * english_term
            continue
        nl += weight * min(_MAX_CUE_PER_WORD, sum(w for p, w in _DUTCH_CUES if p.search(bare)))
        en += weight * min(_MAX_CUE_PER_WORD, sum(w for p, w in _ENGLISH_CUES if p.search(bare)))
    return nl, en


def _glossary_sides(word: str) -> tuple[bool, bool]:
    """Whether `word` is an English glossary term (an entry of its own or a word of one) and whether it is
    a word of a Dutch equivalent; a word on both sides ("pact", "Frontex") is evidence for neither."""
    if len(word) <= 3:  # "EU", "VN", "ACP": abbreviations read the same in both languages
        return False, False
    english, dutch = _glossary_words()
    return bool(lookup(word)) or word in english, word in dutch


@functools.lru_cache(maxsize=1)
def _glossary_words() -> tuple[frozenset[str], frozenset[str]]:
    entries = glossary()
    english = frozenset(w for key in entries for w in key if len(w) > 3)  # as the glossary stems them
    dutch = frozenset(w for values in entries.values() for v in values for w in v.lower().split() if len(w) > 3)
    return english, dutch


def _weighted_words(text: str) -> list[tuple[str, float]]:
    """The words of `text` with their weight: 1, less for quoted terms and names inside a sentence."""
    text = text.replace("’", "'").replace("‘", "'")
    words: list[tuple[str, float]] = []
    pos = 0
    for quoted in _QUOTED.finditer(text):
        words += _plain_words(text, pos, quoted.start())
        words += [(m.group(), _QUOTED_WEIGHT) for m in _WORD.finditer(quoted.group(1))]
        pos = quoted.end()
    words += _plain_words(text, pos, len(text))
    return words


def _plain_words(text: str, start: int, end: int) -> list[tuple[str, float]]:
    words: list[tuple[str, float]] = []
    previous_end: int | None = None
    for m in _WORD.finditer(text, start, end):
        word = m.group()
        if previous_end is None:
            before = text[: m.start()].rstrip()
            at_sentence_start = not before or before[-1] in ".!?:;"
        else:
            at_sentence_start = bool(_SENTENCE_PUNCT.search(text[previous_end : m.start()]))
        previous_end = m.end()
        is_name = word[0].isupper() and not at_sentence_start and word != "I"
        if is_name and word.isupper() and len(word) > 1 and _known_function_word(word):
            is_name = False  # a shouted "WAT ZEGT HET", not an acronym such as EU or EUAA
        words.append((word, _NAME_WEIGHT if is_name else 1.0))
    return words


def _known_function_word(word: str) -> bool:
    lower = word.lower()
    return lower in _DUTCH_WORDS or lower in _ENGLISH_WORDS
