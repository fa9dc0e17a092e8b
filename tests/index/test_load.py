"""Loading user files: text, markdown, PDF, folders, and every way a file can be unusable."""

from __future__ import annotations

import datetime as dt
import random
import subprocess
import sys
from pathlib import Path

import pytest
from fpdf import FPDF
from fpdf.enums import EncryptionMethod

from errors import DocumentError
from index.load import load_path, short_title, slugify


def _pdf(path: Path, pages: list[str], title: str | None = None) -> Path:
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    pdf.output(str(path))
    return path


def _error(path: Path) -> str:
    with pytest.raises(DocumentError) as info:
        load_path(path)
    message = str(info.value)
    assert "\n" not in message  # interfaces print it as one line
    return message


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "eu_migratie-nota.txt"
    path.write_text("Eerste alinea.\r\n\r\nTweede alinea.\r\n", encoding="utf-8")
    [doc] = load_path(path)
    assert doc.kind == "text"
    assert doc.text == "Eerste alinea.\n\nTweede alinea.\n"  # Windows line ends normalised
    assert doc.info.id == "eu-migratie-nota"
    assert doc.info.title == "eu migratie nota"
    assert doc.info.short_title == "eu migratie nota"
    assert doc.info.doc_type == "user"
    assert doc.info.year is None
    assert doc.info.file == str(path.absolute())


def test_markdown_title_from_first_heading(tmp_path: Path) -> None:
    path = tmp_path / "notitie.md"
    path.write_text(
        "```\n# not a heading (code)\n```\n\n## Sub\n\n# Terugkeerbeleid in de EU #\n\nTekst.\n",
        encoding="utf-8",
    )
    [doc] = load_path(path)
    assert doc.kind == "markdown"
    assert doc.info.title == "Terugkeerbeleid in de EU"
    assert doc.text.endswith("Tekst.\n")


def test_markdown_without_heading_uses_file_name(tmp_path: Path) -> None:
    path = tmp_path / "korte_notitie.md"
    path.write_text("Alleen tekst.\n", encoding="utf-8")
    assert load_path(path)[0].info.title == "korte notitie"


def test_utf8_bom_and_cp1252_are_decoded(tmp_path: Path) -> None:
    bom = tmp_path / "bom.txt"
    bom.write_bytes("\ufeffCoördinatie van terugkeer".encode())
    assert load_path(bom)[0].text == "Coördinatie van terugkeer"
    legacy = tmp_path / "legacy.txt"
    legacy.write_bytes("Coördinatie – “terugkeer” café".encode("cp1252"))
    assert load_path(legacy)[0].text == "Coördinatie – “terugkeer” café"


def test_two_page_pdf(tmp_path: Path) -> None:
    path = _pdf(
        tmp_path / "nota.pdf",
        ["Eerste pagina over de terugkeer van migranten.", "Tweede pagina over asiel."],
        title="Nota over terugkeer",
    )
    [doc] = load_path(path)
    assert doc.kind == "text"
    pages = doc.text.split("\f")
    assert len(pages) == 2
    assert "Eerste pagina over de terugkeer van migranten." in pages[0]
    assert "Tweede pagina over asiel." in pages[1]
    assert doc.info.title == "Nota over terugkeer"  # from the PDF metadata
    assert doc.info.id == "nota"
    assert doc.info.year == dt.datetime.now(dt.UTC).year  # fpdf2 stamps the creation date


def test_pdf_without_metadata_title_uses_file_name(tmp_path: Path) -> None:
    path = _pdf(tmp_path / "Asiel_Rapport-2024.pdf", ["Tekst."])
    info = load_path(path)[0].info
    assert info.title == "Asiel Rapport 2024"
    assert info.id == "asiel-rapport-2024"


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60)
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    message = _error(path)
    assert "scan.pdf" in message
    assert "no text layer" in message
    assert "OCR" in message


def test_encrypted_pdfs(tmp_path: Path) -> None:
    for user_password, name in (("", "alleen-eigenaar.pdf"), ("geheim", "geheim.pdf")):
        pdf = FPDF()
        # RC4 so the test does not depend on the optional 'cryptography' package.
        pdf.set_encryption(
            owner_password="eigenaar", user_password=user_password, encryption_method=EncryptionMethod.RC4
        )
        pdf.set_font("Helvetica", size=12)
        pdf.add_page()
        pdf.multi_cell(0, 10, "Versleutelde tekst.")
        pdf.output(str(tmp_path / name))
    # Owner-only encryption (an empty user password) just restricts editing: the text is readable.
    assert load_path(tmp_path / "alleen-eigenaar.pdf")[0].text == "Versleutelde tekst."
    assert "password-protected" in _error(tmp_path / "geheim.pdf")


@pytest.mark.parametrize("content", [b"%PDF-1.4\ngarbage\n%%EOF", b"this is not a pdf"])
def test_corrupt_pdf(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "kapot.pdf"
    path.write_bytes(content)
    message = _error(path)
    assert "kapot.pdf" in message
    assert "damaged" in message


def test_truncated_pdf(tmp_path: Path) -> None:
    whole = _pdf(tmp_path / "whole.pdf", ["Tekst op pagina een."]).read_bytes()
    path = tmp_path / "half.pdf"
    path.write_bytes(whole[: len(whole) // 2])
    assert "half.pdf" in _error(path)


def test_random_bytes_named_txt(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes(random.Random(0).randbytes(4096))
    message = _error(path)
    assert "data.txt" in message
    assert "binary" in message


def test_control_heavy_bytes_without_nul_named_txt(tmp_path: Path) -> None:
    # No NUL byte, and every byte decodes as cp1252: only the control-character share gives it away.
    rng = random.Random(1)
    allowed = [b for b in range(1, 256) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)]
    path = tmp_path / "blob.txt"
    path.write_bytes(bytes(rng.choice(allowed) for _ in range(4096)))
    assert "binary" in _error(path)


def test_random_bytes_without_controls_are_not_indexed_as_garbage(tmp_path: Path) -> None:
    # Every byte is a printable cp1252 character, so only an encoding detector sees it is not text.
    rng = random.Random(2)
    printable = [*range(0x20, 0x7F), *range(0xA0, 0x100)]
    path = tmp_path / "ruis.txt"
    path.write_bytes(bytes(rng.choice(printable) for _ in range(4096)))
    message = _error(path)
    assert "ruis.txt" in message and "not text" in message


_DUTCH = "Coördinatie van terugkeer – “beleid” voor één café en financiële steun.\n\n" * 3


def test_one_bad_byte_in_utf8_keeps_the_other_accents(tmp_path: Path) -> None:
    head, tail = _DUTCH[:20], _DUTCH[20:]
    path = tmp_path / "beschadigd.txt"
    path.write_bytes(head.encode() + b"\xff" + tail.encode())
    text = load_path(path)[0].text
    assert text == head + "\ufffd" + tail
    assert "Ã" not in text  # no mojibake


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-16-le"])
def test_utf16_text_is_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "breed.txt"
    data = _DUTCH.encode(encoding)
    if encoding == "utf-16-be":  # with a byte-order mark, as Windows Notepad writes it
        data = b"\xfe\xff" + data
    path.write_bytes(data)
    assert load_path(path)[0].text == _DUTCH


def test_longer_cp1252_text_is_read_as_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "windows.txt"
    path.write_bytes(_DUTCH.encode("cp1252"))
    assert load_path(path)[0].text == _DUTCH


@pytest.mark.parametrize("content", [b"", b"  \n\t\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "leeg.txt"
    path.write_bytes(content)
    message = _error(path)
    assert "leeg.txt" in message
    assert "empty" in message


def test_empty_pdf_file(tmp_path: Path) -> None:
    path = tmp_path / "leeg.pdf"
    path.write_bytes(b"")
    assert "empty" in _error(path)


def test_missing_path(tmp_path: Path) -> None:
    message = _error(tmp_path / "bestaat-niet.pdf")
    assert "bestaat-niet.pdf" in message
    assert "no such file" in message


def test_unsupported_extension_given_explicitly(tmp_path: Path) -> None:
    path = tmp_path / "nota.docx"
    path.write_bytes(b"PK\x03\x04")
    message = _error(path)
    assert "nota.docx" in message
    assert ".docx is not supported" in message


def test_folder_loads_supported_files_in_sorted_order(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("B tekst", encoding="utf-8")
    (tmp_path / "a.md").write_text("# A titel\n\nA tekst", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    _pdf(tmp_path / "sub" / "c.pdf", ["C tekst"])
    (tmp_path / "C.TXT").write_text("hoofdletters", encoding="utf-8")
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\x00")
    (tmp_path / ".hidden.txt").write_text("verborgen", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("git", encoding="utf-8")
    docs = load_path(tmp_path)
    assert [Path(d.info.file).relative_to(tmp_path).as_posix() for d in docs] == [
        "C.TXT",
        "a.md",
        "b.txt",
        "sub/c.pdf",
    ]
    assert [d.kind for d in docs] == ["text", "markdown", "text", "text"]
    assert docs[1].info.title == "A titel"


def test_folder_with_a_bad_file_names_it(tmp_path: Path) -> None:
    (tmp_path / "goed.txt").write_text("tekst", encoding="utf-8")
    (tmp_path / "leeg.txt").write_bytes(b"")
    assert "leeg.txt" in _error(tmp_path)


def test_folder_without_supported_files(tmp_path: Path) -> None:
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    message = _error(tmp_path)
    assert ".txt, .md or .pdf" in message


def test_slug_and_short_title() -> None:
    assert slugify("Nota über Asiel  2024 (concept)") == "nota-uber-asiel-2024-concept"
    assert slugify("日本") == "document"
    title = "Mededeling over een nieuw migratie- en asielpact van de Europese Commissie"
    short = short_title(title)
    assert len(short) <= 40
    assert short.endswith("…")
    assert title.startswith(short[:-1])
    assert short_title("Kort") == "Kort"


def test_pypdf_loads_only_when_a_pdf_is_read(tmp_path: Path) -> None:
    # pypdf's import costs every CLI command; only reading a PDF may pay for it.
    text = tmp_path / "nota.txt"
    text.write_text("Tekst.", encoding="utf-8")
    pdf = _pdf(tmp_path / "nota.pdf", ["PDF tekst"])
    script = (
        "import sys\n"
        "from index.load import load_path\n"
        "import assistant.build, index.corpus, index.pipeline, ui.cli\n"
        f"load_path({str(text)!r})\n"
        "assert 'pypdf' not in sys.modules, 'pypdf imported without a PDF'\n"
        f"load_path({str(pdf)!r})\n"
        "assert 'pypdf' in sys.modules\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=60)
    assert done.returncode == 0, done.stderr
