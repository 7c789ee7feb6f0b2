"""Progress lines in the task log while a crew item runs: one per LLM call.

Each line names the agent, what the item has used so far (paid and replayed
calls, tokens) and, from the spend ledger, what the whole DAG run has spent,
so a long fan-out can be followed from any one task's log.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


class CallProgress:
    """Counts one item's LLM calls and logs a progress line after each."""

    def __init__(self, item_id: str, budget: Any | None = None) -> None:
        self.item_id = item_id
        self.budget = budget  # a BudgetGuard: its ledger knows the DAG run's spend
        self.paid_calls = self.replayed_calls = self.paid_tokens = self.replayed_tokens = 0

    def call_done(self, agent: str | None, usage: dict[str, Any]) -> None:
        if usage.get("cached"):
            self.replayed_calls += 1
            self.replayed_tokens += int(usage.get("cached_tokens", 0))
            this = f"replayed {int(usage.get('cached_tokens', 0)):,} tokens from the cache"
        else:
            self.paid_calls += 1
            self.paid_tokens += int(usage.get("total_tokens", 0))
            this = f"{int(usage.get('total_tokens', 0)):,} tokens"
        line = (f"progress {self.item_id}: LLM call {self.paid_calls + self.replayed_calls} "
                f"({(agent or 'no agent').strip()}) {this}; item so far: {self.paid_calls} paid, "
                f"{self.paid_tokens:,} tokens")
        if self.replayed_calls:
            line += f" (+{self.replayed_calls} replayed, {self.replayed_tokens:,} tokens)"
        if self.budget is not None and not self.budget.run_key.startswith("cli/"):
            spent = self.budget.ledger.spent(self.budget.run_key)
            line += f"; DAG run so far {spent.tokens:,} tokens, ${spent.usd:.4f}"
        log.info(line)
