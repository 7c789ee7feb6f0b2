"""The steps between a crew DAG's list step and its crew tasks: items the crew refuses fail on their own.

The list step loads every item (:func:`crew_airflow.tasks.screen_items`) and returns
``{"accepted": [...], "refused": [...], "ids": [...]}``. Airflow maps only over a
task's whole return value, so two small tasks hand on the two lists; each refused
item then fails in a mapped ``refuse_<noun>`` task named by its id, outside the LLM
pool, and never waits for the LLM slot.
"""

from __future__ import annotations

from typing import Any


def screening_steps(listed: Any, noun: str) -> tuple[Any, Any]:
    """(the accepted items to map the crew task over, the mapped refusals) of a list step's result."""
    from airflow.sdk import task

    @task(task_id=f"accepted_{noun}")
    def accepted(screened: dict[str, Any]) -> list[Any]:
        return screened["accepted"]

    @task(task_id=f"refused_{noun}")
    def refused(screened: dict[str, Any]) -> list[dict[str, Any]]:
        return screened["refused"]

    @task(task_id=f"refuse_{noun}", retries=0, map_index_template="{{ refusal['item_id'] }}")
    def refuse(refusal: dict[str, Any]) -> None:
        """An item the crew cannot load: fails alone, naming the problem."""
        from crew_airflow.tasks import refuse as fail

        fail(refusal)

    return accepted(listed), refuse.expand(refusal=refused(listed))
