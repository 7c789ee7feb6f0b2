"""A real MLflow tracking server on a free loopback port, for tests of code that speaks its REST API."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.servers import free_port, serving

__all__ = ["free_port", "mlflow_server"]


@contextmanager
def mlflow_server(root: Path, timeout_s: float = 120) -> Iterator[str]:
    """Start ``mlflow server`` with a SQLite store under ``root``; yield its URL; stop it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
               "--workers", "1", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
               "--artifacts-destination", str(root / "artifacts")]
    with serving(command, f"{url}/health", root / "mlflow.log", timeout_s, cwd=root):
        yield url
