"""plugins/crew_workers.py: workers that preload the crews' imports, so the tasks they fork do not."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "plugins"))
import crew_workers  # noqa: E402

HEAVY = ("crewai", "mlflow", "celery", "airflow.executors.local_executor")


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, 'plugins'); {code}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_importing_the_plugin_loads_nothing_heavy():
    """The plugin manager imports it in every Airflow process, task processes included."""
    loaded = _python(f"import crew_workers; print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    assert loaded == "[]"


def test_preload_imports_what_a_crew_task_needs():
    loaded = _python("import crew_workers; crew_workers.preload(); "
                     "print(all(m in sys.modules for m in crew_workers.PRELOAD + ('crewai', 'mlflow')))")
    assert loaded == "True"


def test_celery_config_is_airflows_with_a_worker_init_hook(monkeypatch):
    from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
    from celery.signals import worker_init

    calls = []
    monkeypatch.setattr(crew_workers, "preload", lambda: calls.append("preload"))
    assert crew_workers.CELERY_CONFIG == DEFAULT_CELERY_CONFIG
    worker_init.send(sender=None)
    assert calls == ["preload"]


def test_warm_local_executor_is_a_local_executor_whose_workers_preload_first(monkeypatch):
    from airflow._shared.module_loading import import_string  # what ExecutorLoader uses
    from airflow.executors import local_executor

    executor = import_string("crew_workers.WarmLocalExecutor")  # how Airflow loads [core] executor
    assert issubclass(executor, local_executor.LocalExecutor) and executor.__module__ == "crew_workers"
    order = []
    monkeypatch.setattr(crew_workers, "preload", lambda: order.append("preload"))
    monkeypatch.setattr(local_executor, "_run_worker", lambda **kwargs: order.append(("run", kwargs)))
    crew_workers._warm_worker(logger_name="x")
    assert order == ["preload", ("run", {"logger_name": "x"})]


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError):
        crew_workers.NOT_THERE  # noqa: B018
