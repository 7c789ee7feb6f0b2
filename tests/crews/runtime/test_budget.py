import pytest

from crews.runtime.budget import BudgetExceeded, BudgetGuard, SpendLedger
from crews.runtime.limits import Budget, Limit, load_limits
from crews.runtime.pricing import Price
from crews.runtime.scripted_llm import ScriptedLLM


def _guard(ledger: SpendLedger, task: str, run_tokens=None, task_tokens=None, run_usd=None) -> BudgetGuard:
    budget = Budget(per_run=Limit(tokens=run_tokens, usd=run_usd), per_task=Limit(tokens=task_tokens))
    return BudgetGuard("dag/run1", task, budget, Price(prompt=1.0, completion=2.0), ledger)


def test_ledger_sums_per_run_and_per_task():
    ledger = SpendLedger()
    ledger.add("dag/run1", "t/0", 100, 0.1)
    ledger.add("dag/run1", "t/1", 50, 0.05)
    ledger.add("dag/run2", "t/0", 999, 9.0)
    assert ledger.spent("dag/run1").tokens == 150
    assert ledger.spent("dag/run1", "t/1").tokens == 50
    assert ledger.spent("dag/none").tokens == 0


def test_run_budget_is_shared_by_the_fan_out():
    ledger = SpendLedger()
    first, second = _guard(ledger, "t/0", run_tokens=1000), _guard(ledger, "t/1", run_tokens=1000)
    first.charge(600, 100)
    second.check()  # 700 of 1000
    second.charge(300, 0)
    with pytest.raises(BudgetExceeded,
                       match=r"budget of DAG run dag/run1 spent: 1,000 of 1,000 tokens") as err:
        second.check(started=False)
    assert err.value.started is False and "per_run" in str(err.value)


def test_task_budget_and_usd_budget(tmp_path):
    ledger = SpendLedger()
    guard = _guard(ledger, "t/0", task_tokens=100)
    guard.charge(100, 0)
    with pytest.raises(BudgetExceeded, match="budget of task t/0 spent: 100 of 100 tokens"):
        guard.check()
    _guard(ledger, "t/1", task_tokens=100).check()  # other tasks keep their own budget
    usd = _guard(SpendLedger(f"sqlite:///{tmp_path / 'other.db'}"), "t/0", run_usd=0.5)
    usd.charge(0, 250_000)  # $0.50 at $2 per million completion tokens
    with pytest.raises(BudgetExceeded, match=r"\$0.5000 of \$0.5000"):
        usd.check()


def test_llm_refuses_the_call_that_would_exceed_and_charges_paid_calls():
    ledger = SpendLedger()
    guard = _guard(ledger, "t/0", task_tokens=10)
    llm = ScriptedLLM(model="m", provider="scripted").with_responder(
        lambda m, r: "one two three four five six")
    llm.with_guards(budget=guard)
    llm.call("a b c d e f")  # 6 prompt + 6 completion words
    assert ledger.spent("dag/run1", "t/0").tokens == 12
    with pytest.raises(BudgetExceeded, match="12 of 10 tokens"):
        llm.call("again")
    assert llm.calls == 1


def test_metrics_show_spend_and_limits():
    guard = _guard(SpendLedger(), "t/0", run_tokens=1000, task_tokens=100)
    guard.charge(10, 5)
    metrics = guard.metrics()
    assert metrics["budget.run_spent_tokens"] == 15 and metrics["budget.run_limit_tokens"] == 1000
    assert metrics["budget.task_limit_tokens"] == 100 and "budget.run_limit_usd" not in metrics


def test_shipped_limits_file_is_valid_and_dag_overrides_default(tmp_path, monkeypatch):
    limits = load_limits()
    assert (limits.budget_for("crew_evaluation").per_run.tokens
            > limits.budget_for("contract_qa").per_run.tokens)
    bad = tmp_path / "limits.yaml"
    bad.write_text("budgets:\n  default:\n    per_run: {tokens: -5}\n")
    monkeypatch.setenv("CREWS_LIMITS_FILE", str(bad))
    with pytest.raises(ValueError, match="limits file .* is invalid"):
        load_limits()


def _attach(tmp_path, monkeypatch, limits_yaml: str, model: str = "mystery-model", dag_id: str | None = None):
    from crews.runtime.guards import attach_guards
    from crews.runtime.settings import LLMSettings

    limits = tmp_path / "limits.yaml"
    limits.write_text(limits_yaml)
    monkeypatch.setenv("CREWS_LIMITS_FILE", str(limits))
    settings = LLMSettings(provider="openai_compatible", model=model, base_url="http://127.0.0.1:9/v1")
    llm = ScriptedLLM(model=model, provider="scripted").with_responder(lambda m, r: "one two")
    context = {"dag_id": dag_id, "run_id": "r1", "task_id": "t", "map_index": 0} if dag_id else {}
    return attach_guards(llm, settings, context, "item_1"), llm


def test_usd_budget_refuses_a_model_without_a_price_before_any_call(tmp_path, monkeypatch):
    from crews.errors import InputError
    from crews.runtime.budget import PriceUnknown

    monkeypatch.delenv("CREWS_PRICING_FILE", raising=False)
    with pytest.raises(PriceUnknown) as refused:
        _attach(tmp_path, monkeypatch, "budgets:\n  default:\n    per_run: {tokens: 1000, usd: 5}\n"
                                       "    per_task: {usd: 1}\n")
    message = str(refused.value)
    assert "'mystery-model'" in message and "'openai_compatible'" in message
    assert "budgets.default.per_run.usd and budgets.default.per_task.usd" in message
    assert "include/pricing.yaml" in message and "CREWS_PRICING_FILE" in message and "usd: null" in message
    # Refused like an item whose run spent its budget, and failed without retries like invalid input.
    assert refused.value.started is False and isinstance(refused.value, InputError)


def test_the_refusal_names_the_dags_own_budget(tmp_path, monkeypatch):
    from crews.runtime.budget import PriceUnknown

    with pytest.raises(PriceUnknown, match=r"USD budget budgets\.nightly\.per_task\.usd of "):
        _attach(tmp_path, monkeypatch, "budgets:\n  default:\n    per_run: {usd: 5}\n"
                                       "  nightly:\n    per_task: {tokens: 10, usd: 1}\n", dag_id="nightly")


def test_token_only_budget_runs_a_model_without_a_price(tmp_path, monkeypatch):
    guard, llm = _attach(tmp_path, monkeypatch,
                         "budgets:\n  default:\n    per_run: {tokens: 10, usd: null}\n")
    assert guard.price.known is False
    llm.call("a b c d e f")  # 6 prompt + 2 completion words
    spent = guard.ledger.spent(guard.run_key)
    assert spent.tokens == 8 and spent.usd == 0
    llm.call("g h")
    with pytest.raises(BudgetExceeded, match="12 of 10 tokens"):
        llm.call("i j")


def test_a_configured_price_lets_the_usd_budget_count_the_model(tmp_path, monkeypatch):
    pricing = tmp_path / "pricing.yaml"
    pricing.write_text("per_million_tokens:\n  mystery-model: {prompt: 1000000, completion: 0}\n")
    monkeypatch.setenv("CREWS_PRICING_FILE", str(pricing))
    guard, llm = _attach(tmp_path, monkeypatch, "budgets:\n  default:\n    per_run: {usd: 5}\n")
    llm.call("a b c d e f")  # 6 prompt tokens at $1 each
    assert guard.ledger.spent(guard.run_key).usd == 6.0
    with pytest.raises(BudgetExceeded, match=r"\$6.0000 of \$5.0000"):
        llm.call("again")


def test_per_task_limits_apply_to_each_item_of_a_task_running_several(tmp_path, monkeypatch):
    from crews.runtime.guards import attach_guards
    from crews.runtime.settings import LLMSettings

    limits = tmp_path / "limits.yaml"
    monkeypatch.setenv("CREWS_STATE_DIR", str(tmp_path))
    limits.write_text("budgets:\n  default:\n    per_task: {tokens: 10, usd: null}\n")
    monkeypatch.setenv("CREWS_LIMITS_FILE", str(limits))
    settings = LLMSettings(provider="openai_compatible", model="m", base_url="http://127.0.0.1:9/v1")
    context = {"dag_id": "d", "run_id": "r1", "task_id": "t", "map_index": 0, "items_in_task": 2}
    guards = {}
    for item in ("item_a", "item_b"):
        llm = ScriptedLLM(model="m", provider="scripted").with_responder(lambda m, r: "one two")
        guards[item] = (attach_guards(llm, settings, context, item), llm)
    assert guards["item_a"][0].task_key == "t/0/item_a" and guards["item_b"][0].task_key == "t/0/item_b"
    item_a, item_b = guards["item_a"][1], guards["item_b"][1]
    item_a.call("a b c d e f")
    item_a.call("g h i j k l")  # 16 tokens: item_a's budget is spent (a repeated prompt would be a cache hit)
    with pytest.raises(BudgetExceeded, match="budget of task t/0/item_a spent: 16 of 10 tokens"):
        item_a.call("m")
    item_b.call("n o p q r s")  # the other item of the same task still has its own
