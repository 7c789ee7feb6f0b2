"""Attach the response cache and the budget guard to a crew's LLM for one item."""

from __future__ import annotations

import os
import uuid
from typing import Any

from crews.runtime.budget import BudgetGuard, PriceUnknown, SpendLedger, usd_limits
from crews.runtime.limits import Budget, load_limits
from crews.runtime.pricing import Price, pricing_table
from crews.runtime.progress import CallProgress
from crews.runtime.response_cache import ResponseCache, runs_several_items
from crews.runtime.settings import LLMSettings
from crews.runtime.tracked_llm import TrackedLLM


def attach_guards(llm: Any, settings: LLMSettings, context: dict[str, Any], item_id: str) -> BudgetGuard:
    """Give ``llm`` its task instance's response cache, budget and progress log; return the budget guard.

    ``context`` holds the Airflow identifiers (empty for the CLI: no cache, and the
    invocation is its own budget run). Raises :class:`PriceUnknown` when a USD budget
    applies to a model without a known price.
    """
    limits = load_limits()
    dag_id = context.get("dag_id")
    run_key = f"{dag_id}/{context.get('run_id')}" if dag_id else f"cli/{uuid.uuid4().hex}"
    task_key = f"{context.get('task_id')}/{context.get('map_index')}" if dag_id else item_id
    if dag_id and runs_several_items(context):  # per_task limits apply per item
        task_key += f"/{item_id}"
    budget, price = limits.budget_for(dag_id), pricing_table().price(settings.provider, settings.model)
    require_price(budget, price, settings, dag_id if dag_id in limits.budgets else "default")
    guard = BudgetGuard(run_key, task_key, budget, price, SpendLedger())
    if not isinstance(llm, TrackedLLM):
        raise TypeError(f"provider {settings.provider}: {type(llm).__name__} is not a TrackedLLM; "
                        "it would bypass the response cache and the budget")
    llm.with_guards(ResponseCache.for_context(context, limits.response_cache, item_id), guard,
                    CallProgress(item_id, guard))
    return guard


def require_price(budget: Budget, price: Price, settings: LLMSettings, budget_name: str = "default") -> None:
    """Refuse (:class:`PriceUnknown`) a USD budget that could not count ``settings.model``'s calls."""
    scopes = usd_limits(budget)
    if price.known or not scopes:
        return
    pricing = (os.environ.get("CREWS_PRICING_FILE")
               or "include/pricing.yaml (or the file CREWS_PRICING_FILE names)")
    limits = os.environ.get("CREWS_LIMITS_FILE") or "include/limits.yaml"
    limited = " and ".join(f"budgets.{budget_name}.{scope}.usd" for scope in scopes)
    raise PriceUnknown(
        f"refused before any LLM call: no price is known for model {settings.model!r} of provider "
        f"{settings.provider!r} (neither in the pricing overrides nor in genai-prices), so the USD budget "
        f"{limited} of {limits} cannot count its calls. Fix: add the model under per_million_tokens in "
        f"{pricing} with its USD prices per million tokens, e.g. {settings.model.split('/', 1)[-1]}: "
        f"{{prompt: 0.5, completion: 1.5}} (0 and 0 for a self-hosted model), or set usd: null for {limited} "
        f"in {limits} to keep only the token limits."
    )
