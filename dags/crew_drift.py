"""
### Crew drift

Compares, per crew, the newest production runs in MLflow (tag
`purpose=production`) with a baseline window of the runs before them: tokens,
cost, latency, input and output size, output distributions (verdict mix, pass
rate, abstention, share routed to review) and evaluation scores (from
`crew_evaluation`). Settings and thresholds: `include/drift.yaml`.

**Inputs** (trigger form or REST `conf`, all optional): `crews`; `recent_runs`,
`baseline_runs` and `min_runs` override the configured window sizes.

**Flow**: one mapped `measure_drift` per crew logs an MLflow run (tag
`kind=drift`) with `drift.<feature>.psi` / `.p_value` metrics, `drift_report.json`
and one PNG per feature under `plots/`; then `check_drift_thresholds` fails, and
its failure callback raises the alert, when any feature crossed its threshold.
A window with fewer than `min_runs` runs gets no verdict and says so.

**Reading results**: the failing check's log lists each drifted feature with its
PSI and p-value and the prompt versions and models in both windows (a change of
prompt or model between the windows is the first suspect); the alert is also
written to `$CREWS_STATE_DIR/alerts/`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, get_current_context, task
from crew_airflow.drift import drift_alert
from crew_airflow.params import crews_param
from crew_airflow.tasks import CREW_DEFAULT_ARGS

WINDOW = {"type": ["null", "integer"], "minimum": 1, "maximum": 100000}


@dag(
    dag_id="crew_drift",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["crews", "drift", "monitoring"],
    default_args=CREW_DEFAULT_ARGS,
    params={
        "crews": crews_param("The crews whose production runs are compared."),
        "recent_runs": Param(None, **WINDOW, title="Recent window (runs)",
                             description="Empty: include/drift.yaml."),
        "baseline_runs": Param(None, **WINDOW, title="Baseline window (runs)",
                               description="Empty: include/drift.yaml."),
        "min_runs": Param(None, **WINDOW, title="Fewest runs per window for a verdict",
                          description="Empty: include/drift.yaml."),
    },
)
def crew_drift():
    @task
    def crews_to_check() -> list[str]:
        from crew_airflow.tasks import refuse_unknown_conf

        return list(refuse_unknown_conf()["params"]["crews"])

    @task(map_index_template="{{ crew }}")
    def measure_drift(crew: str) -> dict:
        """Measure one crew's drift and log it (metrics, report, plots) to MLflow."""
        from crew_airflow.drift import measure_crew_drift

        get_current_context()["crew"] = crew
        return measure_crew_drift(crew)

    @task(retries=0, on_failure_callback=drift_alert)
    def check_drift_thresholds(reports: list[dict]) -> None:
        """Fail (and alert) when any crew's feature crossed its configured drift threshold."""
        from crew_airflow.drift import require_no_drift

        require_no_drift(reports)

    check_drift_thresholds(measure_drift.expand(crew=crews_to_check()))


crew_drift()
