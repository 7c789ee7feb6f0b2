"""Read-only database access for the data-QA tools: writes are made impossible, not unlikely.

Three independent guards:

1. the connection itself is read-only (SQLite opened with ``mode=ro`` and
   ``PRAGMA query_only``; PostgreSQL with ``default_transaction_read_only``;
   MySQL with a read-only session);
2. every statement SQLAlchemy sends is parsed with sqlglot and refused unless it
   is a plain query (``SELECT``/``WITH ... SELECT``/set operations of those);
3. the profiler only builds ``SELECT`` statements with SQLAlchemy Core.
"""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlglot import exp


class WriteAttemptError(PermissionError):
    """A statement that could change data or schema was refused."""


_QUERY_TYPES = (exp.Select, exp.Union, exp.Intersect, exp.Except)


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


def readonly_engine(url: str) -> Engine:
    """An engine on ``url`` that cannot write (see the module docstring)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend == "sqlite":
        engine = create_engine(_sqlite_read_only_url(parsed))
    else:
        if backend == "postgresql":
            connect_args["options"] = "-c default_transaction_read_only=on"
        engine = create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def _session_read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if backend == "sqlite":
                cursor.execute("PRAGMA query_only = ON")
            elif backend in {"mysql", "mariadb"}:
                cursor.execute("SET SESSION TRANSACTION READ ONLY")
        finally:
            cursor.close()

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse_writes(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not is_read_only_sql(statement):
            raise WriteAttemptError(f"refused a statement that is not a read-only query: {statement[:200]!r}")

    return engine
