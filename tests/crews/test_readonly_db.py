import sqlite3

import pytest
from sqlalchemy import inspect, text

from crews.readonly_db import WriteAttemptError, is_read_only_sql, readonly_engine


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


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,x\n2,y\n")
    return path


def test_files_are_readable_views(csv_file):
    engine = readonly_engine(files={"t": str(csv_file)})
    with engine.connect() as conn:
        assert conn.execute(text("SELECT sum(a) FROM t")).scalar() == 3


@pytest.mark.parametrize(
    "statement",
    ["COPY t TO '{out}'", "CREATE TABLE z AS SELECT * FROM t", "ATTACH '{out}' AS other",
     "INSERT INTO t VALUES (3, 'z')"],
)
def test_file_engine_refuses_writes(csv_file, tmp_path, statement):
    engine = readonly_engine(files={"t": str(csv_file)})
    with engine.connect() as conn, pytest.raises(WriteAttemptError):
        conn.execute(text(statement.format(out=tmp_path / "out.csv")))
    assert not (tmp_path / "out.csv").exists() and csv_file.read_text() == "a,b\n1,x\n2,y\n"


def test_file_engine_is_locked_below_sqlalchemy(csv_file, tmp_path):
    """Even with the statement guard bypassed, DuckDB cannot write files, read others or unlock itself."""
    import duckdb

    engine = readonly_engine(files={"t": str(csv_file)})
    secret = tmp_path / "other.csv"
    secret.write_text("s\n1\n")
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        for statement in (f"COPY t TO '{tmp_path / 'out.csv'}'", f"SELECT * FROM read_csv('{secret}')",
                          "SET enable_external_access = true"):
            with pytest.raises(duckdb.Error):
                raw.execute(statement)
    assert not (tmp_path / "out.csv").exists()


def test_url_and_files_are_exclusive(csv_file):
    with pytest.raises(ValueError, match="either"):
        readonly_engine("sqlite:///x.db", files={"t": str(csv_file)})


def test_duckdb_never_installs_or_loads_an_extension_by_itself(csv_file, tmp_path):
    import duckdb

    duckdb.connect(str(tmp_path / "w.duckdb")).close()
    for engine in (readonly_engine(files={"t": str(csv_file)}),
                   readonly_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")):
        with engine.connect() as conn:
            settings = conn.execute(text("SELECT current_setting('autoinstall_known_extensions'), "
                                         "current_setting('autoload_known_extensions')")).one()
        assert tuple(settings) == (False, False)


@pytest.mark.timeout(60)
def test_a_duckdb_query_past_the_time_bound_is_interrupted(csv_file, monkeypatch):
    import time

    from sqlalchemy.exc import DBAPIError

    monkeypatch.setenv("CREWS_QUERY_TIMEOUT_S", "0.5")
    engine = readonly_engine(files={"t": str(csv_file)})
    started = time.monotonic()
    with pytest.raises(DBAPIError, match="(?i)interrupt"), engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM range(100000000) a, range(100000000) b")).scalar()
    assert time.monotonic() - started < 20
    with engine.connect() as conn:  # the next query on the engine runs normally
        assert conn.execute(text("SELECT sum(a) FROM t")).scalar() == 3
