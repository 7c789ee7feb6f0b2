"""Contract documents (Markdown, text, PDF, DOCX) split into clauses with stable ids.

A clause starts at a line that begins with its number (``8.2 Either party ...``,
``## 8. Termination``) and runs to the next numbered line. Its id is
``<contract_id>:<number>``: it comes from the numbering printed in the document,
so it does not move when text is added elsewhere. Text before the first number
is the ``preamble`` clause; a bare section heading (``## 9. Termination``,
``ARTICLE IX - TERMINATION``, ``CLAUSE 9 - TERMINATION``) is not a clause of its
own nor part of one, but the ``heading`` of the clauses under it; unnumbered
text right under an ``ARTICLE``/``CLAUSE`` heading is clause ``9``, never the
tail of the clause before. PDF text comes from pypdf, DOCX paragraphs from
python-docx.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from pydantic import BaseModel

from crews.errors import InputError

SUFFIXES = (".md", ".txt", ".pdf", ".docx")
MAX_DOCUMENT_BYTES = 5_000_000
# "ARTICLE V - VOLUME REBATES", "CLAUSE 4 - RENT AND PAYMENT", "Part 2: Fees": a heading, never clause text
_HEADING = re.compile(r"^\s*(?:#{1,6}\s*)?(?:ARTICLE|PART|CHAPTER|CLAUSE|SECTION|SCHEDULE)\s+"
                      r"([IVXLC]+|\d{1,3})\b\s*[.:\-–—]*\s*(?P<title>[^.]{0,80})$", re.IGNORECASE)
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def _section_number(token: str) -> str:
    """"V" -> "5", "12" -> "12"."""
    if token.isdigit():
        return token
    values = [_ROMAN[c] for c in token.upper()]
    return str(sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values)))


_NUMBERED = re.compile(r"^\s*(?:#{1,6}\s*)?(?:Section\s+|Clause\s+)?(\d{1,3}(?:\.\d{1,3}){0,3})\.?\s+(\S.*)$")


class ContractParseError(InputError):
    """A contract document that cannot be read or has no usable text."""


class Clause(BaseModel):
    contract_id: str
    clause_id: str
    number: str
    heading: str = ""
    text: str

    @property
    def section(self) -> str:
        return self.number.split(".")[0]


class Contract(BaseModel):
    contract_id: str
    source: str
    format: str
    title: str
    clauses: list[Clause]

    def clause(self, clause_id: str) -> Clause | None:
        return next((c for c in self.clauses if c.clause_id == clause_id), None)


def read_text(path: Path) -> str:
    """The document's text, one paragraph or line per line."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ContractParseError(f"{path.name}: unsupported format {suffix!r}; "
                                 f"use one of {', '.join(SUFFIXES)}")
    if not path.is_file():
        raise ContractParseError(f"{path}: no such file")
    if path.stat().st_size > MAX_DOCUMENT_BYTES:
        raise ContractParseError(f"{path.name}: larger than {MAX_DOCUMENT_BYTES} bytes")
    if suffix == ".pdf":
        return _pdf_text(path)
    if suffix == ".docx":
        return _docx_text(path)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ContractParseError(f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, OSError) as exc:
        raise ContractParseError(f"{path.name}: not a readable PDF ({exc})") from exc


def _docx_text(path: Path) -> str:
    from zipfile import BadZipFile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    except (BadZipFile, KeyError, ValueError, PackageNotFoundError) as exc:
        raise ContractParseError(f"{path.name}: not a readable DOCX file ({exc})") from exc


def split_clauses(contract_id: str, text: str) -> tuple[str, list[Clause]]:
    """(title, clauses) of a document's text; see the module docstring."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    lines = [line.lstrip("#").strip() if line.startswith("#") and not _NUMBERED.match(line) else line
             for line in lines]
    content = [line for line in lines if line]
    if not content:
        raise ContractParseError(f"{contract_id}: the document has no text (a scanned PDF needs OCR first)")
    title, blocks, current = content[0], [], ["preamble", []]
    article_headings: dict[str, str] = {}
    for line in content[1:]:
        heading = _HEADING.match(line)
        if heading and not _NUMBERED.match(line) or heading and heading.group(1).isalpha():
            number = _section_number(heading.group(1))
            article_headings[number] = heading.group("title").strip() or line
            # unnumbered text under the heading is clause <number> ("CLAUSE 17 - NOTICES")
            blocks.append(current)
            current = [number, []]
            continue
        match = _NUMBERED.match(line)
        if match:
            blocks.append(current)
            current = [match.group(1), [match.group(2)]]
        else:
            current[1].append(line)
    blocks.append(current)
    clauses: list[Clause] = []
    headings: dict[str, str] = {}
    seen: set[str] = set()
    for number, body in blocks:
        if not body or number in seen:
            continue  # an empty preamble, or a number printed twice (the first one keeps the id)
        seen.add(number)
        joined = " ".join(body)
        if number.isdigit() and len(body) == 1 and len(joined) < 80 and not joined.endswith("."):
            headings[number] = joined  # "8. Termination": a section heading, attached to its clauses
            continue
        clauses.append(Clause(contract_id=contract_id, clause_id=f"{contract_id}:{number}", number=number,
                              text=joined))
    headings = article_headings | headings
    for clause in clauses:
        clause.heading = headings.get(clause.section, "") if clause.number != clause.section else \
            article_headings.get(clause.number, "")
    return title, clauses


def parse_contract(path: Path, contract_id: str | None = None) -> Contract:
    """Read and split one contract document; raises :class:`ContractParseError`. A document parsed before in
    this process (same path, size and modification time) is not read again: a fan-out asks one contract many
    questions."""
    stat = path.stat()
    return _parsed(path, contract_id or path.stem, stat.st_size, stat.st_mtime_ns).model_copy(deep=True)


@functools.lru_cache(maxsize=16)
def _parsed(path: Path, contract_id: str, _size: int, _mtime_ns: int) -> Contract:
    title, clauses = split_clauses(contract_id, read_text(path))
    if not any(c.number != "preamble" for c in clauses):
        raise ContractParseError(f"{path.name}: no numbered clauses found "
                                 "(expected lines like '8.2 Either party ...')")
    return Contract(contract_id=contract_id, source=path.name, format=path.suffix.lower().lstrip("."),
                    title=title, clauses=clauses)
