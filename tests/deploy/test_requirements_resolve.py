"""The images' Python requirements resolve for the images' Python and platform.

`uv pip compile` against PyPI (reachable here; the tests skip, saying so, when it is not) with
--only-binary :all:, so every package has a wheel for the image (no compiler in the Astro image,
packages.txt stays empty). uv ignores upper bounds of Requires-Python, so the resolved versions
are also checked against the Requires-Python of the same versions installed in this venv.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import subprocess
import sys
import urllib.request
from functools import cache
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from tests.deploy import compose_checks as checks
from tests.deploy.project_files import (
    AIRFLOW_DOCKERFILE,
    MLFLOW_DOCKERFILE,
    astro_image,
    pins,
    python_of_official_image,
)

ROOT = checks.ROOT
UV = Path(sys.executable).parent / "uv"
# Providers every Astro Runtime 3.3 build ships (Astronomer's runtime provider reference,
# https://www.astronomer.io/docs/runtime/runtime-provider-reference): requirements.txt must
# resolve together with them.
ASTRO_RUNTIME_PROVIDERS = [
    "apache-airflow-providers-celery", "apache-airflow-providers-common-compat",
    "apache-airflow-providers-common-io", "apache-airflow-providers-common-sql",
    "apache-airflow-providers-elasticsearch", "apache-airflow-providers-openlineage",
    "apache-airflow-providers-smtp", "apache-airflow-providers-standard",
]


@cache
def _pypi_reachable() -> str | None:
    try:
        urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=10).close()
    except OSError as exc:
        return f"PyPI is unreachable ({exc}); this test resolves against it"
    return None


def _pip_install_requirements(dockerfile: Path, variables: dict[str, str]) -> list[str]:
    """The requirement arguments of the Dockerfile's `pip install` (``-r FILE`` mapped into the project)."""
    run = " ".join(args for keyword, args in checks.dockerfile_instructions(dockerfile) if keyword == "RUN")
    words = run.split("pip install", 1)[1].split("&&")[0].split()
    out, take_file = [], False
    for word in words:
        word = word.strip('"')
        for name, value in variables.items():
            word = word.replace(f"${{{name}}}", value)
        if take_file:
            out.append(f"-r {ROOT / Path(word).name}")
            take_file = False
        elif word == "-r":
            take_file = True
        elif not word.startswith("-"):
            out.append(word)
    return out


IMAGES = {
    "astro": lambda: (astro_image()["python"],
                      ["-r " + str(ROOT / "requirements.txt"), *ASTRO_RUNTIME_PROVIDERS]),
    "compose-airflow": lambda: (python_of_official_image(AIRFLOW_DOCKERFILE),
                                _pip_install_requirements(AIRFLOW_DOCKERFILE,
                                                          {"AIRFLOW_VERSION": pins()["apache-airflow"]})),
    "mlflow": lambda: (python_of_official_image(MLFLOW_DOCKERFILE),
                       _pip_install_requirements(MLFLOW_DOCKERFILE, {})),
}


@pytest.mark.parametrize("platform", ["x86_64-manylinux_2_28", "aarch64-manylinux_2_28"])
@pytest.mark.parametrize("image", sorted(IMAGES))
def test_requirements_resolve_for_the_image(image: str, platform: str, tmp_path: Path):
    if reason := _pypi_reachable():
        pytest.skip(reason)
    python, requirements = IMAGES[image]()
    assert re.fullmatch(r"3\.\d+", python), python
    source = tmp_path / "requirements.in"
    source.write_text("\n".join(requirements) + "\n")
    output = tmp_path / "resolved.txt"
    done = subprocess.run(
        [str(UV), "pip", "compile", str(source), "--python-version", python, "--python-platform", platform,
         "--only-binary", ":all:", "--no-header", "--quiet", "-o", str(output)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, (f"{image} requirements do not resolve for Python {python} on {platform}:\n"
                                  f"{done.stderr}")
    resolved = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", output.read_text(), re.M))
    assert resolved, "nothing resolved"
    if image != "mlflow":
        assert resolved["apache-airflow"] == pins()["apache-airflow"]
    assert _python_upper_bounds_broken(resolved, python) == []


def _python_upper_bounds_broken(resolved: dict[str, str], python: str) -> list[str]:
    """Resolved packages whose Requires-Python (same version, installed here) excludes the image's Python."""
    installed = {canonicalize_name(d.metadata["Name"]): d for d in metadata.distributions()}
    broken = []
    for name, version in resolved.items():
        dist = installed.get(canonicalize_name(name))
        if dist is None or dist.version != version:
            continue
        requires = dist.metadata.get("Requires-Python")
        if requires and not SpecifierSet(requires).contains(f"{python}.0", prereleases=True):
            broken.append(f"{name}=={version} requires Python {requires}")
    return broken


def test_upper_bound_check_catches_the_runtime_default_python():
    """Runtime 3.3-8 defaults to Python 3.14; crewai's Requires-Python (<3.14) rules it out."""
    resolved = {"crewai": metadata.version("crewai")}
    assert _python_upper_bounds_broken(resolved, "3.14") != []
    assert _python_upper_bounds_broken(resolved, "3.12") == []
