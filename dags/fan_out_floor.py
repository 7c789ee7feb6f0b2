"""
### Fan-out floor

Airflow's own cost of one mapped task on this deployment: the shape of a crew DAG (list the items,
one mapped task per item, collect the results) with tasks that do nothing. Compare its run time
with a crew DAG's over the same number of items to see what the crews add per item and what
Airflow itself costs (scheduling, task start, DAG parse, XCom); `python -m benchmarks --only 6`
runs both side by side.

**Inputs**: `items`, how many mapped tasks to run (1 to 1,000).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task


@dag(
    dag_id="fan_out_floor",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["benchmark"],
    default_args={"owner": "crews", "retries": 2, "retry_delay": timedelta(seconds=20),
                  "execution_timeout": timedelta(minutes=5)},
    params={"items": Param(10, type="integer", minimum=1, maximum=1000, title="Items",
                           description="How many mapped tasks to run.")},
)
def fan_out_floor():
    @task
    def list_items() -> list[int]:
        """The item numbers, 0 to items - 1."""
        return list(range(get_current_context()["params"]["items"]))

    @task
    def handle(item: int) -> int:
        """Nothing: the floor of one mapped task."""
        return item

    @task
    def collect(results: list[int]) -> int:
        """How many items came back."""
        return len(list(results))

    collect(handle.expand(item=list_items()))


fan_out_floor()
