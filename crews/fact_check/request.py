"""One draft as a user sends it (trigger form, REST ``conf``, CLI file): the crew's one input definition."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crews.contract import ItemId

MAX_COPY_CHARS = 20_000


class DraftRequest(BaseModel):
    """A marketing draft and the fact sheet it must agree with, inline or as files under
    include/fact_check/."""

    model_config = ConfigDict(
        extra="forbid", title="Draft",
        json_schema_extra={"oneOf": [{"required": ["copy_text"]}, {"required": ["copy_file"]}]},
    )

    draft_id: ItemId = Field(title="Draft id",
                          description="names the draft's task, MLflow run and result row")
    copy_text: str | None = Field(None, min_length=1, max_length=MAX_COPY_CHARS, title="Copy",
                                  description="the marketing copy (or copy_file)")
    copy_file: str | None = Field(None, min_length=1, title="Copy file",
                                  description="a UTF-8 file under include/fact_check/ (or copy_text)")
    fact_sheet: dict[str, Any] | str | None = Field(
        None, title="Fact sheet",
        description="the approved facts: an object (docs/fact_sheets.md) or plain 'Key: value' lines")
    fact_sheet_file: str | None = Field(None, min_length=1, title="Fact sheet file",
                                        description="a YAML or 'Key: value' file under include/fact_check/")

    @field_validator("fact_sheet", mode="before")
    @classmethod
    def _sheet_kind(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, dict | str):
            raise ValueError(f"must be an object or 'Key: value' text, got {type(value).__name__}")
        return value

    @model_validator(mode="after")
    def _one_source_each(self) -> DraftRequest:
        if (self.copy_text is None) == (self.copy_file is None):
            raise ValueError("give either copy_text or copy_file, not both or neither")
        if self.fact_sheet is not None and self.fact_sheet_file is not None:
            raise ValueError("give either fact_sheet or fact_sheet_file, not both")
        return self
