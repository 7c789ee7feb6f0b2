"""The checks in compose_checks.py can fail: each one gets a deliberately broken document."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import compose_checks as checks

GOOD = """
x-airflow: &airflow
  build: {context: ., dockerfile: app.Dockerfile}
  image: app:1.0
  env_file:
    - path: .env
      required: false
  environment: &env
    AIRFLOW__CORE__EXECUTOR: CeleryExecutor
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: postgresql+psycopg2://airflow:${DB_PASSWORD:?set it}@postgres/airflow
    AIRFLOW__CELERY__RESULT_BACKEND: db+postgresql://airflow:${DB_PASSWORD:?set it}@postgres/airflow
    AIRFLOW__CELERY__BROKER_URL: redis://:@redis:6379/0
  volumes:
    - ./dags:/opt/airflow/dags
    - logs:/opt/airflow/logs
  depends_on: &deps
    postgres: {condition: service_healthy}
    redis: {condition: service_healthy}
services:
  postgres:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: ${DB_PASSWORD:?set it}
    healthcheck: {test: ["CMD", "pg_isready"]}
    restart: always
  redis:
    image: redis:7.2-bookworm
    healthcheck: {test: ["CMD", "redis-cli", "ping"]}
    restart: always
  api:
    <<: *airflow
    command: api-server
    ports: ["127.0.0.1:${API_PORT:-8080}:8080"]
    healthcheck: {test: ["CMD", "curl", "--fail", "http://localhost:8080/api/v2/monitor/health"]}
    restart: always
  scheduler:
    <<: *airflow
    command: scheduler
    healthcheck: {test: ["CMD", "curl", "--fail", "http://localhost:8974/health"]}
    restart: always
  worker:
    <<: *airflow
    command: celery worker
    healthcheck: {test: ["CMD-SHELL", "celery inspect ping"]}
    restart: always
  init:
    <<: *airflow
    command: ["bash", "-c", "echo $$HOME"]
    restart: "no"
volumes:
  logs:
"""
ENV = {"DB_PASSWORD": "x"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder holding what GOOD references."""
    (tmp_path / "dags").mkdir()
    (tmp_path / "app.Dockerfile").write_text("FROM python:3.12-slim-bookworm\nCOPY app.py /app/\n")
    (tmp_path / "app.py").write_text("")
    (tmp_path / "docker-compose.yaml").write_text(GOOD)
    return tmp_path


def load(project: Path, change=None) -> dict[str, Any]:
    """GOOD from the file in tmp_path, interpolated, after ``change`` edits the raw document."""
    raw = yaml.safe_load((project / "docker-compose.yaml").read_text())
    if change:
        raw = copy.deepcopy(raw)
        change(raw)
        (project / "docker-compose.yaml").write_text(yaml.safe_dump(raw))
        raw = yaml.safe_load((project / "docker-compose.yaml").read_text())
    doc, problems = checks.interpolate(raw, ENV)
    assert problems == []
    return doc


def svc(doc: dict, name: str) -> dict:
    return doc["services"][name]


def test_the_good_document_passes_every_check(project: Path):
    doc = load(project)
    assert checks.schema_problems(doc) == []
    assert checks.check_paths(doc, project) == []
    assert checks.check_service_sources(doc) == []
    assert checks.check_image_tags(doc) == []
    assert checks.check_ports(doc) == []
    assert checks.check_depends_on(doc) == []
    assert checks.check_healthchecks(doc) == []
    assert checks.check_scalable(doc, "worker") == []
    assert checks.check_celery(doc) == []
    assert checks.check_no_literal_secrets(yaml.safe_load(GOOD)) == []
    assert doc["services"]["init"]["command"][-1] == "echo $HOME"


# --- interpolation ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "env", "expected"), [
    ("${A:-d}", {}, "d"), ("${A:-d}", {"A": ""}, "d"), ("${A-d}", {"A": ""}, ""), ("${A:-${B:-x}}", {}, "x"),
    ("${A:+r}", {"A": "1"}, "r"), ("${A+r}", {}, ""), ("$$A", {"A": "1"}, "$A"), ("$A/b", {"A": "1"}, "1/b"),
])
def test_interpolation_follows_compose(text: str, env: dict, expected: str):
    problems: list[str] = []
    assert checks.interpolate_text(text, env, "x", problems) == expected
    assert problems == []


def test_a_missing_required_variable_is_reported(project: Path):
    _, problems = checks.interpolate(yaml.safe_load(GOOD), {})
    assert any("required variable DB_PASSWORD is missing: set it" in p for p in problems)


def test_an_unset_variable_without_default_is_reported():
    _, problems = checks.interpolate({"services": {"a": {"image": "x:${TAG}"}}}, {})
    assert problems == ["/services/a/image: variable TAG is not set and has no default (compose would use "
                        "'')"]


def test_env_file_parsing(tmp_path: Path):
    (tmp_path / ".env").write_text("# c\nA=1\nB='{\"k\": 1}'\nC=\"two words\"\nexport D=4\nE=5 # note\n\n")
    assert checks.read_env_file(tmp_path / ".env") == {"A": "1", "B": '{"k": 1}', "C": "two words", "D": "4",
                                                       "E": "5"}


# --- one broken document per check ---------------------------------------------------------------


def test_schema_reports_a_wrong_type(project: Path):
    doc = load(project, lambda d: svc(d, "redis").update(restart=["always"], ports=8080))
    problems = checks.schema_problems(doc)
    assert "services/redis/restart: ['always'] is not of type 'string'" in problems
    assert any(p.startswith("services/redis/ports: 8080") for p in problems)


def test_schema_reports_an_unknown_key(project: Path):
    problems = checks.schema_problems(load(project, lambda d: svc(d, "redis").update(helthcheck={})))
    assert any("'helthcheck' was unexpected" in p for p in problems)


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["x-airflow"]["build"].update(dockerfile="missing.Dockerfile"),
     "dockerfile missing.Dockerfile does not exist"),
    (lambda d: d["x-airflow"]["build"].update(context="nowhere"), "build context nowhere does not exist"),
    (lambda d: d["x-airflow"]["volumes"].append("./plugins:/opt/airflow/plugins"),
     "bind-mount source ./plugins does not exist"),
    (lambda d: d["x-airflow"]["env_file"][0].update(required=True),
     "env_file .env is required and does not exist"),
])
def test_paths_report_what_does_not_exist(project: Path, change, expected: str):
    def edit(d):  # the anchor is expanded on load, so edit every service that merged it
        change(d)
        for name in ("api", "scheduler", "worker", "init"):
            d["services"][name] = {**svc(d, name),
                                   **{k: d["x-airflow"][k] for k in ("build", "volumes", "env_file")}}
    problems = checks.check_paths(load(project, edit), project)
    assert any(expected in p for p in problems), problems


def test_a_service_without_image_or_build_is_reported(project: Path):
    doc = load(project, lambda d: d["services"].update(scheduler={"environment": {"A": "1"}}))
    assert checks.check_service_sources(doc) != []
    assert checks.check_service_sources(doc, external={"scheduler"}) == []


@pytest.mark.parametrize(("image", "expected"), [("redis", "has no tag"),
                                                  ("redis:latest", "uses the tag latest"),
                                                  ("registry:5000/redis", "has no tag")])
def test_unpinned_images_are_reported(project: Path, image: str, expected: str):
    problems = checks.check_image_tags(load(project, lambda d: svc(d, "redis").update(image=image)))
    assert problems and expected in problems[0]


def test_digest_pinned_images_pass(project: Path):
    assert checks.check_image_tags(load(project,
                                        lambda d: svc(d, "redis").update(image="redis@sha256:abc"))) == []


@pytest.mark.parametrize("ports", [["8080:8080"], ["0.0.0.0:8080:8080"], ["8080"],
                                   [{"target": 8080, "published": "8080"}]])
def test_ports_on_every_interface_are_reported(project: Path, ports: list):
    problems = checks.check_ports(load(project, lambda d: svc(d, "api").update(ports=ports)))
    assert any("published on every interface" in p for p in problems)


def test_a_host_port_published_twice_is_reported(project: Path):
    doc = load(project, lambda d: svc(d, "redis").update(ports=["127.0.0.1:8080:6379"]))
    assert any("host port 8080 is also published by" in p for p in checks.check_ports(doc))


def test_a_host_port_taken_by_astro_is_reported(project: Path):
    problems = checks.check_ports(load(project), taken={"8080": "api-server (Astro)"})
    assert problems == ["service api: host port 8080 is also published by api-server (Astro)"]


def test_depends_on_a_missing_service_is_reported(project: Path):
    doc = load(project, lambda d: svc(d, "worker").update(
        depends_on={"rabbitmq": {"condition": "service_started"}}))
    assert checks.check_depends_on(doc) == ["service worker: depends_on rabbitmq, which is not a service"]
    doc = load(project, lambda d: svc(d, "worker").update(depends_on=["rabbitmq"]))
    assert checks.check_depends_on(doc) == ["service worker: depends_on rabbitmq, which is not a service"]


def test_waiting_for_health_without_a_healthcheck_is_reported(project: Path):
    doc = load(project, lambda d: svc(d, "redis").pop("healthcheck"))
    assert ("service api: waits for redis to be healthy, but redis has no healthcheck"
            in checks.check_depends_on(doc))


@pytest.mark.parametrize("change", [lambda s: s.pop("healthcheck"),
                                    lambda s: s.update(healthcheck={"disable": True})])
def test_a_long_running_service_without_healthcheck_is_reported(project: Path, change):
    problems = checks.check_healthchecks(load(project, lambda d: change(svc(d, "scheduler"))))
    assert problems == ["service scheduler: long-running (restart: always) but has no healthcheck"]


@pytest.mark.parametrize(("change", "expected"), [
    (lambda s: s.update(container_name="worker"), "container_name is fixed"),
    (lambda s: s.update(hostname="worker"), "hostname is fixed"),
    (lambda s: s.update(ports=["127.0.0.1:8793:8793"]), "publishes host port 8793"),
])
def test_an_unscalable_worker_is_reported(project: Path, change, expected: str):
    problems = checks.check_scalable(load(project, lambda d: change(svc(d, "worker"))), "worker")
    assert problems and expected in problems[0]


def _set_env(d: dict, key: str, value: str, services=("api", "scheduler", "worker", "init")) -> None:
    for name in services:
        svc(d, name)["environment"] = {**svc(d, name)["environment"], key: value}


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: _set_env(d, "AIRFLOW__CORE__EXECUTOR", "LocalExecutor"), "not CeleryExecutor"),
    (lambda d: _set_env(d, "AIRFLOW__CELERY__BROKER_URL", "redis://:@cache:6379/0"),
     "is not a Redis service"),
    (lambda d: _set_env(d, "AIRFLOW__CELERY__BROKER_URL", "amqp://rabbit:5672//"), "is not a Redis service"),
    (lambda d: _set_env(d, "AIRFLOW__CELERY__RESULT_BACKEND", "redis://:@redis:6379/1"),
     "is not a db+postgresql URL"),
    (lambda d: _set_env(d, "AIRFLOW__CELERY__RESULT_BACKEND", "db+postgresql://a:b@postgres/other"),
     "not the metadata database"),
    (lambda d: _set_env(d, "AIRFLOW__CELERY__BROKER_URL", "redis://:@redis:6379/5", services=("worker",)),
     "differs between the Airflow services"),
    (lambda d: svc(d, "worker").update(command="celery flower"), "no service runs `celery worker`"),
    (lambda d: svc(d, "worker").update(depends_on={"postgres": {"condition": "service_healthy"}}),
     "does not depend on the broker redis"),
    (lambda d: svc(d, "scheduler").update(command="triggerer"), "no service runs the scheduler"),
])
def test_an_inconsistent_celery_setup_is_reported(project: Path, change, expected: str):
    problems = checks.check_celery(load(project, change))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: svc(d, "postgres")["environment"].update(POSTGRES_PASSWORD="airflow"),
     "POSTGRES_PASSWORD is a literal"),
    (lambda d: svc(d, "api").update(environment={"URL": "postgresql://mlflow:mlflow@postgres/mlflow"}),
     "URL has a literal password in a URL"),
    (lambda d: svc(d, "redis").update(command="server --backend-store-uri postgresql://u:pw@db/x"),
     "command has a literal password in a URL"),
])
def test_literal_secrets_are_reported(change, expected: str):
    raw = yaml.safe_load(GOOD)
    change(raw)
    problems = checks.check_no_literal_secrets(raw)
    assert any(expected in p for p in problems), problems


# --- Dockerfiles --------------------------------------------------------------------------------


def test_dockerfile_parsing_joins_continuations_and_skips_comments(tmp_path: Path):
    (tmp_path / "Dockerfile").write_text(
        "# c\nFROM --platform=linux/amd64 python:3.12 AS base\nRUN a \\\n  # inner comment\n  && b\n"
        'COPY --chown=1:0 ["x y", "z/"]\nCOPY --from=base /a /b\nENV A=1 B=2\n'
    )
    path = tmp_path / "Dockerfile"
    assert checks.base_images(path) == ["python:3.12"]
    assert ("RUN", "a && b") in checks.dockerfile_instructions(path)
    assert checks.copy_sources(path) == ["x y"]


@pytest.mark.parametrize(("image", "bad"), [("python", True), ("python:latest", True), ("python:3.12", False),
                                             ("python@sha256:abc", False)])
def test_unpinned_base_images_are_reported(tmp_path: Path, image: str, bad: bool):
    (tmp_path / "Dockerfile").write_text(f"FROM {image}\n")
    assert bool(checks.check_base_images(tmp_path / "Dockerfile")) is bad


def test_missing_or_dockerignored_copy_sources_are_reported(tmp_path: Path):
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nCOPY here.txt gone.txt /app/\n"
                                         "COPY secret/key /k\n")
    (tmp_path / "here.txt").write_text("")
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret/key").write_text("")
    (tmp_path / ".dockerignore").write_text("secret\n")
    assert checks.check_copy_sources(tmp_path / "Dockerfile", tmp_path) == [
        "Dockerfile: COPY source gone.txt does not exist in the build context",
        "Dockerfile: COPY source secret/key is excluded by .dockerignore",
    ]


@pytest.mark.parametrize(("path", "patterns", "ignored"), [
    ("a/__pycache__/x.pyc", ["**/__pycache__"], True), (".venv/bin/python", [".venv"], True),
    ("dags/x.py", [".venv"], False), ("logs/x", ["logs/"], True), ("keep.env", ["*.env", "!keep.env"], False),
])
def test_dockerignore_matching(path: str, patterns: list[str], ignored: bool):
    assert checks.is_ignored(path, patterns) is ignored


def test_requirement_pins(tmp_path: Path):
    (tmp_path / "r.txt").write_text("# c\napache-airflow==3.3.2\ncrewai[anthropic]==1.15.30  # x\n"
                                    "pydantic>=2\n")
    assert checks.requirement_pins(tmp_path / "r.txt") == {"apache-airflow": "3.3.2", "crewai": "1.15.30"}
