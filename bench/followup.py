"""Follow-up detection benchmark: accuracy, precision and recall of `is_followup` on conversation pairs.

Run with `.venv/bin/python bench/followup.py [--pairs FILE] [--gold FILE] [--errors dev|test|gold-dev|gold-test]`.
Prints figures; asserts nothing. Each pair in eval/conversations/followup_pairs.jsonl is a history and a
question labelled follow-up (it has no topic of its own) or new topic. The new rule
(`assistant.conversation.is_followup`) is measured next to the rule it replaced (word counts and function
words, reimplemented below from commit 41f47aa) in one run, per split and language. Tune on the dev split only;
a gap of more than 0.05 to test means a choice fit dev.

The same figures follow for pairs made from the gold set (eval/gold/gold.jsonl), whose questions were written
by others and never tuned on: its follow-up items with their history are follow-ups, and every other question
asked after the gold question before it (same language, with that question's answer) is a new topic, since
the evaluation asks it standalone.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.conversation import is_followup, turns_from_messages  # noqa: E402
from assistant.types import Turn  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "eval" / "conversations" / "followup_pairs.jsonl"
GOLD = ROOT / "eval" / "gold" / "gold.jsonl"


@dataclass(frozen=True)
class Pair:
    id: str
    lang: str
    history: tuple[Turn, ...]
    question: str
    followup: bool
    split: str


def load_pairs(path: Path = PAIRS) -> list[Pair]:
    """The conversation pairs of `path`, their history as turns (as the OpenAI-compatible endpoint reads it)."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        messages = [(m["role"], m["content"]) for m in item["history"]]
        pairs.append(
            Pair(
                item["id"],
                item["lang"],
                tuple(turns_from_messages(messages)),
                item["question"],
                bool(item["followup"]),
                item["split"],
            )
        )
    return pairs


def gold_pairs(path: Path = GOLD) -> list[Pair]:
    """Pairs made from the gold set: its follow-ups as they are, every other question after its predecessor."""
    pairs = []
    previous: dict[str, tuple[str, str]] = {}  # language -> the last standalone question and its answer
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        lang, split = item["lang"], item.get("split") or "dev"
        if item["kind"] == "followup":
            messages = [(m["role"], m["content"]) for m in item["history"]]
            turns = tuple(turns_from_messages(messages))
            pairs.append(Pair(item["id"], lang, turns, item["question"], True, split))
            continue
        if lang in previous:
            turns = tuple(turns_from_messages([("user", previous[lang][0]), ("assistant", previous[lang][1])]))
            pairs.append(Pair(item["id"], lang, turns, item["question"], False, split))
        previous[lang] = (item["question"], item.get("answer") or "")
    return pairs


# -- the rule before issue 13 (assistant/conversation.py at commit 41f47aa), kept here for the comparison
_OLD_START = re.compile(
    r"^(?:en|maar|ook|dus|wat (?:dan )?(?:over|met|betreft)|hoe zit het met|en wat|and|but|also|so|what about|"
    r"how about|and what|what of|same for|idem)\b",
    re.IGNORECASE,
)
_OLD_LIST = """dit dat deze die daar daarvan daarover hiervan hierover zij ze hun hen het ervan erover dezelfde
    this that these those it its they them their there such same"""
_OLD_WORDS = frozenset(_OLD_LIST.split())


def old_is_followup(question: str, history: Sequence[Turn]) -> bool:
    """A question of at most 4 words, one opening with "en"/"and"/"what about", or one of at most 12 words
    holding a function word such as "het", "die", "that" (the rule issue 13 replaces)."""
    if not history:
        return False
    words = re.findall(r"[^\W_]+", question.lower())
    if not words:
        return False
    if _OLD_START.match(question.strip()):
        return True
    if len(words) <= 4:
        return True
    return len(words) <= 12 and bool(_OLD_WORDS & set(words))


Rule = Callable[[str, Sequence[Turn]], bool]
RULES: dict[str, Rule] = {"new": lambda q, h: is_followup(q, h), "old": old_is_followup}


@dataclass(frozen=True)
class Scores:
    n: int
    accuracy: float
    precision: float
    recall: float


def score(pairs: Sequence[Pair], rule: Rule) -> Scores:
    """Accuracy over all pairs; precision and recall of the follow-up label (0 when undefined)."""
    said = [rule(p.question, p.history) for p in pairs]
    hits = sum(1 for p, s in zip(pairs, said, strict=True) if s and p.followup)
    right = sum(1 for p, s in zip(pairs, said, strict=True) if s == p.followup)
    predicted, actual = sum(said), sum(p.followup for p in pairs)
    return Scores(
        len(pairs),
        right / len(pairs) if pairs else 0.0,
        hits / predicted if predicted else 0.0,
        hits / actual if actual else 0.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--gold", type=Path, default=GOLD, help="the gold set the second table is made from")
    parser.add_argument(
        "--errors", choices=["dev", "test", "gold-dev", "gold-test"], help="list the pairs the new rule gets wrong"
    )
    args = parser.parse_args()
    pairs = load_pairs(args.pairs)
    gold = gold_pairs(args.gold) if args.gold.exists() else []
    for title, rows in ((str(args.pairs.relative_to(ROOT)), pairs), (f"pairs from {args.gold.name}", gold)):
        print(f"== {title}")
        print(f"{'rule':<5} {'split':<5} {'lang':<4} {'n':>4} {'accuracy':>9} {'precision':>10} {'recall':>7}")
        for name, rule in RULES.items():
            for split in ("dev", "test"):
                for lang in ("nl", "en", "all"):
                    part = [p for p in rows if p.split == split and lang in (p.lang, "all")]
                    s = score(part, rule)
                    figures = f"{s.n:>4} {s.accuracy:>9.2f} {s.precision:>10.2f} {s.recall:>7.2f}"
                    print(f"{name:<5} {split:<5} {lang:<4} {figures}")
    if args.errors:
        source, _, split = args.errors.rpartition("-")
        wrong = [p for p in (gold if source == "gold" else pairs) if p.split == split]
        print(f"\nnew rule, wrong on {args.errors}:")
        for p in wrong:
            if is_followup(p.question, p.history) != p.followup:
                label = "follow-up" if p.followup else "new topic"
                print(f"  {p.id}  {label:<9}  {p.question}")


if __name__ == "__main__":
    main()
