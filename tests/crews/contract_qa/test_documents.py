from pathlib import Path

import pytest

from crews.contract_qa.documents import ContractParseError, parse_contract, split_clauses
from crews.paths import INCLUDE_DIR

CONTRACTS = INCLUDE_DIR / "contract_qa" / "contracts"


@pytest.mark.parametrize("name", ["northwind_msa.md", "helios_nda.txt", "orbital_supply.pdf",
                                  "vega_lease.docx"])
def test_every_format_parses_into_numbered_clauses(name):
    contract = parse_contract(CONTRACTS / name)
    numbers = [c.number for c in contract.clauses]
    assert numbers[0] == "preamble" and len(numbers) > 20 and len(set(numbers)) == len(numbers)
    assert all(c.clause_id == f"{contract.contract_id}:{c.number}" for c in contract.clauses)
    assert all(c.heading for c in contract.clauses[1:]), "every numbered clause sits under a section heading"
    assert contract.format == name.rsplit(".", 1)[1]


def test_pdf_clause_text_is_whole():
    contract = parse_contract(CONTRACTS / "orbital_supply.pdf")
    clause = contract.clause("orbital_supply:2.1")
    assert clause.heading == "Term and Renewal"
    assert clause.text == ("This Agreement commences on 1 July 2023 and continues for an initial term of "
                           "4 years ending on 30 June 2027.")


def test_clause_ids_are_stable_when_text_is_added():
    before = "T\nPreamble.\n## 1. Fees\n1.1 Pay in 30 days.\n1.2 Interest 5%.\n"
    after = ("T\nPreamble, now longer.\nA new paragraph.\n## 1. Fees\n1.1 Pay in 30 days.\nmore text\n"
             "1.2 Interest 5%.\n")
    ids = lambda text: {c.clause_id: c.text for c in split_clauses("k", text)[1]}  # noqa: E731
    assert set(ids(before)) == set(ids(after)) == {"k:preamble", "k:1.1", "k:1.2"}
    assert ids(after)["k:1.1"] == "Pay in 30 days. more text"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "has no text"),
        ("latin1.txt", "Vertrag \u00fcber".encode("latin-1"), "not UTF-8"),
        ("plain.md", b"Title\nJust prose, no numbered clauses.\n", "no numbered clauses"),
        ("fake.pdf", b"not a pdf", "not a readable PDF"),
        ("fake.docx", b"not a zip", "not a readable DOCX"),
        ("sheet.xlsx", b"x", "unsupported format"),
    ],
)
def test_unreadable_documents_are_refused_by_name(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ContractParseError, match=message):
        parse_contract(path)


def test_pdf_without_text_asks_for_ocr(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)  # a drawing, no text: what a scan looks like to a text extractor
    pdf.output(str(tmp_path / "scan.pdf"))
    with pytest.raises(ContractParseError, match="OCR"):
        parse_contract(Path(tmp_path / "scan.pdf"))


def test_article_and_clause_headings_are_headings_not_clause_text():
    from crews.contract_qa.documents import split_clauses

    text = ("Supply Agreement\nThe Parties agree as follows:\nARTICLE V - VOLUME REBATES\n"
            "Section 5.1 Buyer earns a rebate of 2.0%.\nCLAUSE 6 - TERM\nClause 6.1 The term is two years.\n")
    _, clauses = split_clauses("s", text)
    assert [(c.number, c.heading, c.text) for c in clauses] == [
        ("preamble", "", "The Parties agree as follows:"),
        ("5.1", "VOLUME REBATES", "Buyer earns a rebate of 2.0%."),
        ("6.1", "TERM", "The term is two years."),
    ]


def test_unnumbered_text_under_a_clause_heading_is_that_clause():
    text = ("LEASE\n\nTHIS LEASE is made between A and B.\n\nCLAUSE 16 - FORFEITURE\n\n16.1 If any Rent "
            "remains unpaid 21 days after it is due, the Landlord may re-enter.\n\nCLAUSE 17 - QUIET "
            "ENJOYMENT\n\nSo long as the Tenant pays the Rent, it may peaceably enjoy the Premises.\n\n"
            "CLAUSE 18 - NOTICES\n\nAny notice shall be in writing.\n")
    _, clauses = split_clauses("lease", text)
    by_id = {c.number: c for c in clauses}
    assert by_id["16.1"].text == ("If any Rent remains unpaid 21 days after it is due, the Landlord may "
                                  "re-enter.")
    assert (by_id["17"].text.startswith("So long as the Tenant pays the Rent")
            and by_id["17"].heading == "QUIET ENJOYMENT")
    assert by_id["18"].text == "Any notice shall be in writing." and "16" not in by_id
