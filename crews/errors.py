"""Errors a user can act on."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


class InputError(ValueError):
    """An input item or its files are invalid; the message names the problem."""


def validate_item(model: type[Model], payload: Any, kind: str, id_field: str) -> Model:
    """``model`` from a JSON object, or an :class:`InputError` naming the item and every bad field."""
    if not isinstance(payload, dict):
        raise InputError(f"a {kind} must be a JSON object, got {type(payload).__name__}")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or kind}: {e['msg']}" for e in exc.errors())
        raise InputError(f"{kind} {payload.get(id_field, '?')!r} is invalid: {problems}") from exc
