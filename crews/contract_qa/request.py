"""One question as a user sends it (trigger form, REST ``conf``, CLI file): the crew's one input definition.

A question names its contract (``contract_id``), several (``contract_ids``), or none (it is then asked of the
run's ``contracts``); the crew answers one (contract, question) pair per item.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from crews.contract import ItemId
from crews.text_safety import refuse_control_characters


class QuestionRequest(BaseModel):
    """A question about one or more contracts."""

    model_config = ConfigDict(extra="forbid", title="Question")

    question_id: ItemId = Field(title="Question id", description="names the question's tasks and result rows")
    question: str = Field(min_length=3, max_length=2000, title="Question")
    contract_id: ItemId | None = Field(None, title="Contract", description="the contract asked")
    contract_ids: list[ItemId] | None = Field(None, max_length=100, title="Contracts",
                                           description="several contracts asked the same question")
    document: str | None = Field(None, min_length=1, title="Document",
                                 description="the contract file (default: the register's, else "
                                             "include/contract_qa/contracts/<contract_id>.*)")
    # Set by the DAG from the register_conn_id Param (or by a CLI question set): never part of conf.
    register_url: SkipJsonSchema[str | None] = None

    @field_validator("question")
    @classmethod
    def _printable(cls, value: str) -> str:
        return refuse_control_characters(value)

    @model_validator(mode="after")
    def _one_way_to_name_contracts(self) -> QuestionRequest:
        if self.contract_id and self.contract_ids:
            raise ValueError("give contract_id or contract_ids, not both")
        return self
