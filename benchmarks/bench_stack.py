"""The project's local stack (scripts/stack.py) on the benchmark's own ports and state folder.

Never the stack of the working tree: ``CREWS_STATE_DIR`` points under the benchmark's
scratch folder and the ports are ``CREWS_*_PORT`` (18080/15000/18001 when free). The
``llm_default`` connection comes from ``AIRFLOW_CONN_LLM_DEFAULT`` (airflow_settings.yaml
names :8001, the working tree's LLM server), so the stack never talks to another stack.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import PYTHON, ROOT, pick_port


class BenchStack:
    def __init__(self, state: Path, connection: dict[str, Any],
                 extra_env: dict[str, str] | None = None) -> None:
        self.state = state
        self.ports = {name: pick_port(name) for name in ("airflow", "mlflow", "llm")}
        self.airflow_url = f"http://127.0.0.1:{self.ports['airflow']}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MLFLOW", "CREWS"))},
            "CREWS_STATE_DIR": str(state),
            "CREWS_AIRFLOW_PORT": str(self.ports["airflow"]),
            "CREWS_MLFLOW_PORT": str(self.ports["mlflow"]),
            "CREWS_LLM_PORT": str(self.ports["llm"]),
            "AIRFLOW_CONN_LLM_DEFAULT": json.dumps(connection),
            **(extra_env or {}),
        }

    def set_connection(self, connection: dict[str, Any]) -> None:
        """The ``llm_default`` connection of this stack (Airflow reads ``AIRFLOW_CONN_*`` before its DB)."""
        self.env["AIRFLOW_CONN_LLM_DEFAULT"] = json.dumps(connection)

    @property
    def llm_base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['llm']}/v1"

    def command(self, *args: str, timeout: float = 1800,
                log_name: str | None = None) -> subprocess.CompletedProcess:
        """``scripts/stack.py ARGS`` with the benchmark env; output kept in the state folder's parent."""
        out = subprocess.run([PYTHON, str(ROOT / "scripts" / "stack.py"), *args], env=self.env, cwd=ROOT,
                             capture_output=True, text=True, timeout=timeout)
        if log_name:
            (self.state.parent / f"{log_name}.log").write_text(out.stdout + out.stderr)
        return out

    def up(self) -> float:
        began = time.monotonic()
        out = self.command("up", log_name=f"{self.state.name}-up")
        if out.returncode != 0:
            raise RuntimeError(f"stack up failed: {(out.stdout + out.stderr)[-2000:]}")
        return time.monotonic() - began

    def down(self) -> None:
        self.command("down", timeout=180, log_name=f"{self.state.name}-down")

    # --- REST -----------------------------------------------------------------------

    def client(self) -> httpx.Client:
        passwords = self.state / "airflow" / "simple_auth_manager_passwords.json.generated"
        password = json.loads(passwords.read_text())["admin"]
        token = httpx.post(f"{self.airflow_url}/auth/token", json={"username": "admin", "password": password},
                           timeout=30)
        token.raise_for_status()
        return httpx.Client(base_url=self.airflow_url, timeout=30,
                            headers={"Authorization": f"Bearer {token.json()['access_token']}"})

    @staticmethod
    def wait_for_dag(client: httpx.Client, dag_id: str, timeout_s: float = 300) -> None:
        began = time.monotonic()
        while time.monotonic() - began < timeout_s:
            if client.get(f"/api/v2/dags/{dag_id}").status_code == 200:
                return
            time.sleep(2)
        raise RuntimeError(f"DAG {dag_id} was not parsed within {timeout_s:.0f}s")

    @staticmethod
    def run_dag(client: httpx.Client, dag_id: str, conf: dict[str, Any], timeout_s: float = 1800,
                poll_s: float = 1.0) -> dict[str, Any]:
        """Trigger over REST, follow to success/failed; returns the run with its task instances."""
        response = client.post(f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})
        response.raise_for_status()
        run_id = response.json()["dag_run_id"]
        began = time.monotonic()
        while time.monotonic() - began < timeout_s:
            run = client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}").json()
            if run["state"] in ("success", "failed"):
                run["client_s"] = time.monotonic() - began
                tis: list[dict] = []
                while True:
                    batch = client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                                       params={"limit": 100, "offset": len(tis)}).json()["task_instances"]
                    tis += batch
                    if len(batch) < 100:
                        break
                run["task_instances"] = tis
                return run
            time.sleep(poll_s)
        raise RuntimeError(f"{dag_id} run {run_id} did not finish within {timeout_s:.0f}s")


def seconds_between(start: str, end: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(end.replace("Z", "+00:00"))
            - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()


def log_tail(path: Path, chars: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""

