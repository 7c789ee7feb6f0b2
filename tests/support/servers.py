"""Start a server process for a test or a benchmark, wait until it answers, stop it afterwards."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(command: list[str], health_url: str, log_path: Path, timeout_s: float = 120,
            **popen) -> Iterator[float]:
    """Run ``command`` until the block ends; yields the seconds it took until ``health_url`` answered 200.

    Raises RuntimeError with the end of its log if it exits or does not answer within ``timeout_s``.
    """
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **popen)
        try:
            began = time.monotonic()
            while True:
                try:
                    if httpx.get(health_url, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() - began > timeout_s:
                    raise RuntimeError(f"{command[:4]} did not start: "
                                       f"{log_path.read_text(errors='replace')[-2000:]}")
                time.sleep(0.5)
            yield time.monotonic() - began
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
