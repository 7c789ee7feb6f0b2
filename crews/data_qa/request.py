"""One dataset declaration as a user writes it (trigger form, REST ``conf``, CLI file): the crew's one input
definition."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crews.contract import ID_PATTERN, ItemId
from crews.user_patterns import MAX_LENGTH, compile_user_pattern

FILE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".parquet", ".pq")
# "scheme://user:password@": a URL that carries a password (a JSON-Schema pattern)
PASSWORD_IN_URL = "^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@]*:[^/?#@]*@"

PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"),
    "date": re.compile(r"^\d{4}-\d{2}-\d{2}"),
    "uuid": re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
}


class ColumnRule(BaseModel):
    """What a column must satisfy (declared per dataset)."""

    model_config = ConfigDict(extra="forbid")

    pattern: Literal["email", "date", "uuid"] | None = None
    regex: str | None = Field(default=None, max_length=MAX_LENGTH,
                              description="custom format (RE2 syntax, run in linear time), e.g. ids: "
                                          "^SKU-[0-9]{5}$")
    min: float | None = None
    max: float | None = None
    not_null: bool = False
    not_negative: bool = False
    not_future: bool = False
    max_age_hours: float | None = Field(default=None, gt=0,
                                        description="freshness: newest value at most this old")

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            compile_user_pattern(value)  # a PatternError names the problem
        return value

    def format_check(self) -> tuple[str, Any] | None:
        """(name, compiled pattern) of the declared format, if any; a user's regex runs on RE2."""
        if self.regex:
            return f"the pattern {self.regex}", compile_user_pattern(self.regex)
        if self.pattern:
            return f"the {self.pattern} format", PATTERNS[self.pattern]
        return None


class ForeignKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column: str
    ref_table: str
    ref_column: str


class DatasetSpec(BaseModel):
    """One dataset to check: where it is and what it must satisfy."""

    model_config = ConfigDict(
        extra="forbid", title="Dataset",
        json_schema_extra={"oneOf": [{"required": ["url"]}, {"required": ["files"]},
                                     {"required": ["conn_id"]}]},
    )

    dataset_id: ItemId = Field(title="Dataset id")
    # A password in conf would be kept in clear in the Airflow DB and logs: the trigger form and the REST API
    # refuse one (HTTP 400, quoting the description: kept short so it prints on one line). The crew itself
    # accepts it: the DAG resolves conn_id into such a URL in memory.
    url: str | None = Field(default=None, min_length=1,
                            description="SQLAlchemy URL, no password in a URL: use conn_id",
                            json_schema_extra={"not": {"pattern": PASSWORD_IN_URL}})
    conn_id: str | None = Field(default=None, pattern=ID_PATTERN, max_length=250,
                                description="Airflow connection of the database (postgres, mysql, sqlite, "
                                            "duckdb); resolved by the DAG's crew task")
    files: dict[str, str] = Field(
        default_factory=dict, description="table name -> CSV or Parquet file, queried through DuckDB"
    )
    table: str
    key_columns: list[str] = Field(default_factory=list)
    columns: dict[str, ColumnRule] = Field(default_factory=dict)
    foreign_keys: list[ForeignKey] = Field(default_factory=list)
    sample_limit: int = Field(default=10_000, gt=0, le=1_000_000)
    baseline: str | None = Field(default=None, description="file with the previous profile (schema drift)")

    @field_validator("files")
    @classmethod
    def _file_tables(cls, files: dict[str, str]) -> dict[str, str]:
        for name, path in files.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ValueError(f"table name {name!r} must be a plain identifier")
            if not path.lower().endswith(FILE_SUFFIXES):
                raise ValueError(f"{path!r} is not a CSV or Parquet file ({', '.join(FILE_SUFFIXES)})")
        return files

    @model_validator(mode="after")
    def _one_source(self) -> DatasetSpec:
        if sum(map(bool, (self.url, self.files, self.conn_id))) != 1:
            raise ValueError("give one of url (a database), conn_id (an Airflow connection) or files "
                             "(CSV/Parquet), not several or none")
        if self.files and self.table not in self.files:
            raise ValueError(f"table {self.table!r} is not one of the files: {', '.join(self.files)}")
        return self
