"""The steps between a crew DAG's list step and its crew tasks: items the crew refuses fail on their own.

The list step loads every item (:func:`crew_airflow.tasks.screen_items`) and returns
``{"accepted": [...], "refused": [...], "ids": [...]}``. Airflow maps only over a
task's whole return value, so two small tasks hand on the two lists; each refused
item then fails in a mapped ``refuse_<noun>`` task named by its id, outside the LLM
pool, and never waits for the LLM slot. The accepted items go on in chunks of the
run's ``items_per_task`` (one item each by default): one mapped crew task per chunk.
"""

from __future__ import annotations

from typing import Any


def screening_steps(listed: Any, noun: str) -> tuple[Any, Any]:
    """(the accepted items to map the crew task over, the mapped refusals) of a list step's result."""
    from airflow.sdk import task

    @task(task_id=f"accepted_{noun}")
    def accepted(screened: dict[str, Any]) -> list[list[Any]]:
        """The accepted items in chunks of ``items_per_task``: what each mapped crew task runs."""
        from airflow.sdk import get_current_context

        return chunks(screened["accepted"], get_current_context()["params"].get("items_per_task") or 1)

    @task(task_id=f"refused_{noun}")
    def refused(screened: dict[str, Any]) -> list[dict[str, Any]]:
        return screened["refused"]

    @task(task_id=f"refuse_{noun}", retries=0, map_index_template="{{ refusal['item_id'] }}")
    def refuse(refusal: dict[str, Any]) -> None:
        """An item the crew cannot load: fails alone, naming the problem."""
        from crew_airflow.tasks import refuse as fail

        fail(refusal)

    return accepted(listed), refuse.expand(refusal=refused(listed))


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    """``items`` in order, in lists of ``size`` (the last may be shorter)."""
    if size < 1:
        raise ValueError(f"items_per_task must be at least 1, got {size}")
    return [items[start:start + size] for start in range(0, len(items), size)]
