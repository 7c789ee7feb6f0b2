"""Who ran a crew: the Airflow task instance or the CLI invocation."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class RunContext:
    """Identifies one tracked crew run; becomes the MLflow run's tags and name."""

    crew: str
    item_id: str
    source: str = "cli"
    purpose: str = "production"  # or "evaluation": drift windows use production runs only
    dag_id: str | None = None
    run_id: str | None = None
    task_id: str | None = None
    map_index: int | None = None
    try_number: int | None = None

    def tags(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items() if v is not None}

    @property
    def run_name(self) -> str:
        if self.dag_id:
            return f"{self.dag_id}/{self.item_id} ({self.run_id}, try {self.try_number})"
        return f"{self.source}/{self.item_id}"

    @property
    def experiment(self) -> str:
        return f"crews/{self.crew}"
