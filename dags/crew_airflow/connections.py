"""Databases named by Airflow connections: credentials stay in Airflow, never in conf, XCom or logs."""

from __future__ import annotations

from typing import Any

# Airflow connection types whose name differs from SQLAlchemy's dialect name.
_DIALECTS = {"postgres": "postgresql"}


def sqlalchemy_url(conn: Any) -> str:
    """The SQLAlchemy URL of a database connection (``conn_type``, host, login, password, port, schema,
    extra).

    ``schema`` is the database (for SQLite and DuckDB: the file); string values of
    ``extra`` become URL query parameters (``sslmode``, ``connect_timeout``).
    """
    from sqlalchemy.engine import URL

    conn_type = (conn.conn_type or "").lower()
    if not conn_type:
        raise ValueError(f"connection {conn.conn_id!r} has no connection type (postgres, mysql, sqlite, ...)")
    drivername = _DIALECTS.get(conn_type, conn_type)
    extra = {k: str(v) for k, v in (conn.extra_dejson or {}).items() if isinstance(v, (str, int, float))}
    if drivername in ("sqlite", "duckdb"):
        return URL.create(drivername, database=conn.schema or conn.host or None,
                          query=extra).render_as_string(hide_password=False)
    return URL.create(drivername, username=conn.login or None, password=conn.password or None,
                      host=conn.host or None, port=conn.port or None, database=conn.schema or None,
                      query=extra).render_as_string(hide_password=False)


def connection_database_url(conn_id: str, param: str) -> str:
    """The database URL behind the Airflow connection ``conn_id``; a missing connection fails naming
    ``param``."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException

    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException as exc:
        raise AirflowFailException(f"{param}: there is no Airflow connection {conn_id!r}; create it "
                                   "(Admin -> Connections, AIRFLOW_CONN_<ID> or airflow_settings.yaml) "
                                   "or leave it empty") from exc
    try:
        return sqlalchemy_url(conn)
    except ValueError as exc:
        raise AirflowFailException(f"{param}: {exc}") from exc


def with_connection_url(dataset: dict[str, Any]) -> dict[str, Any]:
    """A dataset declaration whose ``conn_id`` is replaced by the connection's URL (kept in memory only)."""
    if "conn_id" not in dataset:
        return dataset
    item = {k: v for k, v in dataset.items() if k != "conn_id"}
    return item | {"url": connection_database_url(dataset["conn_id"],
                                                  f"dataset {dataset.get('dataset_id')!r}: conn_id")}
