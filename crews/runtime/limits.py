"""Cost-control settings: the response cache scope and token/USD budgets (``include/limits.yaml``)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crews.paths import INCLUDE_DIR

LIMITS_FILE = INCLUDE_DIR / "limits.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limit(_Strict):
    """A spending limit; ``None`` means unlimited."""

    tokens: int | None = Field(default=None, gt=0)
    usd: float | None = Field(default=None, gt=0)


class Budget(_Strict):
    per_run: Limit = Limit()
    per_task: Limit = Limit()


class CacheSettings(_Strict):
    scope: Literal["task_instance", "dag", "off"] = "task_instance"
    expire_days: float = Field(default=7, gt=0)


class Limits(_Strict):
    response_cache: CacheSettings = CacheSettings()
    budgets: dict[str, Budget] = {}

    def budget_for(self, dag_id: str | None) -> Budget:
        """The DAG's budget, else ``default``, else unlimited."""
        return self.budgets.get(dag_id or "", self.budgets.get("default", Budget()))


@lru_cache(maxsize=4)
def _load(path: Path) -> Limits:
    try:
        return Limits.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ValueError(f"limits file {path} is invalid: {exc}") from exc


def load_limits(path: Path | None = None) -> Limits:
    """The configured limits (``CREWS_LIMITS_FILE`` or include/limits.yaml)."""
    return _load(Path(path or os.environ.get("CREWS_LIMITS_FILE") or LIMITS_FILE))
