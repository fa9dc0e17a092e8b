"""The BM25 peer of the retrieval comparison (`bench/peers.py`) on the tiny corpus: it finds exact terms."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.peers import BM25Peer, document_texts, token_windows
from index.corpus import load_corpus
from index.tokens import TokenCounter
from tests.tiny_corpus import write_tiny_corpus

WINDOW = 32  # small enough that each tiny document is several windows


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> TokenCounter:
    return TokenCounter(tmp_path_factory.mktemp("tiktoken"))


@pytest.fixture
def windows(tmp_path: Path, counter: TokenCounter) -> list[str]:
    texts = document_texts(load_corpus(write_tiny_corpus(tmp_path / "corpus")))
    return [w for text in texts for w in token_windows(text, counter.count, WINDOW)]


def test_windows_hold_the_whole_text_in_whole_words(windows: list[str], counter: TokenCounter) -> None:
    assert len(windows) > 4
    assert all(counter.count(w) <= WINDOW + 2 for w in windows)  # + the joins' whitespace tokens
    joined = " ".join(windows)
    assert "De screening duurt ten hoogste vijf dagen." in " ".join(joined.split())
    assert "gemeenschappelijk stelsel voor asiel" in " ".join(joined.split())


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Hoe lang duurt de screening aan de buitengrens?", "De screening duurt ten hoogste"),
        ("Wie kan een blauwe kaart aanvragen?", "Europese blauwe kaart aanvragen"),
    ],
)
def test_bm25_peer_ranks_the_exact_term_passage_first(windows: list[str], question: str, expected: str) -> None:
    ranked = BM25Peer(windows).rank(question, "nl", 3)
    assert expected in " ".join(ranked[0].split())
    assert len(ranked) <= 3


def test_bm25_peer_finds_nothing_for_terms_no_window_holds(windows: list[str]) -> None:
    assert BM25Peer(windows).rank("Quantum chromodynamics?", "en", 3) == []
