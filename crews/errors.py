"""Errors a user can act on."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


class InputError(ValueError):
    """An input item or its files are invalid; the message names the problem (not retried)."""


class BudgetExceeded(RuntimeError):
    """A run or task budget is spent; ``started`` says whether the item had begun."""

    def __init__(self, message: str, started: bool) -> None:
        super().__init__(message)
        self.started = started


class SourceUnavailableError(ConnectionError):
    """A data source named by a valid input could not be reached; may be transient, so it is retried."""


def _problem(model: type[BaseModel], error: dict[str, Any]) -> str:
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown field"
        if len(error["loc"]) == 1:
            message += f" (allowed: {', '.join(model.model_fields)})"
    elif error["type"] == "value_error":
        message = message.removeprefix("Value error, ")
    elif error["type"].endswith("_type") and "input" in error:
        message += f", got {type(error['input']).__name__}"
    return message


def validate_item(model: type[Model], payload: Any, kind: str, id_field: str) -> Model:
    """``model`` from a JSON object, or an :class:`InputError` naming the item and every bad field."""
    if not isinstance(payload, dict):
        raise InputError(f"a {kind} must be a JSON object, got {type(payload).__name__}")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or kind}: {_problem(model, e)}"
                             for e in exc.errors())
        raise InputError(f"{kind} {payload.get(id_field, '?')!r} is invalid: {problems}") from exc
