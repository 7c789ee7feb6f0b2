"""Run a DAG with dag.test() in a subprocess with its own Airflow DB, MLflow store and state (copies of
ones migrated once per session)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

RUN_DAG = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder=sys.argv[1]).dags[sys.argv[2]]
run = dag.test(run_conf=json.loads(sys.argv[3]))
print("DAGRUN_STATE=" + str(run.state))
"""


_template: Path | None = None


def _migrated_template() -> Path:
    """An Airflow DB and an MLflow store migrated once per test session; each DAG test starts from copies
    (`airflow db migrate` alone took 14.6 s per test here)."""
    global _template
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix="dagtest-template-"))
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MLFLOW", "CREWS"))},
               "AIRFLOW_HOME": str(folder / "home"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        bin_dir = Path(sys.executable).parent
        subprocess.run([str(bin_dir / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True,
                       timeout=600)
        subprocess.run([sys.executable, "-c", "import sys; from mlflow import MlflowClient; "
                        "MlflowClient(sys.argv[1]).search_experiments()",
                        f"sqlite:///{folder / 'mlflow.db'}"],
                       env=env, check=True, capture_output=True, timeout=600, cwd=folder)
        _template = folder
    return _template


def run_dag_test(dag_id: str, conf: dict[str, Any], script: str, tmp: Path,
                 extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    """Returns the env used (for MLflow and state paths), stdout and stderr."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MLFLOW", "CREWS"))},
        "AIRFLOW_HOME": str(tmp / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_LLM_DEFAULT": json.dumps({"conn_type": "generic",
                                                "extra": {"provider": "scripted", "script": script}}),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'mlflow.db'}",
        "CREWS_STATE_DIR": str(tmp / "state"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "dags")]),
        "CREWS_REVIEW_CONFIG": str(ROOT / "tests/support/no_review.yaml"),
        **(extra_env or {}),
    }
    (tmp / "airflow").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_migrated_template() / "home" / "airflow.db", tmp / "airflow" / "airflow.db")
    if not (tmp / "mlflow.db").exists():
        shutil.copyfile(_migrated_template() / "mlflow.db", tmp / "mlflow.db")
    out = subprocess.run(
        [sys.executable, "-c", RUN_DAG, str(ROOT / "dags"), dag_id, json.dumps(conf)],
        env=env, capture_output=True, text=True, timeout=900, cwd=tmp,
    )
    return {"tmp": tmp, "env": env, "stdout": out.stdout, "stderr": out.stderr}
