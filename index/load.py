"""Read user files (.txt, .md, .pdf, or folders of them) into `RawDocument`s."""

from __future__ import annotations

import codecs
import io
import logging
import os
import re
import stat
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from errors import DocumentError
from index.types import DocumentInfo, RawDocument

if TYPE_CHECKING:  # pypdf costs every CLI command a noticeable import; it loads when a PDF is read
    import pypdf

SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf")
# 10 MB is ~80x the longest bundled document (0.12 MB, ~190 chunks): a text that size is ~15k chunks,
# already many minutes of embedding on a laptop; the 50 MB file of issue 16 would be ~114k chunks.
DEFAULT_MAX_DOCUMENT_MB = 10.0
DEFAULT_MAX_DOCUMENT_BYTES = int(DEFAULT_MAX_DOCUMENT_MB * 1024 * 1024)
# A file that decodes as UTF-8 except for a few stray bytes is UTF-8: at most one bad sequence per
# this many good multi-byte characters (cp1252 text almost never forms a valid multi-byte sequence).
_UTF8_GOOD_PER_BAD = 4
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_WIDE_ENCODINGS = ("utf_16", "utf_16_le", "utf_16_be", "utf_32", "utf_32_le", "utf_32_be")
SHORT_TITLE_CHARS = 40
# Above this share of control characters a decoded "text" is really binary data.
_MAX_CONTROL_SHARE = 0.05
_TEXT_CONTROLS = frozenset("\t\n\r\f\v")
# Titles PDF producers fill in that are not titles, e.g. "Microsoft Word - nota.docx".
_FILENAME_TITLE = re.compile(r"^(microsoft (word|powerpoint) - )?.*\.(docx?|pptx?|odt|rtf|pdf|txt)$", re.I)
_MD_HEADING = re.compile(r"^#[ \t]+(.+?)[ \t]*#*[ \t]*$")
_MD_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")


def given_path(path: Path | str) -> Path:
    """`path` made absolute without resolving symlinks: documents are remembered by the name the user gave."""
    return Path(os.path.abspath(Path(path).expanduser()))


def load_path(
    path: Path,
    *,
    max_bytes: int | None = DEFAULT_MAX_DOCUMENT_BYTES,
    warnings: list[str] | None = None,
) -> list[RawDocument]:
    """Load one file, or every .txt/.md/.pdf under a folder (recursively, sorted by path).

    Files larger than `max_bytes` are refused (None: no limit). In a folder, symlinks that lead out of
    it are skipped, with a line in `warnings`.
    """
    path = given_path(path)
    if not path.exists():
        raise DocumentError(f"cannot read {path}: no such file or folder; check the path")
    if path.is_dir():
        files = _supported_files(path, warnings if warnings is not None else [])
        if not files:
            raise DocumentError(
                f"cannot load folder {path}: it holds no .txt, .md or .pdf files; "
                "add documents or point to another folder"
            )
        return [_load_file(f, max_bytes) for f in files]
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"cannot read {path.name}: {path.suffix or 'files without an extension'} is not supported; "
            "save it as .pdf, .md or .txt"
        )
    return [_load_file(path, max_bytes)]


def document_files(path: Path) -> list[Path]:
    """The files `load_path(path)` reads: `path` itself, or the supported files under a folder."""
    path = given_path(path)
    return _supported_files(path, []) if path.is_dir() else [path]


def _supported_files(root: Path, warnings: list[str]) -> list[Path]:
    """Supported files under `root`, skipping hidden files and folders (.git, editor lock files) and
    symlinks whose target lies outside `root` (a link must not make a file elsewhere searchable)."""
    real_root = root.resolve()
    found = []
    # os.walk does not descend into symlinked folders; symlinked files are checked one by one below.
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            p = Path(folder) / name
            if name.startswith(".") or p.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            if p.is_symlink():
                target = p.resolve()
                if real_root not in target.parents:
                    warnings.append(f"skipped {p}: it links to {target}, outside {root}")
                    continue
            if p.is_file():
                found.append(p)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _load_file(path: Path, max_bytes: int | None) -> RawDocument:
    path = given_path(path)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        text, pdf_title, year = _read_pdf(path, max_bytes)
        title = pdf_title or _title_from_stem(path)
        return RawDocument(info=_info(path, title, year), text=text, kind="text")
    text = _read_text(path, max_bytes)
    kind: Literal["text", "markdown"] = "markdown" if suffix == ".md" else "text"
    title = (_markdown_title(text) if kind == "markdown" else None) or _title_from_stem(path)
    return RawDocument(info=_info(path, title, None), text=text, kind=kind)


def _read_bytes(path: Path, max_bytes: int | None) -> bytes:
    """The file's bytes; only regular files within `max_bytes` are read, and nothing ever blocks."""
    try:
        _check_regular(path, os.stat(path), max_bytes)
        # O_NONBLOCK: should the path become a FIFO between stat and open, opening it does not hang.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            _check_regular(path, os.fstat(f.fileno()), max_bytes)
            data = f.read() if max_bytes is None else f.read(max_bytes + 1)
    except PermissionError as err:
        raise DocumentError(f"cannot read {path.name}: permission denied; check the file's permissions") from err
    except OSError as err:
        raise DocumentError(f"cannot read {path.name}: {err.strerror or err}; check the file") from err
    if max_bytes is not None and len(data) > max_bytes:  # it grew after the stat
        raise _too_large(path, len(data), max_bytes)
    if not data.strip():
        raise DocumentError(f"cannot read {path.name}: the file is empty; add text or remove it")
    return data


def _check_regular(path: Path, st: os.stat_result, max_bytes: int | None) -> None:
    if not stat.S_ISREG(st.st_mode):
        kind = "a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else "not a regular file"
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            kind = "a device"
        raise DocumentError(f"cannot read {path.name}: it is {kind}; only regular files are indexed")
    if max_bytes is not None and st.st_size > max_bytes:
        raise _too_large(path, st.st_size, max_bytes)


def _too_large(path: Path, size: int, max_bytes: int) -> DocumentError:
    mb = 1024 * 1024
    return DocumentError(
        f"cannot read {path.name}: it is {size / mb:.1f} MB, over the {max_bytes / mb:g} MB limit for one "
        "document; split it, or raise ASSISTANT_MAX_DOCUMENT_MB"
    )


def _looks_like_text(text: str) -> bool:
    if not text:
        return True
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in _TEXT_CONTROLS)
    return controls / len(text) <= _MAX_CONTROL_SHARE


def _read_text(path: Path, max_bytes: int | None) -> str:
    data = _read_bytes(path, max_bytes)
    text = _decode(data)
    if text is None or not _looks_like_text(text):
        raise DocumentError(
            f"cannot read {path.name}: it is not text in any encoding we recognise (binary data?); "
            "export it as plain UTF-8 text or supply the original .pdf"
        )
    # The parser works on "\n" line ends; Windows and old Mac files would otherwise shift offsets.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DocumentError(f"cannot read {path.name}: the file holds only whitespace; add text or remove it")
    return text


def _decode(data: bytes) -> str | None:
    """`data` as text in its own encoding, or None when it is not text."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding).lstrip("\ufeff")
            except UnicodeDecodeError:
                return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    good = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    if good >= _UTF8_GOOD_PER_BAD * bad:
        return text  # UTF-8 with a few damaged bytes: keep every other accent
    import charset_normalizer

    # Zero bytes in text only occur in UTF-16/32; without them short Latin text must not pass as UTF-16.
    wide = b"\x00" in data
    matches = charset_normalizer.from_bytes(
        data,
        cp_isolation=list(_WIDE_ENCODINGS) if wide else None,
        cp_exclusion=None if wide else list(_WIDE_ENCODINGS),
    )
    best = matches.best()
    if best is None:
        return None
    # Dutch Windows exports are cp1252; among equally plausible code pages take that one.
    for match in matches:
        if match.encoding == "cp1252" and match.chaos <= best.chaos:
            best = match
    return str(best)


def _read_pdf(path: Path, max_bytes: int | None) -> tuple[str, str | None, int | None]:
    """Return the text (pages joined by form feeds), the metadata title and the creation year."""
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError

    # pypdf logs every recoverable glitch of sloppy PDF producers as a warning; users only need the
    # result or one DocumentError.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    data = _read_bytes(path, max_bytes)  # same messages as text files for unreadable or empty files
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Many PDFs are "encrypted" with an empty user password only to restrict editing.
            reader.decrypt("")
        pages = [(page.extract_text() or "") for page in reader.pages]
    except FileNotDecryptedError as err:
        raise DocumentError(
            f"cannot read {path.name}: the PDF is password-protected; remove the password "
            "(e.g. qpdf --decrypt) or supply a .txt"
        ) from err
    except DependencyError as err:
        raise DocumentError(
            f"cannot read {path.name}: the PDF is AES-encrypted and pypdf needs the 'cryptography' "
            "package for that; install it (pip install cryptography) or remove the encryption"
        ) from err
    except Exception as err:  # pypdf raises many exception types on damaged files
        raise DocumentError(
            f"cannot read {path.name}: the PDF is damaged or not a PDF ({type(err).__name__}: {err}); "
            "re-export or re-download it, or supply a .txt"
        ) from err
    if not any(p.strip() for p in pages):
        raise DocumentError(
            f"cannot read {path.name}: the PDF has no text layer (scanned?); run OCR first or supply a .txt"
        )
    # A form feed inside a page would shift every later page number.
    text = "\f".join(p.replace("\f", "\n") for p in pages)
    title, year = _pdf_metadata(reader)
    return text, title, year


def _pdf_metadata(reader: pypdf.PdfReader) -> tuple[str | None, int | None]:
    """Title and creation year from the PDF info dictionary, when they are usable."""
    try:
        meta = reader.metadata
    except Exception:  # broken info dictionaries are common and never fatal
        return None, None
    if meta is None:
        return None, None
    title: str | None = None
    try:
        raw_title = meta.title
    except Exception:
        raw_title = None
    if isinstance(raw_title, str):
        cleaned = " ".join(raw_title.split())
        if cleaned and not _FILENAME_TITLE.match(cleaned) and cleaned.lower() != "untitled":
            title = cleaned
    year: int | None = None
    try:
        created = meta.creation_date
    except Exception:  # pypdf raises on malformed date strings
        created = None
    if created is not None and 1990 <= created.year <= 2100:
        year = created.year
    return title, year


def _markdown_title(text: str) -> str | None:
    """The first level-1 ATX heading outside code fences, without markup."""
    in_fence = False
    for line in text.splitlines():
        if _MD_FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        m = _MD_HEADING.match(line)
        if m:
            return m.group(1).strip() or None
    return None


def _title_from_stem(path: Path) -> str:
    title = " ".join(re.sub(r"[_-]+", " ", path.stem).split())
    return title or path.name


def slugify(text: str) -> str:
    """Lowercase ASCII slug with `-` separators, e.g. "Nota über Asiel 2024" -> "nota-uber-asiel-2024"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or "document"


def short_title(title: str, limit: int = SHORT_TITLE_CHARS) -> str:
    """`title` cut to at most `limit` characters, at a word boundary when possible, with an ellipsis."""
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"


def _info(path: Path, title: str, year: int | None) -> DocumentInfo:
    return DocumentInfo(
        id=slugify(path.stem),
        title=title,
        short_title=short_title(title),
        year=year,
        doc_type="user",
        file=str(path),
    )
