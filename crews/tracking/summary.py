"""Turns recorded spans into token, cost, latency and call metrics (pure functions)."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from crews.runtime.pricing import PricingTable
from crews.tracking.recorder import SpanRecord


def slug(text: str) -> str:
    """A metric-key-safe name: ``"Senior copywriter"`` -> ``"senior_copywriter"``."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "unknown"


def llm_call_rows(spans: list[SpanRecord], pricing: PricingTable, provider: str) -> list[dict[str, Any]]:
    """One row per LLM call: agent, task, tokens, cost, latency, prompt and output."""
    rows = []
    for span in spans:
        if span.kind != "llm":
            continue
        usage = span.attributes.get("usage") or {}
        prompt = int(usage.get("prompt_tokens", 0))
        completion = int(usage.get("completion_tokens", 0))
        price = pricing.price(provider, span.attributes.get("model") or "")
        latency = (span.end_ns - span.start_ns) / 1e9 if span.end_ns else None
        total_cost, input_cost = price.cost(prompt, completion), price.cost(prompt, 0)
        rows.append(
            {
                "call_id": span.attributes.get("call_id"),
                "cached": bool(usage.get("cached")),
                "cached_tokens": int(usage.get("cached_tokens", 0)),
                "agent": span.attributes.get("agent_role") or "unknown",
                "task": span.attributes.get("task_name"),
                "model": span.attributes.get("model"),
                "ok": bool(span.ok),
                "error": span.error,
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": int(usage.get("total_tokens", prompt + completion)),
                "cost_usd": total_cost,
                "input_cost_usd": input_cost,
                # so the two parts add up to the total (tiered prices)
                "output_cost_usd": total_cost - input_cost,
                "price_known": price.known,
                "latency_s": latency,
                "messages": span.inputs,
                "output": span.outputs,
            }
        )
    return rows


def metrics_from_calls(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Run totals and per-agent totals (``agent.<role>.<metric>``).

    ``llm_calls`` and the token metrics count paid calls; answers replayed from the
    response cache count as ``cache_hits`` and their tokens as ``cached_tokens``.
    """
    metrics: dict[str, float] = defaultdict(float)
    for row in rows:
        if row.get("cached"):
            metrics["cache_hits"] += 1
            metrics["cached_tokens"] += row["cached_tokens"]
            continue
        agent = slug(row["agent"])
        for key in ("prompt_tokens", "completion_tokens", "total_tokens", "cost_usd"):
            metrics[key] += row[key]
            metrics[f"agent.{agent}.{key}"] += row[key]
        metrics["llm_calls"] += 1
        metrics[f"agent.{agent}.llm_calls"] += 1
        metrics["llm_failed_calls"] += 0 if row["ok"] else 1
        if row["latency_s"] is not None:
            metrics["llm_latency_s"] += row["latency_s"]
    for key in ("prompt_tokens", "completion_tokens", "total_tokens", "cost_usd", "llm_calls",
                "llm_failed_calls", "llm_latency_s", "cache_hits", "cached_tokens"):
        metrics.setdefault(key, 0.0)
    return dict(metrics)
