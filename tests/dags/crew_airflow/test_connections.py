"""Database URLs built from Airflow connections: the fields land where SQLAlchemy expects them."""

import pytest
from airflow.models.connection import Connection
from airflow.sdk.exceptions import AirflowFailException
from crew_airflow.connections import connection_database_url, sqlalchemy_url
from sqlalchemy.engine import make_url


def test_postgres_connection_becomes_a_postgresql_url_with_its_credentials():
    conn = Connection(conn_id="register", conn_type="postgres", host="127.0.0.1", login="reader",
                      password="p@ss:word/1", port=5433, schema="contracts", extra='{"sslmode": "require"}')
    url = make_url(sqlalchemy_url(conn))
    assert (url.drivername, url.host, url.port, url.database) == ("postgresql", "127.0.0.1", 5433,
                                                                  "contracts")
    assert (url.username, url.password, dict(url.query)) == ("reader", "p@ss:word/1", {"sslmode": "require"})


@pytest.mark.parametrize("uri", ["sqlite:////srv/data/register.db", "sqlite:///include/register.db"])
def test_sqlite_connection_names_its_file(uri):
    url = make_url(sqlalchemy_url(Connection(conn_id="register", uri=uri)))
    assert url.drivername == "sqlite" and url.database == uri.removeprefix("sqlite:///")


def test_driver_given_in_the_type_is_kept():
    conn = Connection(conn_id="register", uri="mysql+pymysql://u:secret@db.internal:3306/reg")
    assert sqlalchemy_url(conn) == "mysql+pymysql://u:secret@db.internal:3306/reg"


def test_connection_without_a_type_is_refused_by_name():
    with pytest.raises(ValueError, match="'register' has no connection type"):
        sqlalchemy_url(Connection(conn_id="register", host="db"))


def test_a_named_connection_resolves_from_the_environment(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CONTRACT_REGISTER",
                       '{"conn_type": "sqlite", "schema": "/srv/register.db"}')
    assert connection_database_url("contract_register", "register_conn_id") == "sqlite:////srv/register.db"


def test_a_missing_connection_fails_naming_the_param():
    with pytest.raises(AirflowFailException,
                       match="register_conn_id: there is no Airflow connection 'no_such_db'"):
        connection_database_url("no_such_db", "register_conn_id")
