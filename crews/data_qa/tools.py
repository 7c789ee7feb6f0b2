"""The data-QA crew's CrewAI tool: profile a table of the dataset with read-only queries.

The pipeline calls it on every dataset (:func:`crews.data_qa.pipeline.run`); an analyst whose LLM
calls tools natively may profile the declared table, or another table of the same source (a foreign
key's parent, say), itself. The queries are aggregates and one bounded sample through a read-only
connection (:mod:`crews.data_qa.profiler`, :mod:`crews.readonly_db`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field, PrivateAttr
from sqlalchemy import Engine

from crews.data_qa.profiler import findings, profile_table
from crews.data_qa.request import DatasetSpec
from crews.data_qa.schemas import Finding, TableProfile
from crews.readonly_db import readonly_engine
from crews.runtime.tools import CrewTool, ToolResult


class ProfileArgs(BaseModel):
    table: str | None = Field(default=None, min_length=1, max_length=200,
                              description="the table to profile (default: the dataset's own table)")


class TableCheck(ToolResult):
    """A table's profile and what the dataset's declared rules find in it."""

    profile: TableProfile
    findings: list[Finding]


class ProfileTableTool(CrewTool):
    """Row count, per-column nulls, distinct values, ranges and rule violations of one table."""

    name: str = "profile_table"
    description: str = ("Profile a table of the dataset: row count, and per column its type, nulls, distinct "
                        "values and range, plus the problems the dataset's declared rules find. Without a "
                        "table, the dataset's own table.")
    args_schema: type[BaseModel] = ProfileArgs
    spec: DatasetSpec
    now: datetime = Field(default_factory=lambda: datetime.now(UTC))
    _engine: Engine | None = PrivateAttr(default=None)

    def _run(self, table: str | None = None) -> TableCheck:
        spec = self.spec
        if table and table != spec.table:  # another table of the source: profiled, no rules of its own
            spec = DatasetSpec.model_validate(
                spec.model_dump() | {"table": table, "key_columns": [], "columns": {}, "foreign_keys": []})
        if self._engine is None:
            self._engine = readonly_engine(self.spec.url, self.spec.files)
        profile = profile_table(self._engine, spec, now=self.now)
        return TableCheck(profile=profile, findings=findings(profile, spec))
