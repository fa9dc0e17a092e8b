"""Read user files (.txt, .md, .pdf, or folders of them) into `RawDocument`s."""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from pathlib import Path
from typing import Literal

import pypdf
from pypdf.errors import DependencyError, FileNotDecryptedError

from errors import DocumentError
from index.types import DocumentInfo, RawDocument

SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf")
SHORT_TITLE_CHARS = 40
# Above this share of control characters a decoded "text" is really binary data.
_MAX_CONTROL_SHARE = 0.05
_TEXT_CONTROLS = frozenset("\t\n\r\f\v")
# Titles PDF producers fill in that are not titles, e.g. "Microsoft Word - nota.docx".
_FILENAME_TITLE = re.compile(r"^(microsoft (word|powerpoint) - )?.*\.(docx?|pptx?|odt|rtf|pdf|txt)$", re.I)
_MD_HEADING = re.compile(r"^#[ \t]+(.+?)[ \t]*#*[ \t]*$")
_MD_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")

# pypdf logs every recoverable glitch of sloppy PDF producers as a warning; users only need the result
# or one DocumentError.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def load_path(path: Path) -> list[RawDocument]:
    """Load one file, or every .txt/.md/.pdf under a folder (recursively, sorted by path)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DocumentError(f"cannot read {path}: no such file or folder; check the path")
    if path.is_dir():
        files = _supported_files(path)
        if not files:
            raise DocumentError(
                f"cannot load folder {path}: it holds no .txt, .md or .pdf files; "
                "add documents or point to another folder"
            )
        return [_load_file(f) for f in files]
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"cannot read {path.name}: {path.suffix or 'files without an extension'} is not supported; "
            "save it as .pdf, .md or .txt"
        )
    return [_load_file(path)]


def _supported_files(root: Path) -> list[Path]:
    """Supported files under `root`, skipping hidden files and folders (.git, editor lock files)."""
    found = []
    for p in root.rglob("*"):
        rel = p.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if p.suffix.lower() in SUPPORTED_SUFFIXES and p.is_file():
            found.append(p)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _load_file(path: Path) -> RawDocument:
    # absolute(), not resolve(): a symlinked file keeps the name the user gave it.
    path = path.absolute()
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        text, pdf_title, year = _read_pdf(path)
        title = pdf_title or _title_from_stem(path)
        return RawDocument(info=_info(path, title, year), text=text, kind="text")
    text = _read_text(path)
    kind: Literal["text", "markdown"] = "markdown" if suffix == ".md" else "text"
    title = (_markdown_title(text) if kind == "markdown" else None) or _title_from_stem(path)
    return RawDocument(info=_info(path, title, None), text=text, kind=kind)


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except PermissionError as err:
        raise DocumentError(f"cannot read {path.name}: permission denied; check the file's permissions") from err
    except OSError as err:
        raise DocumentError(f"cannot read {path.name}: {err.strerror or err}; check the file") from err
    if not data.strip():
        raise DocumentError(f"cannot read {path.name}: the file is empty; add text or remove it")
    return data


def _looks_like_text(text: str) -> bool:
    if not text:
        return True
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in _TEXT_CONTROLS)
    return controls / len(text) <= _MAX_CONTROL_SHARE


def _read_text(path: Path) -> str:
    data = _read_bytes(path)
    binary = DocumentError(
        f"cannot read {path.name}: it looks like a binary file, not text; "
        "export it as plain UTF-8 text or supply the original .pdf"
    )
    if b"\x00" in data:
        raise binary
    try:
        # utf-8-sig also accepts plain UTF-8 and drops a BOM that would otherwise start the title.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            # Older Windows exports (Word "Plain text") are cp1252; accept them only if they read as text.
            text = data.decode("cp1252")
        except UnicodeDecodeError as err:
            raise binary from err
    if not _looks_like_text(text):
        raise binary
    # The parser works on "\n" line ends; Windows and old Mac files would otherwise shift offsets.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DocumentError(f"cannot read {path.name}: the file holds only whitespace; add text or remove it")
    return text


def _read_pdf(path: Path) -> tuple[str, str | None, int | None]:
    """Return the text (pages joined by form feeds), the metadata title and the creation year."""
    data = _read_bytes(path)  # same messages as text files for unreadable or empty files
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
