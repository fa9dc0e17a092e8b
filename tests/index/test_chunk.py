"""The chunker: one chunk per section, cut at paragraph and then sentence boundaries to fit the token budget,
consecutive parts overlapping by whole sentences, footnotes kept apart, offsets pointing into the text.

Token counts come from the real tokenizer (`index.tokens.TokenCounter`, cl100k_base), as in an index run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from errors import ConfigError
from index.chunk import Chunker
from index.parse import parse, parse_markdown
from index.sentences import split_sentences
from index.tokens import TokenCounter
from index.types import DocumentInfo, Footnote, Paragraph, ParsedDocument, RawDocument, Section

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
INFO = DocumentInfo(id="test-2024", title="Een testdocument over migratie", short_title="Testdocument", year=2024)

# Sentences of 19 tokens each, all different, so that a cut can be told apart from an overlap.
SENTENCES = [f"Lidstaat {n} vangt in {2000 + n} asielzoekers op." for n in range(1, 41)]


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenCounter]:
    # TokenCounter sets TIKTOKEN_CACHE_DIR process-wide; the context puts it back after the module.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", os.environ.get("TIKTOKEN_CACHE_DIR", ""))
        yield TokenCounter(tmp_path_factory.mktemp("tiktoken"))


def markdown(text: str) -> ParsedDocument:
    return parse_markdown(RawDocument(info=INFO, text=text, kind="markdown"))


def corpus_documents() -> list[ParsedDocument]:
    entries = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))["documents"]
    docs = []
    for e in entries:
        info = DocumentInfo(id=e["id"], title=e["title"], short_title=e["short_title"], year=e["year"])
        docs.append(parse(RawDocument(info=info, text=(CORPUS / e["file"]).read_text(encoding="utf-8"))))
    return docs


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


# ------------------------------------------------------------------------------------ sections


def test_each_short_section_is_one_chunk_with_its_heading_path(tokens: TokenCounter) -> None:
    doc = markdown(
        "# Asiel\n\nDe Unie werkt aan een gemeenschappelijk asielstelsel.\n\n"
        "Het stelsel rust op solidariteit.\n\n"
        "## Screening\n\nIedereen die irregulier aankomt, wordt eerst gescreend.\n\n"
        "# Terugkeer\n\nWie geen recht op verblijf heeft, keert terug.\n"
    )
    chunks = Chunker(tokens.count).chunk(doc)

    assert [c.section_path for c in chunks] == ["Asiel", "Asiel > Screening", "Terugkeer"]
    assert [c.text for c in chunks] == [
        "De Unie werkt aan een gemeenschappelijk asielstelsel.\n\nHet stelsel rust op solidariteit.",
        "Iedereen die irregulier aankomt, wordt eerst gescreend.",
        "Wie geen recht op verblijf heeft, keert terug.",
    ]
    assert all((c.part, c.parts) == (0, 1) for c in chunks)
    assert [c.section_label for c in chunks] == ["Asiel", "Screening", "Terugkeer"]
    # What is embedded names the document and the section, so a passage is found by its context too.
    assert (
        chunks[1].embed_text
        == "Testdocument — Asiel > Screening\n\nIedereen die irregulier aankomt, wordt eerst gescreend."
    )
    assert {c.doc_id for c in chunks} == {"test-2024"} and {c.year for c in chunks} == {2024}


def test_a_chunk_never_holds_text_of_two_sections(tokens: TokenCounter) -> None:
    # Two sections that would fit one budget together still give two chunks.
    doc = markdown(f"# Eerste\n\n{SENTENCES[0]}\n\n# Tweede\n\n{SENTENCES[1]}\n")
    chunks = Chunker(tokens.count, max_tokens=500).chunk(doc)
    assert [c.text for c in chunks] == [SENTENCES[0], SENTENCES[1]]

    for doc in corpus_documents():
        for chunk in Chunker(tokens.count).chunk(doc):
            if chunk.footnote is not None:  # a footnote's text is where the parser appends it
                continue
            # Two sections may share a heading path (gamm-2011 has two "Aanbevelingen"): one must hold it.
            assert any(
                s.paragraphs[0].start <= chunk.char_start and chunk.char_end <= s.paragraphs[-1].end
                for s in doc.sections
                if s.path_label == chunk.section_path and s.paragraphs
            ), f"{doc.info.id}: {chunk.section_path} part {chunk.part} reaches beyond its section"


# ------------------------------------------------------------------------------- budget and cuts


def test_a_long_section_is_cut_between_paragraphs_within_the_budget(tokens: TokenCounter) -> None:
    paragraphs = [" ".join(SENTENCES[i : i + 2]) for i in range(0, 20, 2)]  # ten paragraphs of ~40 tokens
    doc = markdown("# Opvang\n\n" + "\n\n".join(paragraphs) + "\n")
    chunks = Chunker(tokens.count, max_tokens=100, overlap_tokens=0).chunk(doc)

    assert len(chunks) > 3
    assert [c.part for c in chunks] == list(range(len(chunks)))
    assert {c.parts for c in chunks} == {len(chunks)}
    for c in chunks:
        assert c.token_count == tokens.count(c.text) <= 100
        assert all(p in paragraphs for p in c.text.split("\n\n")), "a paragraph that fits was cut"
    # Without overlap the parts are the paragraphs in order, each exactly once.
    assert [p for c in chunks for p in c.text.split("\n\n")] == paragraphs
    assert chunks[0].paragraph_start == 0
    assert chunks[-1].paragraph_end == len(paragraphs) - 1


def test_a_paragraph_over_the_budget_is_cut_between_sentences(tokens: TokenCounter) -> None:
    paragraph = " ".join(SENTENCES[:15])  # one paragraph of ~300 tokens
    doc = markdown(f"# Opvang\n\n{paragraph}\n")
    chunks = Chunker(tokens.count, max_tokens=80, overlap_tokens=0).chunk(doc)

    assert len(chunks) >= 4
    for c in chunks:
        assert c.token_count <= 80
        assert all(s in SENTENCES for s in sentences(c.text)), f"a sentence was cut: {c.text!r}"
    assert " ".join(c.text for c in chunks) == paragraph


def test_a_sentence_longer_than_the_budget_stays_whole(tokens: TokenCounter) -> None:
    # The budget is never met by cutting inside a sentence: such a sentence becomes a chunk of its own.
    long_sentence = "De lidstaten " + ", ".join(f"regio {n} en provincie {n}" for n in range(60)) + " werken samen."
    doc = markdown(f"# Samenwerking\n\n{SENTENCES[0]} {long_sentence} {SENTENCES[1]}\n")
    chunks = Chunker(tokens.count, max_tokens=60, overlap_tokens=0).chunk(doc)

    assert tokens.count(long_sentence) > 60
    assert [c.text for c in chunks] == [SENTENCES[0], long_sentence, SENTENCES[1]]
    assert chunks[1].token_count == tokens.count(long_sentence)


def test_corpus_chunks_keep_to_the_budget_unless_one_sentence_is_longer(tokens: TokenCounter) -> None:
    chunker = Chunker(tokens.count, max_tokens=200, overlap_tokens=30)
    over = []
    for doc in corpus_documents():
        for c in chunker.chunk(doc):
            if c.token_count > 200 and len(sentences(c.text)) > 1:
                over.append((c.doc_id, c.section_path, c.part, c.token_count))
    assert not over, f"chunks over the budget of 200 tokens: {over[:5]}"


# ------------------------------------------------------------------------------------- overlap


def test_consecutive_parts_overlap_by_whole_sentences_within_the_overlap_budget(tokens: TokenCounter) -> None:
    paragraph = " ".join(SENTENCES[:20])
    doc = markdown(f"# Opvang\n\n{paragraph}\n")
    chunks = Chunker(tokens.count, max_tokens=100, overlap_tokens=30).chunk(doc)

    assert len(chunks) >= 4
    for before, after in zip(chunks, chunks[1:], strict=False):
        previous, following = sentences(before.text), sentences(after.text)
        carried = [s for s in following if s in previous]
        assert carried, f"part {after.part} does not repeat the end of part {before.part}"
        assert following[: len(carried)] == carried == previous[-len(carried) :]
        assert sum(tokens.count(s) for s in carried) <= 30
        assert after.token_count <= 100
    # Every sentence is in some part; the overlap only repeats, it never drops or reorders.
    seen = list(dict.fromkeys(s for c in chunks for s in sentences(c.text)))
    assert seen == SENTENCES[:20]


def test_no_overlap_when_it_is_zero(tokens: TokenCounter) -> None:
    doc = markdown("# Opvang\n\n" + " ".join(SENTENCES[:20]) + "\n")
    chunks = Chunker(tokens.count, max_tokens=100, overlap_tokens=0).chunk(doc)
    all_sentences = [s for c in chunks for s in sentences(c.text)]
    assert all_sentences == SENTENCES[:20]


@pytest.mark.parametrize(
    ("max_tokens", "overlap", "message"),
    [
        (49, 0, "chunk budget 49 tokens is too small: set ASSISTANT_CHUNK_TOKENS to at least 50"),
        (
            100,
            50,
            "chunk overlap 50 tokens must be below half the chunk budget of 100: "
            "set ASSISTANT_CHUNK_OVERLAP to at most 49 or raise ASSISTANT_CHUNK_TOKENS",
        ),
    ],
)
def test_impossible_budgets_are_refused_with_the_value(
    tokens: TokenCounter, max_tokens: int, overlap: int, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        Chunker(tokens.count, max_tokens=max_tokens, overlap_tokens=overlap)
    assert str(info.value) == message


def test_an_overlap_the_settings_allow_but_the_budget_does_not_is_an_error_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env |= {
        "ASSISTANT_DATA_DIR": str(tmp_path / "data"),
        "ASSISTANT_CHUNK_TOKENS": "100",
        "ASSISTANT_CHUNK_OVERLAP": "60",
    }
    cli = Path(sys.executable).with_name("policy-assistant")
    done = subprocess.run([str(cli), "index"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        "error: chunk overlap 60 tokens must be below half the chunk budget of 100: "
        "set ASSISTANT_CHUNK_OVERLAP to at most 49 or raise ASSISTANT_CHUNK_TOKENS"
    )


# ------------------------------------------------------------------------------------ footnotes


def _with_footnotes() -> ParsedDocument:
    """A section of two parts (budget 60): the first paragraph cites footnote 1, the second cites none."""
    first, second = " ".join(SENTENCES[:2]), " ".join(SENTENCES[2:4])
    text = f"1. Opvang\n\n{first}\n\n{second}\n\n[1] Verordening (EU) 2024/1348, PB L 2024/1348."
    a = len("1. Opvang\n\n")
    paragraphs = (
        Paragraph(first, start=a, end=a + len(first), footnotes=(1,)),
        Paragraph(second, start=a + len(first) + 2, end=a + len(first) + 2 + len(second)),
    )
    note = Footnote(1, "Verordening (EU) 2024/1348, PB L 2024/1348.")
    section = Section("1", "Opvang", 1, ("1. Opvang",), paragraphs=paragraphs, footnotes=(note,))
    return ParsedDocument(info=INFO, sections=(section,), text=text, footnotes=(note,))


def test_footnotes_go_with_the_part_that_cites_them_and_stay_out_of_the_text(tokens: TokenCounter) -> None:
    chunks = Chunker(tokens.count, max_tokens=60, overlap_tokens=0).chunk(_with_footnotes())

    assert len(chunks) == 3
    citing, plain, note = chunks
    assert citing.footnotes == (1,)
    assert citing.notes == "[1] Verordening (EU) 2024/1348, PB L 2024/1348."
    assert plain.footnotes == () and plain.notes == ""
    for c in (citing, plain):
        assert "Verordening" not in c.text and "Verordening" not in c.embed_text


def test_each_footnote_is_a_chunk_of_the_citing_section_with_the_citing_sentence(tokens: TokenCounter) -> None:
    doc = _with_footnotes()
    first_sentence = SENTENCES[0]
    cited_at = len(first_sentence)  # the marker stood right after the first sentence
    section = doc.sections[0]
    para = section.paragraphs[0]
    marked = Paragraph(para.text, start=para.start, end=para.end, footnotes=(1,), marks=((1, cited_at),))
    doc = ParsedDocument(
        info=doc.info,
        sections=(Section("1", "Opvang", 1, section.path, (marked, section.paragraphs[1]), section.footnotes),),
        text=doc.text,
        footnotes=doc.footnotes,
    )
    notes = [c for c in Chunker(tokens.count, max_tokens=60, overlap_tokens=0).chunk(doc) if c.footnote is not None]

    assert len(notes) == 1
    note = notes[0]
    assert note.footnote == 1 and note.text == "Verordening (EU) 2024/1348, PB L 2024/1348."
    assert note.section_path == "1. Opvang" and note.doc_id == INFO.id
    assert note.context == first_sentence.strip()
    assert "Verordening (EU) 2024/1348" in note.embed_text and first_sentence.strip() in note.embed_text


def test_corpus_footnotes_are_chunks_with_their_citing_sentence(tokens: TokenCounter) -> None:
    chunker = Chunker(tokens.count)
    found = 0
    for doc in corpus_documents():
        chunks = chunker.chunk(doc)
        by_number = {c.footnote: c for c in chunks if c.footnote is not None}
        for c in chunks:
            for n in c.footnotes:
                if c.footnote is None and n in by_number:
                    # the citing sentence comes from the body part that cites it
                    assert by_number[n].context and by_number[n].context in doc.text
                    found += 1
    assert found > 150  # the corpus cites some 260 footnotes


def test_a_changed_footnote_changes_the_chunk_id(tokens: TokenCounter) -> None:
    # The footnote text is part of what an index run compares, so an edited note is re-indexed.
    doc = _with_footnotes()
    edited_note = Footnote(1, "Verordening (EU) 2024/1349.")
    section = doc.sections[0]
    edited = ParsedDocument(
        info=doc.info,
        sections=(Section(section.number, section.title, 1, section.path, section.paragraphs, (edited_note,)),),
        text=doc.text,
        footnotes=(edited_note,),
    )
    chunker = Chunker(tokens.count, max_tokens=60, overlap_tokens=0)
    before, after = chunker.chunk(doc), chunker.chunk(edited)
    assert before[0].id != after[0].id and before[0].text == after[0].text
    assert before[1].id == after[1].id
    assert before[2].id != after[2].id and after[2].text == "Verordening (EU) 2024/1349."


def test_corpus_footnote_text_never_appears_in_chunk_text(tokens: TokenCounter) -> None:
    chunker = Chunker(tokens.count)
    checked = 0
    for doc in corpus_documents():
        notes = {f.number: f.text for f in doc.footnotes}
        for c in chunker.chunk(doc):
            if c.footnote is not None:
                continue
            for n in c.footnotes:
                if n in notes and len(notes[n]) > 40:
                    assert notes[n] not in c.text
                    assert f"[{n}] {notes[n]}" in c.notes
                    checked += 1
    assert checked > 50  # the corpus cites many footnotes; the test must not pass on none


# ------------------------------------------------------------------------------------- offsets


def test_offsets_map_every_chunk_back_to_the_document_text(tokens: TokenCounter) -> None:
    for doc in corpus_documents():
        chunks = Chunker(tokens.count, max_tokens=120, overlap_tokens=30).chunk(doc)
        assert chunks, doc.info.id
        bad = [(c.section_path, c.part) for c in chunks if doc.text[c.char_start : c.char_end] != c.text]
        assert not bad, f"{doc.info.id}: offsets off for {bad[:5]}"


def test_paragraph_numbers_point_at_the_paragraphs_of_the_chunk(tokens: TokenCounter) -> None:
    paragraphs = [" ".join(SENTENCES[i : i + 2]) for i in range(0, 12, 2)]
    doc = markdown("# Opvang\n\n" + "\n\n".join(paragraphs) + "\n")
    for c in Chunker(tokens.count, max_tokens=100, overlap_tokens=0).chunk(doc):
        assert c.text.split("\n\n") == paragraphs[c.paragraph_start : c.paragraph_end + 1]


# --------------------------------------------------------------------------- determinism, edges


def test_chunking_is_deterministic_and_ids_are_unique(tokens: TokenCounter) -> None:
    for doc in corpus_documents():
        first = Chunker(tokens.count).chunk(doc)
        second = Chunker(tokens.count).chunk(doc)
        assert first == second
        assert len({c.id for c in first}) == len(first)
        assert all(c.id.startswith(f"{doc.info.id}:") for c in first)


def test_empty_documents_and_sections_give_no_chunks(tokens: TokenCounter) -> None:
    chunker = Chunker(tokens.count)
    assert chunker.chunk(ParsedDocument(info=INFO, sections=(), text="")) == []
    body = Paragraph(SENTENCES[0], start=len("Leeg\n\nSlot\n\n"), end=len("Leeg\n\nSlot\n\n") + len(SENTENCES[0]))
    doc = ParsedDocument(
        info=INFO,
        sections=(Section(None, "Leeg", 1, ("Leeg",)), Section(None, "Slot", 1, ("Slot",), paragraphs=(body,))),
        text=f"Leeg\n\nSlot\n\n{SENTENCES[0]}",
    )
    assert [(c.section_path, c.text) for c in chunker.chunk(doc)] == [("Slot", SENTENCES[0])]


def test_a_tiny_section_is_kept(tokens: TokenCounter) -> None:
    chunks = Chunker(tokens.count).chunk(markdown("# Kort\n\nJa.\n"))
    assert [(c.text, c.token_count) for c in chunks] == [("Ja.", tokens.count("Ja."))]
