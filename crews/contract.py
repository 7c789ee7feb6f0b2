"""What a crew is: one class per crew, driven alike by the runner, the CLI, the evaluation and the Airflow
door.

A crew's :attr:`CrewContract.request_model` is the one definition of an item as a user writes it: the
DAG's trigger form and the REST API validate against its JSON Schema (:meth:`CrewContract.request_schema`),
the CLI and the crew validate with the model itself. Modules defining a contract import only pydantic
models at top level, so a DAG file may read a contract while it is parsed.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field

# item, contract and connection ids: safe in file names, task and run names
ID_PATTERN = r"^[A-Za-z0-9_.\-]+$"
ItemId = Annotated[str, Field(min_length=1, max_length=200, pattern=ID_PATTERN)]


class CrewContract(ABC):
    """One crew: its input and output models, ids, prompts, metrics, review wording and publish hook."""

    name: ClassVar[str]
    request_model: ClassVar[type[BaseModel]]  # one item as a user writes it
    output_model: ClassVar[type[BaseModel]]
    id_field: ClassVar[str]  # the request field that names an item ("draft_id")
    items_param: ClassVar[str]  # the DAG Param that holds the items ("drafts")
    noun: ClassVar[str]  # what a reviewer decides on ("copy")
    decision_help: ClassVar[str]  # what Accept and Reject do, shown on the review page
    review_settings: ClassVar[frozenset[str]] = frozenset({"min_score"})  # keys of include/review.yaml
    schemas: ClassVar[dict[str, type[BaseModel]]] = {}  # documents published by `python -m crews schema`

    @property
    def config_dir(self) -> Path:
        """The crew's ``config/`` folder (YAML prompts), beside the module that defines the contract."""
        return Path(inspect.getfile(type(self))).parent / "config"

    @property
    def item_kind(self) -> str:
        """One item's name in messages: ``draft`` for ``draft_id``."""
        return self.id_field.removesuffix("_id")

    @classmethod
    def request_schema(cls) -> dict[str, Any]:
        """JSON Schema of one request item for Airflow's Params: references inlined and optional fields as
        ``type: [..., "null"]``, so a validation error names the field (not a branch of an ``anyOf``)."""
        return _nullable_types(inline_refs(cls.request_model.model_json_schema()))

    def request_id(self, request: dict[str, Any]) -> str:
        """The id of a request item before it is loaded (``?`` when it has none)."""
        return str(request.get(self.id_field, "?")) if isinstance(request, dict) else "?"

    def expand(self, requests: list[dict[str, Any]], **options: Any) -> list[dict[str, Any]]:
        """The crew items of a run's request items (one each, unless a crew fans a request out)."""
        return requests

    @abstractmethod
    def load_input(self, payload: dict[str, Any], base_dir: Path | None = None) -> BaseModel:
        """The validated input of one item, files read; raises :class:`crews.errors.InputError`."""

    @abstractmethod
    def item_id(self, item: Any) -> str:
        """The id of a loaded item (MLflow run name, result row key, review subject)."""

    @abstractmethod
    def run(self, item: Any, llm: Any) -> BaseModel:
        """Run the crew on one loaded item with ``llm``."""

    @abstractmethod
    def metrics(self, result: Any) -> dict[str, float]:
        """The result's MLflow metrics."""

    @abstractmethod
    def summary(self, result: Any) -> dict[str, Any]:
        """One result-table row: ``item_id``, ``status``, ``passed``, ``needs_review``,
        ``review_reasons``..."""

    @abstractmethod
    def score(self, result: Any, expected: dict[str, Any]) -> dict[str, float]:
        """Scores of a result against a golden record's expectations (:mod:`crews.evaluation`)."""

    def artifacts(self, result: Any) -> dict[str, Any]:
        """Extra JSON files for the item's MLflow run (name -> JSON-able value)."""
        return {}

    def text_to_publish(self, result: dict[str, Any], review: dict[str, Any], status: str) -> str | None:
        """The text an approved result publishes (None: the crew publishes no text)."""
        return None

    def review_sections(self, result: dict[str, Any]) -> list[str]:
        """The Markdown sections that show a stored result on its review page (escaped with
        :mod:`crews.markdown`; empty: the page lists the run's summary)."""
        return []


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every ``{"$ref": "#/$defs/X"}`` replaced by ``X`` (pydantic models here are not
    recursive)."""
    defs = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target = resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
                return target | {k: resolve(v) for k, v in node.items() if k != "$ref"}
            return {k: resolve(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)


def _nullable_types(node: Any) -> Any:
    """Pydantic's ``anyOf: [{type: T, ...}, {type: null}]`` as ``{type: [T, null], ...}`` (and ``anyOf`` of
    bare types as one list of types), recursively."""
    if isinstance(node, list):
        return [_nullable_types(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _nullable_types(v) for k, v in node.items()}
    members = node.get("anyOf")
    if not members or not all(isinstance(m, dict) and isinstance(m.get("type"), str) for m in members):
        return node
    rest = [m for m in members if m["type"] != "null"]
    bare = all(set(m) - {"additionalProperties"} == {"type"} and m.get("additionalProperties", True) is True
               for m in rest)
    if len(rest) == 1:
        merged = rest[0]
    elif bare:
        merged = {}
    else:
        return node
    types = [m["type"] for m in rest] + (["null"] if len(rest) < len(members) else [])
    return ({k: v for k, v in node.items() if k != "anyOf"} | merged
            | {"type": types if len(types) > 1 else types[0]})
