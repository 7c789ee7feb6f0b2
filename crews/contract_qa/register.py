"""The contract register: fixed, parameterised lookups over a read-only connection.

The model never writes SQL. It may only name fields from :data:`FIELDS`; the
query is built here with SQLAlchemy Core (bound parameters) and runs on a
connection that refuses anything but queries (:mod:`crews.readonly_db`).
"""

from __future__ import annotations

from typing import Any, get_args

from sqlalchemy import Column, MetaData, RowMapping, Select, String, Table, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from crews.contract_qa.schemas import RegisterField
from crews.errors import InputError
from crews.readonly_db import readonly_engine

FIELDS: tuple[str, ...] = get_args(RegisterField)


# How each field reads in an answer.
FIELD_LABELS: dict[str, str] = {
    "counterparty": "counterparty", "contract_type": "contract type", "value_eur": "total contract value",
    "start_date": "start date", "end_date": "end of the initial term", "auto_renewal": "renews automatically",
    "notice_days": "notice in days", "governing_law": "governing law",
}

# Words that point at a register field; the router adds a field the model missed when its word appears.
FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "counterparty": ("counterparty", "other party", "who is the"),
    "contract_type": ("type of contract", "kind of contract"),
    "value_eur": ("contract value", "total value", "value of the", "worth"),
    "start_date": ("start", "begin", "commence"),
    "end_date": ("end date", "expire", "expiry", "end?", "does it end"),
    "auto_renewal": ("renew",),
    "notice_days": ("notice",),
    "governing_law": ("governing law", "governs", "governed", " law"),
}


# Looser words, read only in a question that names the register itself ("what euro value does the register
# give").
REGISTER_WORDS: dict[str, tuple[str, ...]] = {"value_eur": ("value",),
                                              "counterparty": ("counterparty", "party")}


def fields_named_in(question: str, about_register: bool = False) -> list[str]:
    """Register fields a question names by one of their :data:`FIELD_WORDS` (and, in a question about the
    register itself, :data:`REGISTER_WORDS`)."""
    text = question.lower()
    named = [field for field, words in FIELD_WORDS.items() if any(word in text for word in words)]
    if about_register and not named:
        named = [field for field, words in REGISTER_WORDS.items() if any(word in text for word in words)]
    return named


class RegisterError(InputError):
    """The register cannot be read, or a lookup asked for something it does not offer."""


class ContractRegister:
    """Read-only access to the ``contracts`` table through two fixed queries."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = readonly_engine(url)
        self._table = Table("contracts", MetaData(), Column("contract_id", String, primary_key=True),
                            Column("document", String), *(Column(f) for f in FIELDS))

    def lookup(self, contract_id: str, fields: list[str] | tuple[str, ...] = FIELDS) -> dict[str, Any] | None:
        """The requested fields of one contract (None when the register has no such contract)."""
        unknown = [f for f in fields if f not in FIELDS]
        if unknown:
            raise RegisterError(f"unknown register field(s) {unknown}; allowed: {', '.join(FIELDS)}")
        if not isinstance(contract_id, str):
            raise RegisterError("contract_id must be a string")
        columns = [self._table.c[f] for f in (fields or FIELDS)]
        row = self._first(select(*columns).where(self._table.c.contract_id == contract_id))
        return dict(row) if row else None

    def document(self, contract_id: str) -> str | None:
        """The document file the register lists for a contract."""
        row = self._first(select(self._table.c.document).where(self._table.c.contract_id == contract_id))
        return row["document"] if row else None

    def _first(self, query: Select) -> RowMapping | None:
        try:
            with self._engine.connect() as conn:
                return conn.execute(query).mappings().first()
        except SQLAlchemyError as exc:
            shown = make_url(self.url).render_as_string(hide_password=True)
            raise RegisterError(f"contract register {shown!r} cannot be read: "
                                f"{exc.__class__.__name__}") from exc

def format_fact(field: str, value: Any) -> str:
    """A register value as evidence text: whole amounts without decimals, flags as yes/no."""
    if field == "auto_renewal":
        return "yes" if value else "no"
    if field == "value_eur" and isinstance(value, (int, float)):
        return f"EUR {value:,.0f}" if float(value).is_integer() else f"EUR {value:,.2f}"
    return "" if value is None else str(value)
