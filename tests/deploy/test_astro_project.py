"""The Astro project: Dockerfile, .astro/config.yaml, packages.txt, airflow_settings.yaml,
.dockerignore, docker-compose.override.yml, and what `astro dev pytest tests/dags` needs."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from crews import QUIET_CREWAI
from tests.deploy import compose_checks as checks
from tests.deploy.project_files import (
    ASTRO_AIRFLOW_SERVICES,
    ASTRO_DOCKERFILE,
    ASTRO_NETWORK,
    RUNTIME_CATALOG,
    RUNTIME_REPOSITORY,
    astro_image,
    dockerfile_env,
    override,
    pins,
)

ROOT = checks.ROOT


# --- Dockerfile ----------------------------------------------------------------------------------


def test_dockerfile_builds_on_the_astro_runtime_of_the_pinned_airflow():
    image = astro_image()
    assert image["repository"] == RUNTIME_REPOSITORY
    assert image["build"] in RUNTIME_CATALOG, (f"{image['build']} is not in the runtime table; add it with "
                                               "its source")
    assert image["airflow"] == pins()["apache-airflow"], ("the runtime must carry the Airflow of "
                                                          "requirements.txt")
    assert image["python"] in RUNTIME_CATALOG[image["build"]]["pythons"]
    instructions = checks.dockerfile_instructions(ASTRO_DOCKERFILE)
    assert instructions[0][0] == "FROM" and [k for k, _ in instructions].count("FROM") == 1


def test_image_python_is_one_crewai_supports():
    """crewai declares Requires-Python <3.14; Runtime 3.3-8 defaults to 3.14, hence the -python-3.12 image."""
    python = astro_image()["python"]
    for name in ("crewai", "crewai-tools"):
        requires = metadata.metadata(name)["Requires-Python"]
        assert Requirement(f"python{requires}").specifier.contains(f"{python}.0"), (name, requires, python)


def test_image_makes_crews_importable_and_quiets_crewai():
    env = dockerfile_env(ASTRO_DOCKERFILE)
    assert re.match(r"/usr/local/airflow(\$|:|$)", env["PYTHONPATH"]), env["PYTHONPATH"]  # first on the path
    assert {k: env.get(k) for k in QUIET_CREWAI} == QUIET_CREWAI
    assert "OTEL_SDK_DISABLED" not in env


def test_otel_sdk_disabled_stays_unset_because_it_switches_mlflow_tracing_off(tmp_path: Path):
    """Why the image sets CrewAI's own switches but not OTEL_SDK_DISABLED=true."""
    code = (
        "import mlflow, sys\n"
        f"mlflow.set_tracking_uri('sqlite:///{tmp_path / 'mlflow.db'}')\n"
        "with mlflow.start_span('probe'):\n    pass\n"
        "print('TRACE=' + str(mlflow.get_last_active_trace_id()))\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "MLFLOW_"))}
    traces = {}
    for disabled in ("", "true"):
        env = {**base, **({"OTEL_SDK_DISABLED": disabled} if disabled else {})}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                             timeout=300, cwd=tmp_path)
        assert out.returncode == 0, out.stderr[-2000:]
        traces[disabled] = re.search(r"TRACE=(\S+)", out.stdout).group(1)
    assert traces[""].startswith("tr-"), "MLflow traces normally"
    assert traces["true"] == "None", "OTEL_SDK_DISABLED=true leaves MLflow without traces"


def test_state_dir_is_created_in_the_image_and_kept_in_a_volume():
    env = dockerfile_env(ASTRO_DOCKERFILE)
    runs = " ".join(a for k, a in checks.dockerfile_instructions(ASTRO_DOCKERFILE) if k == "RUN")
    assert f"mkdir -p {env['CREWS_STATE_DIR']}" in runs and f"chown astro:0 {env['CREWS_STATE_DIR']}" in runs
    users = [a for k, a in checks.dockerfile_instructions(ASTRO_DOCKERFILE) if k == "USER"]
    assert not users or users[-1] == "astro", "Airflow runs as the runtime's astro user"
    for name in ASTRO_AIRFLOW_SERVICES:
        volumes = checks.services(override())[name]["volumes"]
        assert f"crews_state:{env['CREWS_STATE_DIR']}" in volumes


# --- project files -------------------------------------------------------------------------------


def test_astro_config_names_the_project_like_the_cli_does():
    config = yaml.safe_load((ROOT / ".astro/config.yaml").read_text())
    assert set(config) == {"project"}
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", config["project"]["name"])


def test_packages_txt_lists_only_debian_package_names():
    """Empty: every requirement installs from a wheel (see test_requirements_resolve.py). No comments
    either: the runtime's install script is not known to strip them before apt-get."""
    lines = [line.strip() for line in (ROOT / "packages.txt").read_text().splitlines() if line.strip()]
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9+.-]+(=[\w.:~+-]+)?", line) for line in lines), lines


ASTRO_SETTINGS_FIELDS = {
    # astronomer/astro-cli airflow/include/airflow3/settingsyml.yml (+ conn_uri, conn_description,
    # include_deferred, which the CLI also reads)
    "connections": {"conn_id", "conn_type", "conn_host", "conn_schema", "conn_login", "conn_password",
                    "conn_port", "conn_extra", "conn_uri", "conn_description"},
    "pools": {"pool_name", "pool_slot", "pool_description", "include_deferred"},
    "variables": {"variable_name", "variable_value"},
}


def test_airflow_settings_follow_the_astro_cli_format():
    settings = yaml.safe_load((ROOT / "airflow_settings.yaml").read_text())
    assert set(settings) == {"airflow"}
    assert set(settings["airflow"]) <= set(ASTRO_SETTINGS_FIELDS)
    for kind, fields in ASTRO_SETTINGS_FIELDS.items():
        for entry in settings["airflow"].get(kind) or []:
            assert set(entry) <= fields, (kind, sorted(set(entry) - fields))
    for pool in settings["airflow"]["pools"]:
        assert isinstance(pool["pool_slot"], int) and pool["pool_slot"] >= 1
    for conn in settings["airflow"]["connections"]:
        assert not conn.get("conn_password"), "no secret in airflow_settings.yaml"


def test_dockerignore_keeps_secrets_and_local_state_out_but_the_project_in():
    patterns = checks.dockerignore_patterns(ROOT)
    for excluded in (".env", ".git", ".venv", ".stack", "airflow_settings.yaml", ".astro",
                     "crews/__pycache__/x.pyc", "logs/scheduler"):
        assert checks.is_ignored(excluded, patterns), excluded
    for kept in ("dags/fact_check_copy.py", "crews/__init__.py", "include/pricing.yaml", "plugins",
                 "tests/dags/test_dag_integrity.py", "requirements.txt", "packages.txt", "pyproject.toml"):
        assert not checks.is_ignored(kept, patterns), kept


# --- docker-compose.override.yml ---------------------------------------------------------------


def test_override_extends_the_services_astro_generates():
    known = checks.services(override())
    extended = {name for name, svc in known.items() if not checks.defines_container(svc)}
    assert extended == set(ASTRO_AIRFLOW_SERVICES)
    envs = {name: checks.environment(known[name]) for name in extended}
    assert len({json.dumps(env, sort_keys=True) for env in envs.values()}) == 1, "same settings everywhere"
    env = envs["scheduler"]
    assert env["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert json.loads(env["AIRFLOW_CONN_LLM_DEFAULT"])["host"] == "http://llm:8001/v1"
    assert env["CREWS_MLFLOW_UI_URL"] == "http://127.0.0.1:5000"
    for service in ("mlflow", "llm"):
        assert known[service]["networks"] == [ASTRO_NETWORK], f"{service} must join Astro's network"
    assert "./crews:/usr/local/airflow/crews:z" in known["scheduler"]["volumes"]


# --- astro dev pytest tests/dags ---------------------------------------------------------------


def _imports(path: Path, module_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text())
    nodes = list(ast.walk(tree))
    if module_level_only:
        nodes, stack = [], list(tree.body)
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.If, ast.Try)):
                stack += node.body + node.orelse + getattr(node, "finalbody", [])
                stack += [n for handler in getattr(node, "handlers", []) for n in handler.body]
            nodes.append(node)
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _runtime_distributions() -> set[str]:
    """requirements.txt and everything it pulls in, from the installed packages' metadata."""
    todo = [Requirement(line.split("#")[0]) for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.split("#")[0].strip()]
    seen: set[tuple[str, frozenset]] = set()
    while todo:
        req = todo.pop()
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.distribution(req.name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            dep = Requirement(line)
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in (req.extras or {""})):
                todo.append(dep)
    return {name for name, _ in seen}


def test_dag_tests_import_only_what_the_astro_image_installs():
    """`astro dev pytest tests/dags` runs in the image: requirements.txt plus the runtime's pytest.

    Scans tests/conftest.py and tests/dags (every import) and the tests.support modules they use,
    including the scripted LLMs the DAG runs load by name (module-level imports).
    """
    files = [(ROOT / "tests/conftest.py", False),
             *((p, False) for p in sorted((ROOT / "tests/dags").glob("*.py"))),
             *((p, True) for p in sorted((ROOT / "tests/support").glob("*.py")))]
    modules, seen = set(), set()
    while files:
        path, module_level_only = files.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imports(path, module_level_only):
            if name.startswith("tests."):
                target = ROOT / (name.replace(".", "/") + ".py")
                if target.is_file():
                    files.append((target, True))
            else:
                modules.add(name.split(".")[0])
    local = {"tests", "crews", "crew_airflow", "dags", "plugins"}
    owners = metadata.packages_distributions()
    available = _runtime_distributions() | {"pytest"}  # Astro Runtime ships pytest for `astro dev pytest`
    missing = {
        module: owners.get(module)
        for module in sorted(modules - local - set(sys.stdlib_module_names))
        if not {canonicalize_name(d) for d in owners.get(module, [])} & available
    }
    assert missing == {}, "tests/dags would need packages the Astro image does not install"


@pytest.mark.parametrize("dev_only", ["fpdf2", "playwright", "llama-cpp-python"])
def test_dev_and_local_packages_are_not_in_the_image(dev_only: str):
    """The scan above can fail: these packages are installed here but not in the image."""
    assert canonicalize_name(dev_only) not in _runtime_distributions()
