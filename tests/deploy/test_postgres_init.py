"""docker/postgres-init.sql, run the way the postgres image's entrypoint runs it, on a throwaway server.

Needs PostgreSQL 15+ server binaries (initdb, pg_ctl, postgres) and psql on this machine; the
test is skipped, naming what is missing, when they are not there.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.compose_checks import ROOT

SCRIPT = ROOT / "docker/postgres-init.sql"


def _server_bin() -> Path | None:
    initdb = shutil.which("initdb") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))),
                                            None)
    return Path(initdb).resolve().parent if initdb else None


@pytest.fixture
def server() -> Iterator[dict]:
    bindir, psql = _server_bin(), shutil.which("psql")
    if bindir is None or psql is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) or psql not installed")
    user = None
    if os.geteuid() == 0:  # postgres refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
    as_user = {"user": user.pw_uid, "group": user.pw_gid} if user else {}
    # Not pytest's tmp_path: its parent folders are private to this user, and the server runs as postgres.
    with tempfile.TemporaryDirectory(prefix="crews-pg-") as folder:
        if user:
            os.chown(folder, user.pw_uid, user.pw_gid)
        yield from _running(Path(folder), bindir, psql, as_user, user)


def _running(tmp_path: Path, bindir: Path, psql: str, as_user: dict, user) -> Iterator[dict]:

    def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=tmp_path,
                              env={"PATH": os.environ["PATH"], **(env or {})}, **as_user)

    data = tmp_path / "data"
    done = run([str(bindir / "initdb"), "-D", str(data), "-U", "airflow", "-A", "trust"])
    assert done.returncode == 0, done.stderr
    # As the postgres image sets up a server with a password: superuser trusted locally, others by password.
    (data / "pg_hba.conf").write_text("local all airflow trust\nlocal all all scram-sha-256\n")
    if user:
        os.chown(data / "pg_hba.conf", user.pw_uid, user.pw_gid)
    options = f"-c listen_addresses='' -k {tmp_path}"
    done = run([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(tmp_path / "log"), "-w",
                "start"])
    assert done.returncode == 0, done.stderr + (tmp_path / "log").read_text()
    try:
        yield {"run": run, "psql": psql, "socket": str(tmp_path)}
    finally:
        run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])


def _init(server: dict, env: dict[str, str]) -> subprocess.CompletedProcess:
    """What docker-entrypoint.sh does with a *.sql file in /docker-entrypoint-initdb.d."""
    return server["run"]([server["psql"], "-h", server["socket"], "-v", "ON_ERROR_STOP=1", "--username",
                          "airflow", "--no-password", "--no-psqlrc", "--dbname", "postgres", "-f",
                          str(SCRIPT)], env)


def _login(server: dict, role: str, password: str) -> subprocess.CompletedProcess:
    return server["run"]([server["psql"], "-h", server["socket"], "-U", role, "-d", role, "-Atc",
                          "select current_user || '@' || current_database()"], {"PGPASSWORD": password})


def test_creates_the_mlflow_and_crews_roles_with_the_passwords_from_the_environment(server: dict):
    passwords = {"mlflow": "it's-from-.env", "crews": "another $ecret"}
    done = _init(server, {"MLFLOW_DB_PASSWORD": passwords["mlflow"], "CREWS_DB_PASSWORD": passwords["crews"]})
    assert done.returncode == 0, done.stderr
    for role, password in passwords.items():
        login = _login(server, role, password)
        assert login.stdout.strip() == f"{role}@{role}", login.stderr
        assert _login(server, role, "mlflow").returncode != 0, "the old hard-coded password must not work"


def test_stops_when_a_password_is_not_in_the_environment(server: dict):
    done = _init(server, {"CREWS_DB_PASSWORD": "set"})
    assert done.returncode != 0
    assert "mlflow_db_password" in done.stderr
