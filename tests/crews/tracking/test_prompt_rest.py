"""Reading a prompt version over MLflow's REST API, checked against MLflow's own client on a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crews.tracking import prompt_rest, prompts
from crews.tracking.prompt_rest import NotInRegistry, RegistryUnreachable, fetch_version, prompt_exists
from crews.tracking.prompts import push
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[3]


def test_a_version_reads_as_mlflows_client_reads_it(registry, mlflow_http):
    push(registry, "fact_check")
    name = prompts.prompt_name("fact_check")
    chat = registry.register_prompt(name, [{"role": "user", "content": "{{copy}}"}])
    by_client = registry.get_prompt_version_by_alias(name, "production")
    by_alias = fetch_version(mlflow_http, name, alias="production")
    assert (by_alias.version, by_alias.template) == (str(by_client.version), by_client.template)
    assert by_alias.tags["prompt_hash"] == by_client.tags["prompt_hash"]
    assert fetch_version(mlflow_http, name, version=str(chat.version)).template == chat.template
    with pytest.raises(NotInRegistry):
        fetch_version(mlflow_http, name, alias="staging")
    with pytest.raises(NotInRegistry):
        fetch_version(mlflow_http, name, version="99")
    assert prompt_exists(mlflow_http, name) and not prompt_exists(mlflow_http, name + ".absent")


def test_a_registered_model_is_not_a_prompt(registry, mlflow_http):
    name = prompts.prompt_name("fact_check") + ".model"
    registry.create_registered_model(name)
    registry.create_model_version(name, "s3://bucket/model")
    with pytest.raises(NotInRegistry):
        fetch_version(mlflow_http, name, version="1")
    assert not prompt_exists(mlflow_http, name)


def test_a_dead_server_is_unreachable():
    with pytest.raises(RegistryUnreachable, match="unreachable"):
        fetch_version(f"http://127.0.0.1:{free_port()}", "crews.fact_check", alias="production")


def test_mlflows_credentials_are_sent_as_mlflow_sends_them(monkeypatch):
    for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_INSECURE_TLS"):
        monkeypatch.delenv(name, raising=False)
    assert prompt_rest._auth() == {"verify": True}
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ann")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "pw")
    assert prompt_rest._auth()["auth"] == ("ann", "pw")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tok")
    monkeypatch.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
    assert prompt_rest._auth() == {"verify": False, "headers": {"Authorization": "Bearer tok"}}


def test_serving_from_a_server_does_not_import_mlflow(registry, mlflow_http):
    """What an item pays in its LLM slot before the crew starts: no MLflow import."""
    push(registry, "fact_check")
    script = (
        "import json, sys\n"
        "from crews.tracking import prompts\n"
        f"prompts.prompt_name = lambda crew: {prompts.prompt_name('fact_check')!r}\n"
        "served = prompts.load_served('fact_check')\n"
        "print(json.dumps([served.source, served.version, 'mlflow' in sys.modules]))\n"
    )
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_http, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == ["registry", "1", False]
