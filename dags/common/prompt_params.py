"""The ``prompt_version`` Param of the crew DAGs: which prompt registry version a DAG run's crews are served.

Kept apart from :mod:`common.crew_tasks` so a DAG file imports only Airflow's ``Param`` for it.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param

# crews.prompt_source.SELECTOR_PATTERN (a test keeps them equal), and empty for the default.
PATTERN = r"^(?:[A-Za-z][A-Za-z0-9_-]{0,63}|[0-9]{1,9})?$"


def prompt_version_param() -> Param:
    return Param(
        None, type=["null", "string"], pattern=PATTERN, maxLength=64, title="Prompt version",
        description="Which prompts of the MLflow prompt registry (crews.<crew>) the crews are served: an alias "
                    "(e.g. production, staging) or a version number; 'yaml' for the files shipped with the code. "
                    "Empty: CREWS_PROMPT_VERSION, else CREWS_PROMPT_ALIAS, else production. When the registry "
                    "cannot serve it (no such alias or version, MLflow down) the run uses the YAML files and its "
                    "MLflow runs say why (tag prompt_fallback).",
    )


def prompt_selector(params: Any = None) -> str | None:
    """The running DAG run's ``prompt_version`` (None when unset or empty)."""
    if params is None:
        from airflow.sdk import get_current_context

        params = get_current_context()["params"]
    value = params.get("prompt_version") if hasattr(params, "get") else None
    return str(value).strip() or None if value is not None else None
