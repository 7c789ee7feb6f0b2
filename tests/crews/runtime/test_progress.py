import logging

from crews.runtime.budget import BudgetGuard, SpendLedger
from crews.runtime.limits import Budget
from crews.runtime.pricing import Price
from crews.runtime.progress import CallProgress


def test_each_call_logs_the_agent_the_items_usage_and_the_dag_runs_spend(caplog):
    ledger = SpendLedger()
    guard = BudgetGuard("dag/run_7", "check/0", Budget(), Price(prompt=1.0, completion=2.0), ledger)
    ledger.add("dag/run_7", "check/1", 500, 0.0005)  # another item of the same DAG run
    progress = CallProgress("item_a", guard)
    with caplog.at_level(logging.INFO, logger="crews.runtime.progress"):
        guard.charge(100, 20)
        progress.call_done("Fact checker\n", {"prompt_tokens": 100, "completion_tokens": 20,
                                              "total_tokens": 120})
        progress.call_done("Editor", {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0,
                                      "cached": True, "cached_tokens": 80})
    first, second = (r.getMessage() for r in caplog.records)
    assert first == ("progress item_a: LLM call 1 (Fact checker) 120 tokens; item so far: 1 paid, "
                     "120 tokens; DAG run so far 620 tokens, $0.0006")
    assert second.startswith("progress item_a: LLM call 2 (Editor) replayed 80 tokens from the cache; "
                             "item so far: 1 paid, 120 tokens (+1 replayed, 80 tokens)")


def test_cli_runs_report_the_item_only(caplog):
    guard = BudgetGuard("cli/abc", "item_b", Budget(), Price(prompt=0, completion=0), SpendLedger())
    with caplog.at_level(logging.INFO, logger="crews.runtime.progress"):
        CallProgress("item_b", guard).call_done(None, {"total_tokens": 7})
    assert caplog.records[0].getMessage() == ("progress item_b: LLM call 1 (no agent) 7 tokens; item so far: "
                                              "1 paid, 7 tokens")
