import sqlite3

import pytest
from sqlalchemy import inspect, text

from crews.data_qa.readonly import WriteAttemptError, is_read_only_sql, readonly_engine


@pytest.mark.parametrize(
    ("sql", "allowed"),
    [
        ("SELECT 1", True),
        ("WITH a AS (SELECT 1) SELECT * FROM a", True),
        ("SELECT 1 UNION SELECT 2", True),
        ('PRAGMA main.table_info("t")', True),
        ("PRAGMA query_only = OFF", False),
        ("DELETE FROM t", False),
        ("INSERT INTO t VALUES (1)", False),
        ("UPDATE t SET a = 1", False),
        ("DROP TABLE t", False),
        ("SELECT 1; DROP TABLE t", False),
        ("CREATE TABLE x AS SELECT 1", False),
        ("SELECT * INTO y FROM t", False),
        ("ATTACH DATABASE 'x' AS y", False),
        ("VACUUM", False),
        ("", False),
    ],
)
def test_only_queries_pass(sql, allowed):
    assert is_read_only_sql(sql) is allowed


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "x.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (a INTEGER)")
    con.execute("INSERT INTO t VALUES (1)")
    con.commit()
    con.close()
    return path


def test_reads_work(db):
    engine = readonly_engine(f"sqlite:///{db}")
    assert [c["name"] for c in inspect(engine).get_columns("t")] == ["a"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1


def test_write_through_sqlalchemy_is_refused(db):
    engine = readonly_engine(f"sqlite:///{db}")
    with engine.connect() as conn, pytest.raises(WriteAttemptError, match="not a read-only query"):
        conn.execute(text("DELETE FROM t"))


def test_write_below_sqlalchemy_is_refused_by_the_connection(db):
    engine = readonly_engine(f"sqlite:///{db}")
    with engine.connect() as conn, pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.connection.dbapi_connection.execute("DELETE FROM t")
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_memory_database_is_refused():
    with pytest.raises(ValueError, match="database file"):
        readonly_engine("sqlite://")
