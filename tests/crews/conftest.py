"""Fixtures of the crews' tests."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def registry(mlflow_http, monkeypatch):
    """An ``MlflowClient`` of the shared server (``MLFLOW_TRACKING_URI`` points at it); prompt
    ``crews.<crew>`` is ``crews.<crew>.t<random>`` for this test, so no other test's versions or aliases
    are seen."""
    from mlflow import MlflowClient

    from crews.tracking import prompts

    suffix = uuid.uuid4().hex[:10]
    monkeypatch.setattr(prompts, "prompt_name", lambda crew: f"crews.{crew}.t{suffix}")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_http)
    for name in ("CREWS_PROMPT_VERSION", "CREWS_PROMPT_ALIAS"):
        monkeypatch.delenv(name, raising=False)
    return MlflowClient(mlflow_http)
