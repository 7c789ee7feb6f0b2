"""Shared pieces of the benchmark rows: the run context, row results, statistics, machine facts."""

from __future__ import annotations

import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = (str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists()
          else sys.executable)
HEAVY = ("crewai", "mlflow", "openai", "litellm", "llama_cpp")
QUIET = {  # crews.QUIET_CREWAI, repeated here so subprocesses get it without importing crews
    "CREWAI_DISABLE_TELEMETRY": "true",
    "CREWAI_DISABLE_TRACKING": "true",
    "CREWAI_TRACING_ENABLED": "false",
    "CREWAI_TESTING": "true",
}
# Ports of the benchmark's own servers: never the stack's 8080/5000/8001.
PREFERRED_PORTS = {"airflow": 18080, "mlflow": 15000, "llm": 18001}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def fmt_s(seconds: float, digits: int = 3) -> str:
    return f"{seconds:.{digits}f} s"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_port(name: str) -> int:
    """The preferred benchmark port for ``name`` if it is free, else any free port."""
    from tests.support.servers import free_port

    preferred = PREFERRED_PORTS[name]
    return preferred if port_free(preferred) else free_port()


def machine() -> dict[str, Any]:
    """Cores, RAM, CPU model, OS and Python of this machine."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) * 1024
    except OSError:
        pass
    commit = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=7"], cwd=ROOT,
                            capture_output=True, text=True)
    return {
        "cores": os.cpu_count(),
        "ram_gib": round(ram / 2**30, 1),
        "cpu_model": cpu,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "git_commit": commit.stdout.strip() or "unknown",
    }


@dataclass
class RowResult:
    """One line of the table plus its raw figures."""

    row: int
    name: str
    goal: str
    measured: str = ""
    comparison: str = ""
    ratio: str = ""
    result: str = "not measured"  # pass | miss | report | not measured | error
    notes: str = ""
    details: list[str] = field(default_factory=list)  # Markdown lines for the details section
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def verdict(self, ok: bool) -> None:
        self.result = "pass" if ok else "miss"


class Context:
    """What every row gets: options, a scratch folder, and shared servers started on demand."""

    def __init__(self, quick: bool = False, keep: bool = False) -> None:
        self.quick = quick
        self.keep = keep
        self.root = Path(tempfile.mkdtemp(prefix="crews-bench-"))
        self._stack = ExitStack()
        self._llm_stack = ExitStack()
        self._mlflow_url: str | None = None
        self._llm_url: str | None = None
        self.shared: dict[str, Any] = {}
        self.selected: list[int] = []  # the rows of this run (set by the runner)
        # In-process crew runs keep their state (response cache, spool, results DB) here, not in .stack/.
        os.environ["CREWS_STATE_DIR"] = str(self.root / "state")
        os.environ.update({k: v for k, v in QUIET.items() if k not in os.environ})
        for path in (str(ROOT), str(ROOT / "dags")):
            if path not in sys.path:
                sys.path.insert(0, path)

    def repeats(self, default: int, quick: int = 1) -> int:
        return quick if self.quick else default

    def mlflow_url(self) -> str:
        """A real MLflow tracking server (SQLite store) on a free port, for the whole benchmark run."""
        if self._mlflow_url is None:
            from tests.support.mlflow_server import mlflow_server

            folder = self.root / "mlflow"
            folder.mkdir()
            log("starting an MLflow server for the benchmark")
            self._mlflow_url = self._stack.enter_context(mlflow_server(folder, timeout_s=240))
            log(f"MLflow server at {self._mlflow_url}")
        return self._mlflow_url

    def llm_url(self) -> str:
        """The project's llama.cpp server (crews.runtime.local_server) on a benchmark port."""
        if self._llm_url is None:
            self._llm_url = self._llm_stack.enter_context(local_llm_server(self.root))
        return self._llm_url

    def release_llm(self) -> None:
        """Stop the local LLM server (if started)."""
        self._llm_stack.close()
        self._llm_url = None

    def model_path(self) -> Path:
        from crews.runtime.local_model import ensure_model

        return ensure_model(self.root / "models")

    def close(self) -> None:
        self._llm_stack.close()
        self._stack.close()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def local_llm_server(root: Path, timeout_s: float = 300) -> Iterator[str]:
    """Start ``python -m crews.runtime.local_server`` (verified GGUF, llama.cpp server); yield its /v1 URL."""
    from tests.support.servers import serving

    port = pick_port("llm")
    url = f"http://127.0.0.1:{port}/v1"
    command = [PYTHON, "-m", "crews.runtime.local_server", "--host", "127.0.0.1", "--port", str(port),
               "--model-dir", str(root / "models")]
    log(f"starting the local LLM server on port {port}")
    with serving(command, f"{url}/models", root / "llm_server.log", timeout_s, cwd=ROOT,
                 env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True) as waited:
        log(f"LLM server ready after {waited:.0f}s")
        yield url


def llm_threads() -> int:
    """Threads the local server uses (crews.runtime.local_server's default)."""
    return int(os.environ.get("CREWS_LLM_THREADS", os.cpu_count() or 2))
