"""English-to-Dutch query expansion, so lexical search over the Dutch documents can serve English questions.

The glossary lives in `glossary_en_nl.tsv` next to this module: one English word or phrase per line, a tab,
then its Dutch equivalents separated by `|`. English is matched case-insensitively after a light
normalisation (plural, -ing and -ed endings, a final "e" and a doubled final consonant are dropped on
both sides), longest phrase first, so "external borders" gives "buitengrenzen" rather than "grens".
"""

from __future__ import annotations

import functools
import importlib.resources
import re

from errors import ConfigError

GLOSSARY_FILE = "glossary_en_nl.tsv"

_TOKEN = re.compile(r"[^\W_]+")
_POSSESSIVE = re.compile(r"['’]s\b")
_YEAR_OR_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@functools.lru_cache(maxsize=1)
def glossary() -> dict[tuple[str, ...], tuple[str, ...]]:
    """The glossary, keyed by the normalised tokens of each English entry; read once."""
    text = importlib.resources.files("assistant").joinpath(GLOSSARY_FILE).read_text(encoding="utf-8")
    return parse_glossary(text)


def parse_glossary(text: str) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Parse glossary TSV text; raise ConfigError naming the line of any malformed or duplicate entry."""
    entries: dict[tuple[str, ...], tuple[str, ...]] = {}
    first_line: dict[tuple[str, ...], int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        where = f"{GLOSSARY_FILE} line {number}"
        if len(fields) != 2:
            raise ConfigError(f"{where}: expected 'english<TAB>dutch|dutch', got {len(fields)} field(s): {line!r}")
        english, dutch = fields[0].strip(), [d.strip() for d in fields[1].split("|")]
        if not english or not all(dutch):
            raise ConfigError(f"{where}: empty English term or Dutch alternative: {line!r}")
        key = _key(english)
        if not key:
            raise ConfigError(f"{where}: English term {english!r} has no words")
        if key in entries:
            raise ConfigError(
                f"{where}: {english!r} duplicates line {first_line[key]} after plural/-ing normalisation; "
                "merge the two entries"
            )
        entries[key] = tuple(dict.fromkeys(dutch))
        first_line[key] = number
    return entries


def expand_english(query: str, *, keep_numbers: bool = False) -> list[str]:
    """The Dutch terms for the English words and phrases in `query`, in query order, without duplicates.

    Words the glossary does not know are dropped; with `keep_numbers`, numbers such as years are kept
    as they are, since they read the same in both languages.
    """
    entries = glossary()
    longest = max(len(key) for key in entries)
    words = _words(query)
    keys = [_normalise(w) for w in words]
    found: dict[str, None] = {}
    i = 0
    while i < len(keys):
        for n in range(min(longest, len(keys) - i), 0, -1):
            dutch = entries.get(tuple(keys[i : i + n]))
            if dutch:
                found.update(dict.fromkeys(dutch))
                i += n
                break
        else:
            if keep_numbers and _YEAR_OR_NUMBER.fullmatch(words[i]):
                found[words[i]] = None
            i += 1
    return list(found)


def translate_terms(query: str, *, keep_numbers: bool = False) -> str:
    """The Dutch expansion of `query` as one space-separated string, for BM25."""
    return " ".join(expand_english(query, keep_numbers=keep_numbers))


def lookup(phrase: str) -> tuple[str, ...]:
    """The Dutch equivalents of `phrase` when the whole phrase is one glossary entry (after the same plural,
    -ing and -ed normalisation as `expand_english`), else (): "asylum seekers" gives ("asielzoekers",)."""
    return glossary().get(_key(phrase), ())


def _key(phrase: str) -> tuple[str, ...]:
    return tuple(_normalise(w) for w in _words(phrase))


def _words(text: str) -> list[str]:
    return _TOKEN.findall(_POSSESSIVE.sub("", text.lower()))


def _normalise(word: str) -> str:
    """A crude English stem, applied to glossary keys and query words alike: only consistency matters."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "ches", "shes", "xes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ied") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]
    return word
