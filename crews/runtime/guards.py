"""Attach the response cache and the budget guard to a crew's LLM for one item."""

from __future__ import annotations

import uuid
from typing import Any

from crews.runtime.budget import BudgetGuard, SpendLedger
from crews.runtime.limits import load_limits
from crews.runtime.pricing import pricing_table
from crews.runtime.progress import CallProgress
from crews.runtime.response_cache import ResponseCache
from crews.runtime.settings import LLMSettings
from crews.runtime.tracked_llm import TrackedLLM


def attach_guards(llm: Any, settings: LLMSettings, context: dict[str, Any], item_id: str) -> BudgetGuard:
    """Give ``llm`` its task instance's response cache, budget and progress log; return the budget guard.

    ``context`` holds the Airflow identifiers (empty for the CLI: no cache, and the
    invocation is its own budget run).
    """
    limits = load_limits()
    dag_id = context.get("dag_id")
    run_key = f"{dag_id}/{context.get('run_id')}" if dag_id else f"cli/{uuid.uuid4().hex}"
    task_key = f"{context.get('task_id')}/{context.get('map_index')}" if dag_id else item_id
    guard = BudgetGuard(run_key, task_key, limits.budget_for(dag_id),
                        pricing_table().price(settings.provider, settings.model), SpendLedger())
    if not isinstance(llm, TrackedLLM):
        raise TypeError(f"provider {settings.provider}: {type(llm).__name__} is not a TrackedLLM; "
                        "it would bypass the response cache and the budget")
    llm.with_guards(ResponseCache.for_context(context, limits.response_cache), guard, CallProgress(item_id, guard))
    return guard
