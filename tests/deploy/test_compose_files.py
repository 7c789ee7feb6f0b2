"""docker-compose.yaml (stand-alone, CeleryExecutor) and docker-compose.override.yml (astro dev start).

Both are read the way docker compose reads them with .env.example copied to .env: variables
interpolated, then validated against the Compose specification schema and checked for paths,
pinned images, loopback-only ports, dependencies, healthchecks and the Celery set-up.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from crews import QUIET_CREWAI
from tests.deploy import compose_checks as checks
from tests.deploy.project_files import (
    ASTRO_PORTS,
    ASTRO_SERVICES,
    COMPOSE,
    OVERRIDE,
    compose,
    env_example,
    interpolated,
    override,
    pins,
    raw,
)

ROOT = checks.ROOT
FILES = pytest.mark.parametrize("path", [COMPOSE, OVERRIDE], ids=lambda p: p.name)
EXTERNAL = {COMPOSE: (), OVERRIDE: ASTRO_SERVICES}


@FILES
def test_every_variable_is_set_by_env_example_or_has_a_default(path: Path):
    assert interpolated(path)[1] == ()


@FILES
def test_valid_against_the_compose_specification(path: Path):
    assert checks.schema_problems(interpolated(path)[0]) == []


@FILES
def test_check_jsonschema_cli_accepts_the_interpolated_file(path: Path, tmp_path: Path):
    """The same schema through check-jsonschema's own command line (the CI tool)."""
    target = tmp_path / path.name
    target.write_text(yaml.safe_dump(interpolated(path)[0]))
    cli = Path(sys.executable).parent / "check-jsonschema"
    done = subprocess.run([str(cli), "--builtin-schema", "vendor.compose-spec", str(target)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@FILES
def test_referenced_paths_exist(path: Path):
    assert checks.check_paths(interpolated(path)[0], ROOT) == []


@FILES
def test_every_service_has_an_image_or_extends_one(path: Path):
    assert checks.check_service_sources(interpolated(path)[0], EXTERNAL[path]) == []


@FILES
def test_images_are_pinned(path: Path):
    assert checks.check_image_tags(interpolated(path)[0]) == []


def test_image_tags_follow_the_requirements_pins():
    airflow_image = checks.services(compose())["airflow-scheduler"]["image"]
    assert checks.image_ref(airflow_image)[1] == pins()["apache-airflow"]
    for doc in (compose(), override()):
        assert checks.image_ref(checks.services(doc)["mlflow"]["image"])[1] == pins()["mlflow"]
    assert checks.services(compose())["llm"]["image"] == checks.services(override())["llm"]["image"]


def test_ports_bind_loopback_and_do_not_collide():
    assert checks.check_ports(compose()) == []


def test_override_ports_bind_loopback_and_leave_astros_ports_alone():
    assert checks.check_ports(override(), taken=ASTRO_PORTS) == []


@FILES
def test_depends_on_targets_exist(path: Path):
    assert checks.check_depends_on(interpolated(path)[0], EXTERNAL[path]) == []


@FILES
def test_long_running_services_have_healthchecks(path: Path):
    assert checks.check_healthchecks(interpolated(path)[0]) == []


def test_one_shot_services_are_the_init_and_cli_jobs():
    one_shot = {name for name, svc in checks.services(compose()).items()
                if str(svc.get("restart", "no")) == "no"}
    assert one_shot == {"airflow-init", "airflow-cli"}


def test_celery_workers_scale_out():
    """`docker compose up --scale airflow-worker=3` works: no fixed name, hostname or host port."""
    assert checks.check_scalable(compose(), "airflow-worker") == []


def test_celery_executor_broker_and_result_backend_are_consistent():
    assert checks.check_celery(compose()) == []


@FILES
def test_no_password_or_secret_is_written_into_the_file(path: Path):
    assert checks.check_no_literal_secrets(raw(path)) == []


def test_secrets_come_from_env_which_git_ignores():
    text = COMPOSE.read_text()
    for name in ("POSTGRES_PASSWORD", "MLFLOW_DB_PASSWORD", "CREWS_DB_PASSWORD", "AIRFLOW_JWT_SECRET",
                 "AIRFLOW_ADMIN_PASSWORD"):
        assert f"${{{name}:?" in text, f"{name} should be required (${{{name}:?...}})"
        assert env_example().get(name), f".env.example should show {name}"
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT)
    assert ignored.returncode == 0, ".env must be git-ignored"
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", ".env"], cwd=ROOT, capture_output=True)
    assert tracked.returncode != 0, ".env must never be committed"


def test_plain_docker_compose_does_not_merge_the_astro_override():
    """docker compose would merge docker-compose.override.yml, whose Astro services have no image here."""
    merged_services = set(checks.services(compose())) | set(checks.services(override()))
    assert {"scheduler", "api-server"} <= merged_services - set(checks.services(compose()))
    assert env_example().get("COMPOSE_FILE") == COMPOSE.name


def test_airflow_containers_reach_mlflow_and_the_llm_and_import_crews():
    known = checks.services(compose())
    for name, svc in known.items():
        env = checks.environment(svc)
        if "AIRFLOW__CORE__EXECUTOR" not in env:
            continue
        assert env["PYTHONPATH"] == "/opt/airflow", name
        assert any(str(v).endswith(":/opt/airflow/crews") for v in svc["volumes"]), name
        assert env["MLFLOW_TRACKING_URI"] == "http://mlflow:5000", name
        assert json.loads(env["AIRFLOW_CONN_LLM_DEFAULT"])["host"] == "http://llm:8001/v1", name
        assert {k: env[k] for k in QUIET_CREWAI} == QUIET_CREWAI, name
        assert env.get("OTEL_SDK_DISABLED", "").lower() != "true", name
        assert env["CREWS_RESULTS_URL"].startswith("postgresql+psycopg2://crews:"), name
    assert known["mlflow"]["ports"] == ["127.0.0.1:5000:5000"]
    assert known["llm"]["ports"] == ["127.0.0.1:8001:8001"]


def test_llm_connection_matches_airflow_settings_but_for_the_host():
    """The compose and override connection is airflow_settings.yaml's llm_default, on the llm service."""
    settings = yaml.safe_load((ROOT / "airflow_settings.yaml").read_text())["airflow"]
    (conn,) = [c for c in settings["connections"] if c["conn_id"] == "llm_default"]
    for doc, service in ((compose(), "airflow-worker"), (override(), "scheduler")):
        env_conn = json.loads(checks.environment(checks.services(doc)[service])["AIRFLOW_CONN_LLM_DEFAULT"])
        assert env_conn["conn_type"] == conn["conn_type"]
        assert env_conn["extra"] == conn["conn_extra"]
        assert env_conn["host"] == "http://llm:8001/v1" != conn["conn_host"]


def test_init_creates_the_llm_pool_from_airflow_settings():
    init = checks.services(compose())["airflow-init"]
    script = "\n".join(init["command"])
    assert "airflow_settings_loader.py /opt/airflow/airflow_settings.yaml" in script
    mounts = [str(v) for v in init["volumes"]]
    assert "./airflow_settings.yaml:/opt/airflow/airflow_settings.yaml:ro" in mounts
    assert "./scripts/airflow_settings.py:/opt/airflow/airflow_settings_loader.py:ro" in mounts
    settings = yaml.safe_load((ROOT / "airflow_settings.yaml").read_text())["airflow"]
    assert {p["pool_name"]: p["pool_slot"] for p in settings["pools"]}["llm_pool"] == 1


def test_worker_concurrency_is_small_and_llm_calls_are_serialised_by_the_pool():
    env = checks.environment(checks.services(compose())["airflow-worker"])
    assert 1 <= int(env["AIRFLOW__CELERY__WORKER_CONCURRENCY"]) <= 8
    assert int(env["AIRFLOW__CORE__PARALLELISM"]) >= int(env["AIRFLOW__CELERY__WORKER_CONCURRENCY"])
    crew_tasks = (ROOT / "dags/crew_airflow/tasks.py").read_text()
    assert 'LLM_POOL = "llm_pool"' in crew_tasks


def test_postgres_init_script_takes_passwords_from_the_environment():
    postgres = checks.services(raw(COMPOSE))["postgres"]
    (mount,) = [v for v in postgres["volumes"] if "docker-entrypoint-initdb.d" in str(v)]
    script = ROOT / str(mount).split(":")[0]
    sql = "\n".join(line.split("--")[0] for line in script.read_text().splitlines())  # without comments
    assert not re.search(r"PASSWORD\s+'", sql, re.I), "no literal password in the init script"
    env = checks.environment(postgres)
    for variable in ("MLFLOW_DB_PASSWORD", "CREWS_DB_PASSWORD"):
        assert "\\getenv" in sql and variable in sql
        assert env[variable].startswith(f"${{{variable}:?"), f"postgres gets {variable} from .env"
    major = int(checks.image_ref(postgres["image"])[1].split(".")[0])
    assert major >= 15, "psql's \\getenv needs PostgreSQL 15 or later"
