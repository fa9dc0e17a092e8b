"""Validate the gold question/answer sets in eval/gold/*.jsonl against the corpus.

Self-contained: no project imports. Every item is checked on its own (parametrised,
so a failure names the item id); set-level checks cover ids and the required mix.
The per-item checks also run over the untuned holdout set in eval/holdout/*.jsonl;
the set-level mix, split and size checks look at eval/gold only.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOLD_DIR = ROOT / "eval" / "gold"
HOLDOUT_DIR = ROOT / "eval" / "holdout"
CORPUS_DIR = ROOT / "corpus"
MANIFEST_PATH = CORPUS_DIR / "manifest.json"

LANGS = {"nl", "en"}
KINDS = {"factoid", "number", "list", "why", "cross_doc", "over_time", "footnote", "unanswerable", "followup"}
MULTI_DOC = {"cross_doc", "over_time"}
COVERAGES = {"answered", "partial", "not_covered"}
SPLITS = {"dev", "test"}
REQUIRED = {
    "id": str,
    "lang": str,
    "question": str,
    "answer": str,
    "key_facts": list,
    "kind": str,
}
# present in every item, but may be None / list depending on kind
NULLABLE = ("doc", "section", "evidence")
EVIDENCE_MIN, EVIDENCE_MAX = 20, 300
MAX_KEY_FACTS = 3
MAX_KEY_FACT_WORDS = 4


def norm(text: str) -> str:
    """Collapse every whitespace run (newlines, blank lines, NBSP ...) to one space."""
    return re.sub(r"\s+", " ", text).strip()


def fold(text: str) -> str:
    return norm(text).casefold()


@cache
def manifest_files() -> dict[str, Path]:
    data = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    return {d["id"]: CORPUS_DIR / d["file"] for d in data["documents"]}


@cache
def doc_years() -> dict[str, int | None]:
    data = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    return {d["id"]: d.get("year") for d in data["documents"]}


@cache
def doc_text(doc_id: str) -> str:
    return norm(manifest_files()[doc_id].read_text(encoding="utf-8"))


def gold_files() -> list[Path]:
    return sorted(GOLD_DIR.glob("*.jsonl"))


def holdout_files() -> list[Path]:
    return sorted(HOLDOUT_DIR.glob("*.jsonl"))


def load_items(paths: list[Path] | None = None) -> list[tuple[str, int, dict]]:
    out = []
    for path in gold_files() if paths is None else paths:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            out.append((path.name, lineno, json.loads(line)))
    return out


ITEMS = load_items()
HOLDOUT_ITEMS = load_items(holdout_files())
# per-item checks: the gold set and the holdout set
ENTRIES = ITEMS + HOLDOUT_ITEMS


def _param_id(entry: tuple[str, int, dict]) -> str:
    fname, lineno, item = entry
    return f"{Path(fname).stem}:{item.get('id', f'line{lineno}')}"


def as_list(value):
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------- set level


def test_gold_files_exist():
    assert gold_files(), f"no *.jsonl in {GOLD_DIR}"


def test_lines_are_valid_json_objects():
    for path in gold_files():
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            obj = json.loads(line)  # raises with a clear message on bad JSON
            assert isinstance(obj, dict), f"{path.name}:{lineno} is not a JSON object"


def test_ids_unique():
    counts = Counter(item.get("id") for _f, _l, item in ITEMS)
    dupes = sorted(str(k) for k, v in counts.items() if v > 1)
    assert not dupes, f"duplicate ids: {dupes}"


def test_holdout_ids_unique_and_apart_from_gold():
    counts = Counter(item.get("id") for _f, _l, item in ENTRIES)
    dupes = sorted(str(k) for k, v in counts.items() if v > 1)
    assert not dupes, f"duplicate ids across gold and holdout: {dupes}"


def test_mix_size():
    assert len(ITEMS) >= 90, f"only {len(ITEMS)} gold items"


def test_mix_dutch_share():
    langs = Counter(item["lang"] for _f, _l, item in ITEMS)
    share = langs["nl"] / max(1, len(ITEMS))
    assert 0.5 <= share <= 0.7, f"Dutch share {share:.2f} ({langs})"


def test_mix_kinds():
    kinds = Counter(item["kind"] for _f, _l, item in ITEMS)
    assert kinds["unanswerable"] >= 8, kinds
    assert kinds["followup"] >= 6, kinds
    assert kinds["cross_doc"] >= 5, kinds


def test_split_is_fixed_in_the_file_and_stratified():
    missing = [item["id"] for _f, _l, item in ITEMS if item.get("split") not in SPLITS]
    assert not missing, f"items without a dev/test split: {missing[:10]}"
    share = sum(item["split"] == "test" for _f, _l, item in ITEMS) / len(ITEMS)
    assert 0.3 <= share <= 0.5, f"test share {share:.2f}"
    strata = Counter((item["kind"], item["lang"], item["split"]) for _f, _l, item in ITEMS)
    for kind, lang in {(k, la) for k, la, _s in strata}:
        if strata[(kind, lang, "dev")] + strata[(kind, lang, "test")] >= 4:
            assert strata[(kind, lang, "test")] >= 1, f"no {lang} {kind} item in the test split"


def test_mix_unanswerable_and_followup_in_both_languages():
    pairs = Counter((item["kind"], item["lang"]) for _f, _l, item in ITEMS)
    for kind in ("unanswerable", "followup"):
        for lang in LANGS:
            assert pairs[(kind, lang)] >= 1, f"no {lang} {kind} items"


def test_all_documents_covered():
    covered = set()
    for _f, _l, item in ITEMS:
        if item.get("doc") is not None:
            covered.update(as_list(item["doc"]))
    missing = set(manifest_files()) - covered
    assert not missing, f"documents without gold items: {sorted(missing)}"


# --------------------------------------------------------------------------- item level


@pytest.mark.parametrize("entry", ENTRIES, ids=_param_id)
def test_fields_and_types(entry):
    _f, _l, item = entry
    for field, typ in REQUIRED.items():
        assert field in item, f"missing field {field!r}"
        assert isinstance(item[field], typ), f"{field!r} should be {typ.__name__}"
    for field in NULLABLE:
        assert field in item, f"missing field {field!r}"
    for field in ("id", "question", "answer"):
        assert item[field].strip(), f"empty {field!r}"
    assert item["lang"] in LANGS, f"bad lang {item['lang']!r}"
    assert item["kind"] in KINDS, f"bad kind {item['kind']!r}"
    for fact in item["key_facts"]:
        assert isinstance(fact, str) and fact.strip(), f"bad key fact {fact!r}"
        assert len(fact.split()) <= MAX_KEY_FACT_WORDS, f"key fact too long: {fact!r}"
    assert len(item["key_facts"]) <= MAX_KEY_FACTS, "too many key facts"


@pytest.mark.parametrize("entry", ENTRIES, ids=_param_id)
def test_coverage_fields(entry):
    _f, _l, item = entry
    coverage = item.get("coverage", "not_covered" if item["kind"] == "unanswerable" else "answered")
    assert coverage in COVERAGES, f"bad coverage {coverage!r}"
    assert (coverage == "not_covered") == (item["kind"] == "unanswerable"), "not_covered iff unanswerable"
    missing = item.get("missing", [])
    assert isinstance(missing, list) and all(isinstance(m, str) and m.strip() for m in missing), "bad missing"
    if coverage == "partial":
        assert missing, "a partial item names what the documents lack"
    absent = item.get("absent_terms", [])
    assert isinstance(absent, list), "absent_terms must be a list"
    corpus = " ".join(doc_text(d).casefold() for d in manifest_files())
    found = [t for t in absent if norm(t).casefold() in corpus]
    assert not found, f"absent_terms found in the corpus: {found}"


@pytest.mark.parametrize("entry", ENTRIES, ids=_param_id)
def test_unanswerable_consistency(entry):
    _f, _l, item = entry
    unanswerable = item["kind"] == "unanswerable"
    assert unanswerable == (item["doc"] is None), "kind == 'unanswerable' iff doc is None"
    if unanswerable:
        assert item["key_facts"] == [], "unanswerable items have no key facts"
        assert item["evidence"] is None, "unanswerable items have no evidence"
        assert item["section"] is None, "unanswerable items have no section"
    else:
        assert 1 <= len(item["key_facts"]) <= MAX_KEY_FACTS, "answerable items need 1-3 key facts"
        assert item["evidence"] is not None, "answerable items need evidence"
        assert item["section"] is not None, "answerable items need a section"


@pytest.mark.parametrize("entry", ENTRIES, ids=_param_id)
def test_history(entry):
    _f, _l, item = entry
    if item["kind"] != "followup":
        assert not item.get("history"), "only followup items carry a history"
        return
    history = item.get("history")
    assert isinstance(history, list) and history, "followup needs a non-empty history"
    for n, turn in enumerate(history):
        assert isinstance(turn, dict), f"turn {n} is not an object"
        assert set(turn) == {"role", "content"}, f"turn {n} keys {sorted(turn)}"
        assert turn["role"] == ("user" if n % 2 == 0 else "assistant"), (
            f"turn {n} role {turn['role']!r}: history must alternate user/assistant, starting with user"
        )
        assert isinstance(turn["content"], str) and turn["content"].strip(), f"turn {n} empty"
    assert history[-1]["role"] == "assistant", "history must end with the assistant turn"


@pytest.mark.parametrize("entry", ENTRIES, ids=_param_id)
def test_doc_section_evidence_shapes(entry):
    _f, _l, item = entry
    if item["doc"] is None:
        return
    known = set(manifest_files())
    if item["kind"] in MULTI_DOC:
        docs, sections, evidence = item["doc"], item["section"], item["evidence"]
        assert isinstance(docs, list) and len(docs) >= 2, "cross_doc/over_time need a list of >= 2 docs"
        assert isinstance(evidence, list) and len(evidence) == len(docs), (
            "cross_doc/over_time evidence must be a list, one quote per doc"
        )
        assert isinstance(sections, list) and len(sections) == len(docs), (
            "cross_doc/over_time section must be a list, one heading per doc"
        )
        assert len(set(docs)) == len(docs), "cross_doc/over_time docs must be distinct"
        if item["kind"] == "over_time":
            years = [doc_years().get(d) for d in docs]
            assert len(set(years)) == len(years), f"over_time documents must be of different years: {years}"
    else:
        assert isinstance(item["doc"], str), "non-cross_doc items name a single doc"
        assert isinstance(item["section"], str), "section must be a string"
        assert isinstance(item["evidence"], str), "evidence must be a string"
    for doc in as_list(item["doc"]):
        assert doc in known, f"unknown doc id {doc!r}"


@pytest.mark.parametrize("entry", ENTRIES, ids=_param_id)
def test_evidence_verbatim(entry):
    _f, _l, item = entry
    if item["doc"] is None:
        return
    for doc, quote in zip(as_list(item["doc"]), as_list(item["evidence"]), strict=True):
        assert isinstance(quote, str), f"evidence for {doc} is not a string"
        n = len(quote)
        assert EVIDENCE_MIN <= n <= EVIDENCE_MAX, f"evidence length {n} outside {EVIDENCE_MIN}-{EVIDENCE_MAX}"
        assert norm(quote) in doc_text(doc), f"evidence not found verbatim in {doc}: {quote[:80]!r}"


@pytest.mark.parametrize("entry", ENTRIES, ids=_param_id)
def test_section_heading_in_document(entry):
    _f, _l, item = entry
    if item["doc"] is None:
        return
    for doc, section in zip(as_list(item["doc"]), as_list(item["section"]), strict=True):
        assert isinstance(section, str) and section.strip(), f"empty section for {doc}"
        assert norm(section) in doc_text(doc), f"section heading not found in {doc}: {section!r}"


@pytest.mark.parametrize("entry", ENTRIES, ids=_param_id)
def test_key_facts_supported(entry):
    _f, _l, item = entry
    if item["doc"] is None:
        return
    evidence = " ".join(fold(q) for q in as_list(item["evidence"]))
    docs = as_list(item["doc"])
    for fact in item["key_facts"]:
        f = fold(fact)
        assert f in evidence or any(f in doc_text(d).casefold() for d in docs), (
            f"key fact {fact!r} in neither evidence nor document"
        )
