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
    items_in_task: int | None = None  # set when the task runs several items (``items_per_task``)

    def tags(self) -> dict[str, str]:
        """The context as tags, with MLflow's source tags (the UI's *Source* column)."""
        tags = {k: str(v) for k, v in asdict(self).items() if v is not None}
        if self.dag_id:
            source = {"mlflow.source.type": "JOB",
                      "mlflow.source.name": f"airflow:{self.dag_id}.{self.task_id}"}
        else:
            source = {"mlflow.source.type": "LOCAL", "mlflow.source.name": f"python -m crews ({self.source})"}
        return tags | source

    @property
    def run_name(self) -> str:
        """Leads with the item id, so the runs table shows it whole."""
        if self.dag_id:
            return f"{self.item_id} · {self.dag_id} ({self.run_id}, try {self.try_number})"
        return f"{self.item_id} · {self.source}"

    @property
    def experiment(self) -> str:
        return f"crews/{self.crew}"
