"""One prompt version read from an MLflow tracking server over its REST API, without importing MLflow.

A crew item needs its prompt text before its first LLM call. Importing MLflow for that
costs seconds inside the task's LLM pool slot, while the model waits; two GET requests
(``registered-models/alias`` or ``model-versions/get``) cost milliseconds. MLflow's own
settings for the server are honoured: ``MLFLOW_TRACKING_TOKEN`` (bearer),
``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD`` (basic) and
``MLFLOW_TRACKING_INSECURE_TLS``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import httpx

IS_PROMPT_TAG = "mlflow.prompt.is_prompt"  # MLflow's prompt tags (mlflow/prompt/constants.py)
TEXT_TAG = "mlflow.prompt.text"
TYPE_TAG = "_mlflow_prompt_type"
TIMEOUT_S = 5.0
MISSING_CODES = {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"}  # "no such ..." errors


class RegistryUnreachable(RuntimeError):
    """The server did not answer, or answered with an error that says nothing about the prompt."""


class NotInRegistry(LookupError):
    """The server says the prompt, version or alias does not exist."""


@dataclass(frozen=True)
class RestPromptVersion:
    """The fields of MLflow's ``PromptVersion`` that serving reads."""

    name: str
    version: str
    template: str | list[Any]
    tags: dict[str, str] = field(default_factory=dict)


def _auth() -> dict[str, Any]:
    options: dict[str, Any] = {"verify": os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() != "true"}
    if os.environ.get("MLFLOW_TRACKING_TOKEN"):
        options["headers"] = {"Authorization": f"Bearer {os.environ['MLFLOW_TRACKING_TOKEN']}"}
    elif os.environ.get("MLFLOW_TRACKING_USERNAME"):
        options["auth"] = (os.environ["MLFLOW_TRACKING_USERNAME"],
                           os.environ.get("MLFLOW_TRACKING_PASSWORD", ""))
    return options


def _tags(entity: dict[str, Any]) -> dict[str, str]:
    """An entity's tags, from the REST API's list of key/value pairs."""
    return {tag["key"]: tag.get("value", "") for tag in entity.get("tags", [])}


def _get(uri: str, endpoint: str, params: dict[str, str]) -> dict[str, Any]:
    url = f"{uri.rstrip('/')}/api/2.0/mlflow/{endpoint}"
    try:
        with httpx.Client(timeout=TIMEOUT_S, **_auth()) as client:
            response = client.get(url, params=params)
    except httpx.HTTPError as exc:
        raise RegistryUnreachable(f"MLflow server {uri} unreachable: {type(exc).__name__}") from exc
    if response.status_code == 200:
        return response.json()
    try:
        code = response.json().get("error_code", "")
    except ValueError:
        code = ""
    if code in MISSING_CODES:
        raise NotInRegistry(code)
    raise RegistryUnreachable(f"MLflow server {uri} answered {response.status_code} to {endpoint}")


def fetch_version(uri: str, name: str, *, version: str | None = None, alias: str | None = None
                  ) -> RestPromptVersion:
    """Version ``version`` (or the one ``alias`` points at) of prompt ``name``.

    Raises :class:`NotInRegistry` when it does not exist (or ``name`` is a model, not a
    prompt) and :class:`RegistryUnreachable` when the server cannot answer.
    """
    if version is not None:
        body = _get(uri, "model-versions/get", {"name": name, "version": str(version)})
    else:
        body = _get(uri, "registered-models/alias", {"name": name, "alias": str(alias)})
    found = body.get("model_version") or {}
    tags = _tags(found)
    if IS_PROMPT_TAG not in tags or TEXT_TAG not in tags:
        raise NotInRegistry(f"{name} is not a prompt")
    text = tags[TEXT_TAG]
    template = json.loads(text) if tags.get(TYPE_TAG) == "chat" else text
    return RestPromptVersion(name=found.get("name", name), version=str(found.get("version", version)),
                             template=template, tags=tags)


def prompt_exists(uri: str, name: str) -> bool:
    """Whether prompt ``name`` is registered."""
    try:
        body = _get(uri, "registered-models/get", {"name": name})
    except NotInRegistry:
        return False
    return IS_PROMPT_TAG in _tags(body.get("registered_model", {}))
