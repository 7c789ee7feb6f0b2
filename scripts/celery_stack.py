"""The Celery side of the local stack: Postgres and Redis from Debian's packages, and N Celery workers.

Chosen with ``CREWS_EXECUTOR=celery`` (``make up EXECUTOR=celery WORKERS=2``). Postgres holds
Airflow's metadata DB, Celery's result backend, MLflow's backend store and the crews' results;
Redis is Celery's broker. Both bind to 127.0.0.1 only, keep their data under ``.stack/`` and take
a generated password (``.stack/postgres/password``, ``.stack/redis/redis.conf``, owner-only), passed
to the other servers in their environment, never on a command line. Each worker is a service of
its own (own process group, pid file and log), as each would be a machine of its own: losing one
leaves the others running.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

HOST = "127.0.0.1"
EXECUTORS = ("local", "celery")
MAX_WORKERS = 8
DATABASES = ("airflow", "mlflow", "crews")  # Airflow + Celery results, MLflow, crew results and budgets
DB_USER = "crews"


class StackError(SystemExit):
    """A service of the Celery stack cannot start; the message names it and its port."""


def executor() -> str:
    """``CREWS_EXECUTOR``: ``local`` (default: LocalExecutor on SQLite) or ``celery``."""
    value = os.environ.get("CREWS_EXECUTOR", "").strip().lower() or "local"
    if value not in EXECUTORS:
        raise StackError(f"CREWS_EXECUTOR={value!r}: choose one of {', '.join(EXECUTORS)}")
    return value


def worker_count() -> int:
    """``CREWS_WORKERS``: how many Celery workers (default 2, at most MAX_WORKERS)."""
    raw = os.environ.get("CREWS_WORKERS", "").strip() or "2"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_WORKERS:
        raise StackError(f"CREWS_WORKERS={raw!r}: a whole number from 1 to {MAX_WORKERS}")
    return int(raw)


def _port(variable: str, default: int) -> int:
    raw = os.environ.get(variable, "").strip() or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise StackError(f"{variable}={raw!r}: a TCP port number from 1 to 65535")
    return int(raw)


def postgres_port() -> int:
    return _port("CREWS_POSTGRES_PORT", 5432)


def redis_port() -> int:
    return _port("CREWS_REDIS_PORT", 6379)


# --- secrets -----------------------------------------------------------------------


def _secret(path: Path) -> str:
    """A generated password kept in an owner-only file (made on first use)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(24))
    return path.read_text().strip()


def postgres_password(state: Path) -> str:
    return _secret(state / "postgres" / "password")


def redis_password(state: Path) -> str:
    return _secret(state / "redis" / "password")


def postgres_url(state: Path, database: str, driver: str = "postgresql+psycopg2",
                 port: int | None = None) -> str:
    port = port or postgres_port()
    return f"{driver}://{DB_USER}:{postgres_password(state)}@{HOST}:{port}/{database}"


def broker_url(state: Path) -> str:
    return f"redis://:{redis_password(state)}@{HOST}:{redis_port()}/0"


# --- readiness ---------------------------------------------------------------------


def port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


def postgres_ready(state: Path) -> Callable[[], bool]:
    """True once Postgres accepts the stack's login on its port."""
    def ready() -> bool:
        if not port_open(postgres_port()):
            return False
        import psycopg2

        try:
            psycopg2.connect(postgres_url(state, "postgres", "postgresql"), connect_timeout=2).close()
        except psycopg2.Error:
            return False
        return True
    return ready


def redis_ready(state: Path) -> Callable[[], bool]:
    """True once Redis answers PING with the stack's password."""
    def ready() -> bool:
        if not port_open(redis_port()):
            return False
        import redis

        try:
            return bool(redis.Redis(host=HOST, port=redis_port(), password=redis_password(state),
                                    socket_timeout=2).ping())
        except redis.RedisError:
            return False
    return ready


def worker_ready(state: Path, name: str) -> Callable[[], bool]:
    """True once the Celery worker ``name`` answers a ping through the broker (what compose's health
    check asks too)."""
    def ready() -> bool:
        if not port_open(redis_port()):
            return False
        from celery import Celery

        app = Celery(broker=broker_url(state))
        try:
            return bool(app.control.ping(destination=[f"{name}@{socket.gethostname()}"], timeout=1.0))
        except Exception:  # the broker refusing or going away: not ready
            return False
        finally:
            app.close()
    return ready


def server_port(name: str) -> int:
    """The port of ``postgres`` or ``redis``."""
    return {"postgres": postgres_port, "redis": redis_port}[name]()


def server_checks(state: Path) -> dict[str, Callable[[], bool]]:
    """The readiness check of each server the Celery stack adds, by name."""
    return {"postgres": postgres_ready(state), "redis": redis_ready(state)}


def preflight(state: Path, owned: Callable[[str], bool]) -> None:
    """Refuse to start when the port of Postgres or Redis is taken by a server this stack did not start:
    the stack would otherwise talk to a stranger's database or broker, or half-start and fail later."""
    for name, ready in server_checks(state).items():
        port = server_port(name)
        if port_open(port) and not owned(name) and not ready():
            env = f"CREWS_{name.upper()}_PORT"
            raise StackError(f"{name}: {HOST}:{port} is taken by a server this stack did not start "
                             f"(stop it, or choose another port with {env}=...)")


# --- Postgres ------------------------------------------------------------------------


def postgres_tool(tool: str) -> str:
    """A Postgres server program: on PATH, or in Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(tool)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if not candidates:
        raise StackError(f"postgres: `{tool}` not found; install Debian's postgresql package "
                         "(`make install` does, when run as root)")
    return candidates[-1]


def postgres_user() -> str | None:
    """Postgres refuses to run as root: as root the server runs as Debian's ``postgres`` user."""
    return "postgres" if os.geteuid() == 0 else None


def postgres_home(state: Path) -> Path:
    """Where the cluster lives: ``.stack/postgres``, or, when the ``postgres`` user cannot reach that
    folder (a clone under root's home, mode 700), a folder of the stack's own in that user's home."""
    home = state / "postgres"
    user = postgres_user()
    state.mkdir(parents=True, exist_ok=True)
    if user is None or subprocess.run(["test", "-x", str(state)], user=user).returncode == 0:
        return home
    digest = hashlib.sha256(str(state.resolve()).encode()).hexdigest()[:12]
    return Path(pwd.getpwnam(user).pw_dir) / f"crews-stack-{digest}"


def drop_outside_cluster(state: Path) -> None:
    """Delete a throwaway stack's cluster that had to live in the postgres user's home (tests and
    benchmarks; one in ``state`` goes with that folder)."""
    home = postgres_home(state)
    if not home.is_relative_to(state):
        shutil.rmtree(home, ignore_errors=True)


def postgres_init(state: Path) -> Path:
    """``initdb`` the stack's cluster once (password login only, owner ``crews``); returns the data dir."""
    home = postgres_home(state)
    data = home / "data"
    if (data / "PG_VERSION").exists():
        return data
    home.mkdir(parents=True, exist_ok=True)
    user = postgres_user()
    password_file = home / "initdb-password"
    descriptor = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(postgres_password(state) + "\n")
    try:
        if user:
            shutil.chown(home, user)
            shutil.chown(password_file, user)
        done = subprocess.run(
            [postgres_tool("initdb"), "--pgdata", str(data), "--username", DB_USER, "--auth", "scram-sha-256",
             "--pwfile", str(password_file), "--encoding", "UTF8", "--no-instructions"],
            capture_output=True, text=True, user=user, timeout=300)
    finally:
        password_file.unlink(missing_ok=True)
    if done.returncode != 0:
        raise StackError(f"postgres: initdb failed in {data}:\n{(done.stdout + done.stderr)[-2000:]}")
    return data


def postgres_command(state: Path) -> list[str]:
    data = postgres_init(state)
    return [postgres_tool("postgres"), "-D", str(data), "-h", HOST, "-p", str(postgres_port()),
            "-k", str(data), "-c", "max_connections=200"]


def create_databases(state: Path) -> None:
    """The stack's databases, each made once."""
    import psycopg2

    connection = psycopg2.connect(postgres_url(state, "postgres", "postgresql"), connect_timeout=5)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT datname FROM pg_database")
            existing = {row[0] for row in cursor.fetchall()}
            for name in DATABASES:
                if name not in existing:
                    cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


# --- Redis ---------------------------------------------------------------------------


def redis_command(state: Path) -> list[str]:
    """redis-server with an owner-only config file: loopback, password, no snapshots (the broker's
    queue is rebuilt by Airflow's scheduler, which re-queues what it has not seen run)."""
    home = state / "redis"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "redis.conf"
    text = (f"bind {HOST}\nport {redis_port()}\nprotected-mode yes\nrequirepass {redis_password(state)}\n"
            f"dir {home}\nsave \"\"\nappendonly no\ndaemonize no\n")
    descriptor = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    server = shutil.which("redis-server")
    if not server:
        raise StackError("redis: `redis-server` not found; install Debian's redis-server package "
                         "(`make install` does, when run as root)")
    return [server, str(config)]


# --- Airflow on Celery ---------------------------------------------------------------


def airflow_env(state: Path, parallelism: str) -> dict[str, str]:
    """What changes in Airflow's environment on Celery: executor, Postgres, Redis, worker hostnames."""
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        # Airflow's Celery settings, plus workers that preload the crews' imports (plugins/crew_workers.py)
        "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "crew_workers.CELERY_CONFIG",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres_url(state, "airflow"),
        "AIRFLOW__CELERY__BROKER_URL": broker_url(state),
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + postgres_url(state, "airflow", "postgresql"),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": os.environ.get("CREWS_WORKER_CONCURRENCY", parallelism),
        # Task instances name the worker that ran them: worker-1@host (scripts/airflow_hostname.py).
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "scripts.airflow_hostname.hostname",
        # A worker lost mid-task: its task instance stops heartbeating and is retried after this long.
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT":
            os.environ.get("AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT", "90"),
        "CREWS_RESULTS_URL": postgres_url(state, "crews"),
    }


def worker_names() -> list[str]:
    return [f"worker-{i}" for i in range(1, worker_count() + 1)]


def worker_command(airflow: str, name: str) -> list[str]:
    """One Celery worker; no log server (the API server reads the task log files on this machine)."""
    return [airflow, "celery", "worker", "--celery-hostname", f"{name}@%h", "--skip-serve-logs"]
