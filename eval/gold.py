"""Gold Q&A items: loading any JSONL file in the project's schema."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from assistant.types import COVERAGES, Coverage
from errors import InputError
from index.corpus import DEFAULT_CORPUS_DIR, resolve_doc_id

DEFAULT_GOLD = Path(__file__).resolve().parent / "gold" / "gold.jsonl"
KINDS = {"factoid", "number", "list", "why", "cross_doc", "over_time", "footnote", "unanswerable", "followup"}
# Kinds whose evidence comes from two or more documents: a hit needs every document's passage.
MULTI_DOCUMENT_KINDS = {"cross_doc", "over_time"}
SPLITS = ("dev", "test")


@dataclass(frozen=True)
class GoldItem:
    id: str
    lang: str
    question: str
    answer: str
    key_facts: tuple[str, ...]
    docs: tuple[str, ...]  # project document ids; empty when unanswerable
    sections: tuple[str, ...]
    evidence: tuple[str, ...]
    kind: str
    history: tuple[dict[str, str], ...] = field(default=())
    # "dev" (tuned on) or "test" (never tuned on); "" for files without a split, e.g. review candidates.
    split: str = ""
    # The verdict the documents support: answered, partial (they give part of it) or not_covered.
    coverage: Coverage = "answered"
    missing: tuple[str, ...] = ()  # what the documents lack (partial and unanswerable items)
    absent_terms: tuple[str, ...] = ()  # the terms searched for to confirm a detail is absent

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable" and bool(self.docs)


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list) else (value,)


def _coverage(raw: dict[str, Any]) -> Coverage:
    value = raw.get("coverage") or ("not_covered" if raw.get("kind") == "unanswerable" else "answered")
    if value not in COVERAGES:
        raise ValueError(f"coverage {value!r} is not one of {', '.join(COVERAGES)}")
    if raw.get("split") not in (None, "", *SPLITS):
        raise ValueError(f"split {raw.get('split')!r} is not one of {', '.join(SPLITS)}")
    return cast(Coverage, value)


def load_gold(paths: list[Path] | None = None, corpus_dir: Path = DEFAULT_CORPUS_DIR) -> list[GoldItem]:
    """Items of every given JSONL file (default: the project's gold set). Document ids may be project ids
    or the original corpus file names."""
    items: list[GoldItem] = []
    for path in paths or [DEFAULT_GOLD]:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise InputError(f"cannot read gold file {path}: {err.strerror}; check the path") from err
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                items.append(
                    GoldItem(
                        id=str(raw["id"]),
                        lang=raw["lang"],
                        question=raw["question"],
                        answer=raw.get("answer", ""),
                        key_facts=_as_tuple(raw.get("key_facts")),
                        docs=tuple(resolve_doc_id(d, corpus_dir) for d in _as_tuple(raw.get("doc"))),
                        sections=_as_tuple(raw.get("section")),
                        evidence=_as_tuple(raw.get("evidence")),
                        kind=raw["kind"],
                        history=tuple(raw.get("history") or ()),
                        split=str(raw.get("split") or ""),
                        coverage=_coverage(raw),
                        missing=_as_tuple(raw.get("missing")),
                        absent_terms=_as_tuple(raw.get("absent_terms")),
                    )
                )
            except (KeyError, TypeError, ValueError) as err:  # JSONDecodeError is a ValueError
                raise InputError(f"{path}:{number}: not a gold item in the project's schema ({err})") from err
    return items
