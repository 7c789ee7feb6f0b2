"""Persistent LLM response cache scoped to one Airflow task instance: retries do not re-pay.

A request is keyed on its scope (``dag_id/run_id/task_id/map_index`` by default, plus
``/item_id`` when the task runs several items) and its provider, model, messages,
parameters and output schema. Entries are written as soon as an answer arrives
(diskcache commits each write to SQLite), so a task killed mid-crew still keeps the
calls it finished.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from crews.paths import state_dir
from crews.runtime.limits import CacheSettings
from crews.runtime.tracked_llm import Completion

log = logging.getLogger(__name__)


def runs_several_items(context: dict[str, Any]) -> bool:
    """Whether the task instance runs several items in turn (``items_per_task``): each item then has a cache
    scope and a ``per_task`` budget key of its own."""
    return (context.get("items_in_task") or 1) > 1


def cache_scope(context: dict[str, Any], scope: str, item_id: str | None = None) -> str | None:
    """The cache partition for a run, or ``None`` (no caching: CLI runs, or scope ``off``)."""
    if scope == "off" or not context.get("dag_id"):
        return None
    if scope == "dag":
        return str(context["dag_id"])
    task_instance = "/".join(str(context.get(k)) for k in ("dag_id", "run_id", "task_id", "map_index"))
    return f"{task_instance}/{item_id}" if runs_several_items(context) else task_instance


class ResponseCache:
    """``get``/``put`` completions for canonicalised requests within one scope."""

    def __init__(self, scope: str, directory: Path | None = None, expire_s: float | None = None) -> None:
        import diskcache

        self.scope = scope
        self.expire_s = expire_s
        self.hits = 0
        self.misses = 0
        self._cache = diskcache.Cache(str(directory or state_dir() / "llm_cache"), timeout=30)

    @classmethod
    def for_context(cls, context: dict[str, Any], settings: CacheSettings,
                    item_id: str | None = None) -> ResponseCache | None:
        scope = cache_scope(context, settings.scope, item_id)
        return cls(scope, expire_s=settings.expire_days * 86400) if scope else None

    def key(self, request: dict[str, Any]) -> str:
        """``<scope>|<sha256 of the request>``: readable per task instance, opaque per request."""
        body = json.dumps(request, sort_keys=True, default=str, ensure_ascii=False)
        return f"{self.scope}|{hashlib.sha256(body.encode()).hexdigest()}"

    def entries(self) -> int:
        """How many answers this scope holds."""
        return sum(1 for key in self._cache.iterkeys() if str(key).startswith(f"{self.scope}|"))

    def get(self, request: dict[str, Any]) -> Completion | None:
        try:
            stored = self._cache.get(self.key(request))
        except Exception as exc:  # a broken cache must never fail the crew
            log.warning("LLM response cache unreadable (%s); calling the model", exc)
            stored = None
        if stored is None:
            self.misses += 1
            return None
        self.hits += 1
        return Completion(**stored)

    def put(self, request: dict[str, Any], completion: Completion) -> None:
        try:
            self._cache.set(self.key(request), asdict(completion), expire=self.expire_s)
        except Exception as exc:
            log.warning("LLM response cache not written (%s); a retry would pay for this call again", exc)

    def close(self) -> None:
        self._cache.close()
