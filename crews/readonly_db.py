"""Read-only database access for the crews' SQL tools: writes are made impossible, not unlikely.

Three independent guards:

1. the connection itself is read-only (SQLite opened with ``mode=ro`` and
   ``PRAGMA query_only``; PostgreSQL with ``default_transaction_read_only``;
   MySQL with a read-only session; DuckDB files with ``read_only``). CSV and
   Parquet files are exposed as views of an in-memory DuckDB database that is
   then locked: external access off except reading exactly those files, and
   the configuration frozen, so neither ``COPY ... TO`` nor ``ATTACH`` can
   touch the file system;
2. every statement SQLAlchemy sends is parsed with sqlglot and refused unless it
   is a plain query (``SELECT``/``WITH ... SELECT``/set operations of those);
3. the profiler only builds ``SELECT`` statements with SQLAlchemy Core.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import sqlglot
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlglot import exp


class WriteAttemptError(PermissionError):
    """A statement that could change data or schema was refused."""


_QUERY_TYPES = (exp.Select, exp.Union, exp.Intersect, exp.Except)
QUERY_TIMEOUT_ENV = "CREWS_QUERY_TIMEOUT_S"
TIMED_OUT = ("interrupted", "statement timeout", "canceling statement", "maximum statement execution time")


def query_timeout_s() -> float:
    """How long one query may run (``CREWS_QUERY_TIMEOUT_S``, default 300 s): a huge table or a slow view
    fails its own dataset with that bound named instead of holding the worker until the task times out."""
    return float(os.environ.get(QUERY_TIMEOUT_ENV, "300"))


def is_read_only_sql(sql: str) -> bool:
    """True only if every statement in ``sql`` is a query without side effects."""
    try:
        statements = [s for s in sqlglot.parse(sql) if s is not None]
    except sqlglot.errors.ParseError:
        return False
    if not statements:
        return False
    for statement in statements:
        if isinstance(statement, exp.Pragma):  # schema reads such as PRAGMA table_info(t)
            if "=" in statement.sql():
                return False
            continue
        if not isinstance(statement, _QUERY_TYPES):
            return False
        if any(isinstance(node, (exp.Into, exp.Insert, exp.Update, exp.Delete, exp.Create, exp.Drop))
               for node in statement.walk()):
            return False
    return True


def _sqlite_read_only_url(url: Any) -> str:
    database = url.database
    if not database or database == ":memory:":
        raise ValueError("a read-only SQLite connection needs a database file")
    return f"sqlite:///file:{database}?mode=ro&uri=true"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _duckdb_file_views(files: dict[str, str]) -> list[str]:
    """Statements that expose each file as a view, then lock the database down."""
    statements = []
    for name, path in files.items():
        reader = "read_parquet" if path.lower().endswith((".parquet", ".pq")) else "read_csv"
        statements.append(f'CREATE VIEW "{name}" AS SELECT * FROM {reader}({_quote(path)})')
    allowed = ", ".join(_quote(path) for path in files.values())
    return statements + [
        f"SET allowed_paths = [{allowed}]",
        "SET enable_external_access = false",
        "SET memory_limit = '1GB'",
        "SET lock_configuration = true",
    ]


def readonly_engine(url: str | None = None, files: dict[str, str] | None = None) -> Engine:
    """An engine that cannot write (see the module docstring).

    ``url`` is a SQLAlchemy database URL; ``files`` maps table names to CSV or
    Parquet files (absolute paths) and uses an in-memory DuckDB database.
    """
    if bool(url) == bool(files):
        raise ValueError("give either a database url or files")
    parsed = make_url(url or "duckdb:///:memory:")
    backend = parsed.get_backend_name()
    connect_args: dict[str, Any] = {}
    setup: list[str] = []
    timeout_ms = max(1, int(query_timeout_s() * 1000))
    if backend == "sqlite":
        engine = create_engine(_sqlite_read_only_url(parsed))
        setup = ["PRAGMA query_only = ON"]
    elif backend == "duckdb":
        # never fetch or load an extension behind the user's back (DuckDB would download it over HTTP)
        connect_args["config"] = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
        if files:
            setup = _duckdb_file_views(files)
        else:
            connect_args["read_only"] = True
            setup = ["SET enable_external_access = false", "SET lock_configuration = true"]
        engine = create_engine(parsed, connect_args=connect_args)
    else:
        if backend == "postgresql":
            connect_args["options"] = f"-c default_transaction_read_only=on -c statement_timeout={timeout_ms}"
        if backend in {"mysql", "mariadb"}:
            setup = ["SET SESSION TRANSACTION READ ONLY", f"SET SESSION MAX_EXECUTION_TIME={timeout_ms}"]
        engine = create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def _session_read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            for statement in setup:
                cursor.execute(statement)
        finally:
            cursor.close()

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse_writes(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not is_read_only_sql(statement):
            raise WriteAttemptError(f"refused a statement that is not a read-only query: {statement[:200]!r}")

    if backend in ("sqlite", "duckdb"):  # no server-side statement timeout: interrupt from a timer
        _interrupt_after(engine, timeout_ms / 1000)
    return engine


def _interrupt_after(engine: Engine, seconds: float) -> None:
    """Interrupt a SQLite or DuckDB statement that runs longer than ``seconds`` (its error then says
    "interrupted")."""

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        timer = threading.Timer(seconds, conn.connection.dbapi_connection.interrupt)
        timer.daemon = True
        conn.info["query_timer"] = timer
        timer.start()

    @event.listens_for(engine, "after_cursor_execute")
    def _stop(conn: Any, *args: Any) -> None:
        if timer := conn.info.pop("query_timer", None):
            timer.cancel()

    @event.listens_for(engine, "handle_error")
    def _stop_on_error(context: Any) -> None:
        if context.connection is not None and (timer := context.connection.info.pop("query_timer", None)):
            timer.cancel()
