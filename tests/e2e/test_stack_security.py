"""End to end: the running local stack listens on 127.0.0.1 only, and its REST API wants a token.

``running_stack`` (tests/e2e/conftest.py) starts the stack once per session if it is not up.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import time
from pathlib import Path

import httpx
import jwt
import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402

pytestmark = pytest.mark.e2e
KNOWN_PORTS = {stack.LLM_PORT, stack.MLFLOW_PORT, stack.AIRFLOW_PORT}


def stack_processes() -> list[psutil.Process]:
    """The process of every service in ``.stack/pids`` and all its descendants (task processes leave the
    group)."""
    processes = []
    for pid_file in (stack.STATE / "pids").glob("*.pid"):
        try:
            root = psutil.Process(int(pid_file.read_text()))
            processes += [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:  # a stale pid file, or a task process that just ended
            continue
    return processes


def listening_addresses() -> set[tuple[str, int, str]]:
    """(address, port, process name) of every TCP socket in LISTEN state that a stack process owns."""
    found = set()
    for process in stack_processes():
        try:
            for conn in process.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_LISTEN:
                    found.add((conn.laddr.ip, conn.laddr.port, process.name()))
        except psutil.NoSuchProcess:
            continue
    return found


def non_loopback_addresses() -> list[str]:
    addresses = [
        a.address for nic in psutil.net_if_addrs().values() for a in nic
        if a.family in (socket.AF_INET, socket.AF_INET6)
    ]
    return [a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_loopback]


def test_every_listening_socket_is_on_loopback(running_stack):
    found = listening_addresses()
    print("\nlistening:", sorted(found))
    assert {port for _, port, _ in found} >= KNOWN_PORTS, found  # the walk found the servers: not vacuous
    assert {address for address, _, _ in found} == {"127.0.0.1"}, found


def test_rest_api_refuses_missing_and_wrong_tokens(running_stack):
    url = f"{stack.AIRFLOW_URL}/api/v2/dags"
    assert httpx.get(url, timeout=10).status_code == 401
    forged = jwt.encode({"sub": "1", "role": "ADMIN", "exp": int(time.time()) + 600}, "not-the-secret" * 8,
                        "HS512")
    for token in ("not-a-token", forged):
        response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code in {401, 403}, (token, response.status_code)
    with stack.api_client() as client:  # the token from POST /auth/token with the admin password
        assert client.get("/api/v2/dags").status_code == 200


def test_servers_are_unreachable_on_other_addresses(running_stack):
    """The LLM, MLflow and Airflow servers, and any other port the stack listens on."""
    addresses = non_loopback_addresses()
    if not addresses:
        pytest.skip("this machine has no non-loopback address to try")
    ports = KNOWN_PORTS | {port for _, port, _ in listening_addresses()}
    reachable = []
    for port in sorted(ports):
        socket.create_connection(("127.0.0.1", port), timeout=3).close()  # it is up, on loopback
        for address in addresses:
            try:
                socket.create_connection((address, port), timeout=3).close()
                reachable.append((address, port))
            except OSError:
                pass
    print("\ntried", sorted(ports), "on", addresses)
    assert reachable == []


def test_the_admin_password_is_in_an_owner_only_file_and_in_no_log(running_stack):
    import json
    import stat

    path = stack.AIRFLOW_HOME / stack.PASSWORDS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    password = json.loads(path.read_text())["admin"]
    logs = [p for p in stack.STATE.rglob("*.log") if p.is_file()]
    assert logs, "the stack wrote no logs"
    leaked = [str(p) for p in logs if password in p.read_text(errors="replace")]
    assert not leaked, f"the admin password is in {leaked}"
