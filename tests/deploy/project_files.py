"""The project's deployment files, parsed once for the tests in this folder."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from tests.deploy.compose_checks import (
    ROOT,
    base_images,
    dockerfile_instructions,
    image_ref,
    interpolate,
    load_yaml,
    read_env_file,
    requirement_pins,
)

COMPOSE = ROOT / "docker-compose.yaml"
OVERRIDE = ROOT / "docker-compose.override.yml"
ASTRO_DOCKERFILE = ROOT / "Dockerfile"
AIRFLOW_DOCKERFILE = ROOT / "docker/airflow.Dockerfile"
MLFLOW_DOCKERFILE = ROOT / "docker/mlflow.Dockerfile"
LLM_DOCKERFILE = ROOT / "docker/llm.Dockerfile"

# What `astro dev start` generates for an Airflow 3 project (astronomer/astro-cli,
# airflow/include/airflow3/composeyml.go.tmpl): its services, the network they share and the
# host ports it publishes on 127.0.0.1 (api-server 8080, postgres 5432 by default).
ASTRO_SERVICES = ("postgres", "db-migration", "scheduler", "dag-processor", "api-server", "triggerer")
ASTRO_AIRFLOW_SERVICES = ("scheduler", "dag-processor", "api-server", "triggerer")
ASTRO_NETWORK = "airflow"
ASTRO_PORTS = {"8080": "api-server (Astro)", "5432": "postgres (Astro)"}

# Astro Runtime 3 builds, the Airflow release each carries, the Pythons it ships and its default.
# Source: Astronomer's runtime catalog https://updates.astronomer.io/astronomer-runtime, as cut on
# 2026-09-25 into astronomer/astro-cli pkg/runtimeversions/testdata/catalog.json
# (commit fc27cd1d495e5ecc0217310b6da5a10f1d97b04d, "keeping real entries"). Image names:
# astrocrpublic.azurecr.io/runtime:<build> runs the default Python,
# astrocrpublic.azurecr.io/runtime:<build>-python-X.Y another one (astro-cli pkg/imagebuild).
RUNTIME_REPOSITORY = "astrocrpublic.azurecr.io/runtime"
RUNTIME_CATALOG = {
    "3.3-1": {"airflow": "3.3.0", "pythons": ("3.12", "3.13", "3.14"), "default_python": "3.14"},
    "3.3-2": {"airflow": "3.3.0", "pythons": ("3.12", "3.13", "3.14"), "default_python": "3.14"},
    "3.3-8": {"airflow": "3.3.2", "pythons": ("3.12", "3.13", "3.14"), "default_python": "3.14"},
}


def pins() -> dict[str, str]:
    return requirement_pins(ROOT / "requirements.txt")


@cache
def env_example() -> dict[str, str]:
    return read_env_file(ROOT / ".env.example")


@cache
def raw(path: Path) -> dict[str, Any]:
    return load_yaml(path)


@cache
def interpolated(path: Path) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The compose document as docker compose sees it with .env.example copied to .env."""
    doc, problems = interpolate(raw(path), env_example())
    return doc, tuple(problems)


def compose() -> dict[str, Any]:
    return interpolated(COMPOSE)[0]


def override() -> dict[str, Any]:
    return interpolated(OVERRIDE)[0]


def dockerfile_env(path: Path) -> dict[str, str]:
    """The ENV instructions of a Dockerfile (KEY=VALUE form)."""
    env = {}
    for keyword, args in dockerfile_instructions(path):
        if keyword == "ENV":
            for key, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", args):
                env[key] = value
    return env


def astro_image() -> dict[str, str]:
    """Build, Python and Airflow of the Astro Dockerfile's base image."""
    (image,) = base_images(ASTRO_DOCKERFILE)
    repository, tag, _ = image_ref(image)
    build, _, python = (tag or "").partition("-python-")
    entry = RUNTIME_CATALOG.get(build, {})
    return {
        "image": image,
        "repository": repository,
        "build": build,
        "python": python or entry.get("default_python", ""),
        "airflow": entry.get("airflow", ""),
    }


def python_of_official_image(path: Path) -> str:
    """X.Y of an apache/airflow:<version>-pythonX.Y or python:X.Y-... base image."""
    (image,) = base_images(path)
    _, tag, _ = image_ref(image)
    m = re.search(r"python(\d+\.\d+)", tag or "") or re.match(r"(\d+\.\d+)", tag or "")
    return m.group(1) if m else ""
