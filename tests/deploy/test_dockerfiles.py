"""The Dockerfiles: pinned base images, COPY sources that exist, versions that follow the pins."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.deploy import compose_checks as checks
from tests.deploy.project_files import (
    AIRFLOW_DOCKERFILE,
    ASTRO_DOCKERFILE,
    LLM_DOCKERFILE,
    MLFLOW_DOCKERFILE,
    compose,
    override,
    pins,
    python_of_official_image,
)

ROOT = checks.ROOT
DOCKERFILES = [ASTRO_DOCKERFILE, *sorted((ROOT / "docker").glob("*.Dockerfile"))]
EACH = pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))


@EACH
def test_base_image_is_pinned(dockerfile: Path):
    assert checks.base_images(dockerfile), "no FROM"
    assert checks.check_base_images(dockerfile) == []


@EACH
def test_copy_sources_exist_and_are_not_dockerignored(dockerfile: Path):
    assert checks.check_copy_sources(dockerfile, ROOT) == []


def test_every_compose_dockerfile_is_built_by_a_service():
    built = {
        (ROOT / svc["build"]["context"] / svc["build"]["dockerfile"]).resolve()
        for doc in (compose(), override())
        for svc in checks.services(doc).values()
        if isinstance(svc.get("build"), dict)
    }
    assert built == {p.resolve() for p in DOCKERFILES if p != ASTRO_DOCKERFILE}


def test_compose_airflow_image_is_the_official_image_of_the_pinned_airflow():
    (image,) = checks.base_images(AIRFLOW_DOCKERFILE)
    name, tag, _ = checks.image_ref(image)
    assert name == "apache/airflow"
    assert re.fullmatch(rf"{re.escape(pins()['apache-airflow'])}-python3\.\d+", tag)
    assert python_of_official_image(AIRFLOW_DOCKERFILE) == "3.12", "same Python as the Astro image"
    run = " ".join(args for keyword, args in checks.dockerfile_instructions(AIRFLOW_DOCKERFILE)
                   if keyword == "RUN")
    assert '"apache-airflow[celery,postgres,redis]==${AIRFLOW_VERSION}"' in run
    assert "-r /requirements.txt" in run


def test_mlflow_image_installs_the_pinned_mlflow():
    run = " ".join(args for keyword, args in checks.dockerfile_instructions(MLFLOW_DOCKERFILE)
                   if keyword == "RUN")
    assert f'"mlflow[auth]=={pins()["mlflow"]}"' in run.split()  # the basic-auth app of the compose stack
    assert re.search(r"psycopg2-binary==[\d.]+", run), "the Postgres driver of the backend store"


def test_the_compose_stack_authenticates_mlflow_and_the_llm():
    compose = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
    services = compose["services"]
    assert "--app-name=basic-auth" in services["mlflow"]["command"]
    env = services["mlflow"]["environment"]
    assert env["MLFLOW_AUTH_ADMIN_PASSWORD"].startswith("${MLFLOW_ADMIN_PASSWORD:?")
    assert env["MLFLOW_AUTH_CONFIG_PATH"] == "/app/basic_auth.ini"
    ini = (ROOT / "docker/mlflow_basic_auth.ini").read_text()
    assert "admin_password" not in ini and "database_uri = sqlite:////mlflow/auth/" in ini
    assert services["llm"]["environment"]["CREWS_LLM_SERVER_API_KEY"].startswith("${LLM_API_KEY:?")
    common = compose["x-airflow-common"]["environment"]
    assert common["MLFLOW_TRACKING_PASSWORD"].startswith("${MLFLOW_ADMIN_PASSWORD:?")
    assert '"password": "${LLM_API_KEY:?' in common["AIRFLOW_CONN_LLM_DEFAULT"]


def test_llm_image_installs_the_local_model_requirements():
    run = " ".join(args for keyword, args in checks.dockerfile_instructions(LLM_DOCKERFILE)
                   if keyword == "RUN")
    assert "-r requirements-local.txt" in run
    assert "requirements-local.txt" in checks.copy_sources(LLM_DOCKERFILE)
    cmd = [args for keyword, args in checks.dockerfile_instructions(LLM_DOCKERFILE) if keyword == "CMD"][-1]
    # inside the container; published on 127.0.0.1
    assert '"crews.runtime.local_server"' in cmd and '"0.0.0.0"' in cmd
