"""The Params of the crew DAGs: the items (generated from the crew's input model) and ``prompt_version``.

Kept apart from :mod:`crew_airflow.tasks` so a DAG file imports only Airflow's ``Param`` and the crew's
contract (pydantic models) for them.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param

from crews.service import ID_PATTERN

ID = {"type": "string", "pattern": ID_PATTERN, "maxLength": 200}  # one id in a Param
OPTIONAL_ID = ID_PATTERN.replace("+$", "*$")  # an id or empty

# crews.prompt_source.SELECTOR_PATTERN (a test keeps them equal), and empty for the default.
PATTERN = r"^(?:[A-Za-z][A-Za-z0-9_-]{0,63}|[0-9]{1,9})?$"


def items_param(crew: str, max_items: int, description: str) -> Param:
    """The Param of a crew DAG's items: a list of the crew's request items, checked against the JSON Schema of
    the crew's input model (the trigger form and the REST API refuse an invalid item with its field); empty
    runs the crew's samples."""
    from crews.service import get_crew

    contract = get_crew(crew)
    schema = contract.request_schema()
    return Param([], type=["null", "array"], items=schema, maxItems=max_items,
                 title=contract.items_param.capitalize(), description=description)


MAX_ITEMS_PER_TASK = 50


def items_per_task_param() -> Param:
    """How many items one mapped crew task runs, one after the other (default 1: a task per item)."""
    return Param(
        1, type="integer", minimum=1, maximum=MAX_ITEMS_PER_TASK, title="Items per task",
        description="For large fan-outs: each mapped crew task runs this many items in turn, each still with "
                    "its own MLflow run and result row; fewer tasks pay Airflow's per-task start. A failing "
                    "item fails alone; a retry reruns only the task's items that have no result yet.",
    )


def crews_param(description: str) -> Param:
    """A Param naming some of the crews (default: all of them, as :mod:`crews.registry` lists them)."""
    from crews.service import crew_names

    names = crew_names()
    return Param(names, type="array", items={"type": "string", "enum": names}, minItems=1, uniqueItems=True,
                 title="Crews", description=description)


def prompt_version_param() -> Param:
    return Param(
        None, type=["null", "string"], pattern=PATTERN, maxLength=64, title="Prompt version",
        description="Which prompts of the MLflow prompt registry (crews.<crew>) the crews are served: an "
                    "alias (e.g. production, staging) or a version number; 'yaml' for the files shipped with "
                    "the code. Empty: CREWS_PROMPT_VERSION, else CREWS_PROMPT_ALIAS, else production. When "
                    "the registry cannot serve it (no such alias or version, MLflow down) the run uses the "
                    "YAML files and its MLflow runs say why (tag prompt_fallback).",
    )


def prompt_selector(params: Any = None) -> str | None:
    """The running DAG run's ``prompt_version`` (None when unset or empty)."""
    if params is None:
        from airflow.sdk import get_current_context

        params = get_current_context()["params"]
    value = params.get("prompt_version") if hasattr(params, "get") else None
    return str(value).strip() or None if value is not None else None
