"""Token and USD budgets per DAG run (across the mapped fan-out) and per task.

Every paid LLM call is charged to a ledger table in the results database
(``CREWS_RESULTS_URL``), shared by all mapped tasks of a DAG run. Before each
call the guard compares what the run and the task have spent with their limits
and refuses the call once one is reached, so a run overshoots by at most one
call per concurrently running task. Cache hits cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, Float, Integer, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from crews.errors import BudgetExceeded, InputError
from crews.runtime.limits import Budget, Limit
from crews.runtime.pricing import Price


class PriceUnknown(BudgetExceeded, InputError):
    """A USD budget applies but the model has no known price: the item is refused before it starts.

    Also an :class:`InputError`, so the item fails at once with the message and is not
    retried (a retry would meet the same configuration) instead of being skipped like an
    item whose run spent its budget.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, started=False)


def usd_limits(budget: Budget) -> list[str]:
    """The scopes of ``budget`` with a USD limit (``per_run``, ``per_task``)."""
    return [scope for scope, limit in (("per_run", budget.per_run), ("per_task", budget.per_task))
            if limit.usd is not None]


class _Base(DeclarativeBase):
    pass


class Spend(_Base):
    """One paid LLM call."""

    __tablename__ = "llm_spend"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_key: Mapped[str] = mapped_column(String(500), index=True)
    task_key: Mapped[str] = mapped_column(String(300))
    tokens: Mapped[int] = mapped_column(Integer)
    usd: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Spent:
    tokens: int = 0
    usd: float = 0.0


class SpendLedger:
    """What each run and task has spent (survives retries and worker crashes)."""

    def __init__(self, url: str | None = None) -> None:
        from crews.results import engine_for

        self.engine = engine_for(url)
        _Base.metadata.create_all(self.engine)

    def add(self, run_key: str, task_key: str, tokens: int, usd: float) -> None:
        with Session(self.engine) as session, session.begin():
            session.add(Spend(run_key=run_key, task_key=task_key, tokens=tokens, usd=usd,
                              at=datetime.now(UTC)))

    def spent(self, run_key: str, task_key: str | None = None) -> Spent:
        query = select(func.coalesce(func.sum(Spend.tokens), 0), func.coalesce(func.sum(Spend.usd), 0.0))
        query = query.where(Spend.run_key == run_key)
        if task_key is not None:
            query = query.where(Spend.task_key == task_key)
        with Session(self.engine) as session:
            tokens, usd = session.execute(query).one()
        return Spent(int(tokens), float(usd))


def _over(spent: Spent, limit: Limit) -> str | None:
    if limit.tokens is not None and spent.tokens >= limit.tokens:
        return f"{spent.tokens:,} of {limit.tokens:,} tokens"
    if limit.usd is not None and spent.usd >= limit.usd:
        return f"${spent.usd:.4f} of ${limit.usd:.4f}"
    return None


class BudgetGuard:
    """Checks and charges one task's LLM calls against its run's and its own budget."""

    def __init__(self, run_key: str, task_key: str, budget: Budget, price: Price, ledger: SpendLedger,
                 source: str = "include/limits.yaml") -> None:
        self.run_key, self.task_key = run_key, task_key
        self.budget, self.price, self.ledger, self.source = budget, price, ledger, source

    def check(self, started: bool = True) -> None:
        """Raise :class:`BudgetExceeded` if the run or this task has spent its budget.

        ``started=False`` is the check before an item begins (the item is then skipped).
        """
        run_over = _over(self.ledger.spent(self.run_key), self.budget.per_run)
        if run_over:
            raise BudgetExceeded(f"budget of DAG run {self.run_key} spent: {run_over} "
                                 f"(budgets.per_run in {self.source})", started)
        task_over = _over(self.ledger.spent(self.run_key, self.task_key), self.budget.per_task)
        if task_over:
            raise BudgetExceeded(f"budget of task {self.task_key} spent: {task_over} "
                                 f"(budgets.per_task in {self.source})", started)

    def charge(self, prompt_tokens: int, completion_tokens: int) -> None:
        self.ledger.add(self.run_key, self.task_key, prompt_tokens + completion_tokens,
                        self.price.cost(prompt_tokens, completion_tokens))

    def metrics(self) -> dict[str, float]:
        """Spend and limits for the MLflow run (``budget.*``)."""
        run, task = self.ledger.spent(self.run_key), self.ledger.spent(self.run_key, self.task_key)
        values = {"budget.run_spent_tokens": run.tokens, "budget.run_spent_usd": run.usd,
                  "budget.task_spent_tokens": task.tokens, "budget.task_spent_usd": task.usd}
        for scope, limit in (("run", self.budget.per_run), ("task", self.budget.per_task)):
            if limit.tokens is not None:
                values[f"budget.{scope}_limit_tokens"] = limit.tokens
            if limit.usd is not None:
                values[f"budget.{scope}_limit_usd"] = limit.usd
        return {k: float(v) for k, v in values.items()}
