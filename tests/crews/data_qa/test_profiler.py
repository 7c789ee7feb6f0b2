from datetime import UTC, datetime
from pathlib import Path

import pytest

from crews.data_qa.profiler import findings, profile_table, schema_drift
from crews.data_qa.request import DatasetSpec
from crews.evaluation.golden import sample_items
from crews.paths import INCLUDE_DIR
from crews.readonly_db import readonly_engine
from crews.registry import get_crew

load_input = get_crew("data_qa").load_input

DATA = INCLUDE_DIR / "data_qa"
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)  # the samples' reference date
sys_path = Path(DATA / "build_samples.py")


def _planted():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_samples", sys_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PLANTED


@pytest.fixture(scope="module")
def items():
    catalog = sample_items("data_qa")
    return {d["dataset_id"]: load_input(d) for d in catalog}


@pytest.fixture(scope="module")
def specs(items) -> dict[str, DatasetSpec]:
    return {name: item.spec for name, item in items.items()}


def _profile(spec: DatasetSpec, now: datetime = NOW):
    return profile_table(readonly_engine(spec.url, spec.files), spec, now=now)


@pytest.fixture(scope="module")
def found(items):
    result = []
    for item in items.values():
        profile = _profile(item.spec)
        result += findings(profile, item.spec) + schema_drift(item.previous, profile)
    return result


@pytest.mark.parametrize(("table", "column", "kind"), _planted())
def test_every_planted_problem_is_found(found, table, column, kind):
    assert any((f.table, f.column, f.kind) == (table, column, kind) for f in found), [
        (f.table, f.column, f.kind) for f in found
    ]


def test_no_false_alarms(found):
    planted = set(_planted())
    extra = [(f.table, f.column, f.kind) for f in found if (f.table, f.column, f.kind) not in planted]
    assert extra == []


@pytest.mark.parametrize("dataset_id", ["shop_products", "warehouse_skus"])
def test_clean_datasets_have_no_findings(specs, dataset_id):
    spec = specs[dataset_id]
    assert findings(_profile(spec), spec) == []


def test_counts_are_exact(specs):
    profile = _profile(specs["shop_customers"])
    email = profile.columns["email"]
    assert (profile.row_count, email.nulls, email.pattern_violations) == (201, 5, 3)
    assert profile.columns["age"].out_of_range == 2 and profile.columns["signup_date"].future_values == 2
    assert profile.duplicate_keys == 1
    orders = _profile(specs["shop_orders"])
    assert orders.orphans == {"customer_id": 3, "product_id": 0}
    assert orders.columns["amount"].negatives == 2


def test_file_counts_are_exact(specs):
    stock = _profile(specs["warehouse_stock"])
    assert (stock.row_count, stock.columns["warehouse"].pattern_violations, stock.orphans) == (300, 2,
                                                                                               {"sku": 3})
    events = _profile(specs["web_events"])
    assert (events.columns["event_id"].pattern_violations == 2
            and sorted(events.columns["event_id"].pattern_examples) == ["12345", "evt-3"])
    assert events.columns["occurred_at"].age_hours == 33.0  # newest event 2026-10-31 00:00, now 11-01 09:00
    assert events.columns["occurred_at"].type == "TIMESTAMP" and events.columns["user_id"].negatives == 0


def test_freshness_follows_the_clock(specs):
    spec = specs["web_events"]
    fresh = _profile(spec, now=datetime(2026, 10, 31, 12, 0, tzinfo=UTC))
    assert fresh.columns["occurred_at"].age_hours == 12.0
    assert "stale" not in {f.kind for f in findings(fresh, spec)}
    stale = [f for f in findings(_profile(spec), spec) if f.kind == "stale"]
    assert len(stale) == 1 and "33 h old; at most 24 h" in stale[0].evidence


def test_sample_limit_bounds_rows_read(specs):
    spec = specs["shop_orders"].model_copy(update={"sample_limit": 50})
    profile = _profile(spec)
    assert profile.sampled_rows == 50 and profile.row_count == 500


def test_volume_change_and_retype(specs):
    current = _profile(specs["shop_products"])
    previous = current.model_copy(deep=True)
    previous.row_count = 400
    previous.columns["price"].type = "TEXT"
    kinds = {(f.column, f.kind) for f in schema_drift(previous, current)}
    assert kinds == {(None, "volume_change"), ("price", "retyped_column")}


def test_large_file_is_aggregated_not_loaded(tmp_path):
    """A 1M-row Parquet file: counts come from DuckDB, Python only ever holds the bounded sample."""
    import tracemalloc

    import duckdb

    path = tmp_path / "big.parquet"
    duckdb.sql(f"COPY (SELECT range AS id, 'user' || range || '@example.com' AS email, range % 97 - 1 AS "
               f"score FROM range(1000000)) TO '{path}' (FORMAT parquet)")
    spec = DatasetSpec(dataset_id="big", files={"big": str(path)}, table="big", key_columns=["id"],
                       sample_limit=1000,
                       columns={"email": {"pattern": "email"}, "score": {"not_negative": True}})
    tracemalloc.start()
    profile = _profile(spec)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert (profile.row_count, profile.sampled_rows, profile.duplicate_keys) == (1_000_000, 1000, 0)
    assert profile.columns["score"].negatives == 10310  # every 97th id, computed in SQL over all rows
    assert profile.columns["email"].pattern_violations == 0
    assert peak < 20 * 1024 * 1024, f"Python peak {peak / 1e6:.1f} MB"


def test_unreachable_server_is_retryable_and_named():
    import sqlite3

    from sqlalchemy import create_engine

    from crews.errors import InputError, SourceUnavailableError

    def refuse():
        raise sqlite3.OperationalError("connection refused")

    spec = DatasetSpec(dataset_id="remote", url="postgresql://qa:pw@db.example:5432/shop", table="t")
    with pytest.raises(SourceUnavailableError,
                       match=r"dataset 'remote': cannot connect to "
                             r"postgresql://qa:\*\*\*@db.example:5432/shop: "
                             "connection refused; check the url") as raised:
        profile_table(create_engine("sqlite://", creator=refuse), spec)
    assert not isinstance(raised.value, InputError)  # retried: the server may be back


def test_empty_table_is_an_error_finding():
    from crews.data_qa.schemas import TableProfile

    profile = TableProfile(dataset_id="e", table="t", row_count=0, columns={})
    spec = DatasetSpec(dataset_id="e", url="sqlite:///x.db", table="t")
    assert [(f.kind, f.evidence) for f in findings(profile, spec)] == [("empty_table",
                                                                        "the table has no rows")]


@pytest.mark.timeout(60)
def test_a_backtracking_regex_runs_in_linear_time_on_every_sampled_value(tmp_path):
    (tmp_path / "contacts.csv").write_text("email\n" + "".join(f"user{i}{'a' * 2_000}@example.com\n"
                                                               for i in range(200)))
    spec = DatasetSpec.model_validate({"dataset_id": "c",
                                       "files": {"contacts": str(tmp_path / "contacts.csv")},
                                       "table": "contacts", "columns": {"email": {"regex": "^(.|.|.|.)*X$"}}})
    profile = _profile(spec)  # Python's re takes minutes on one such value; RE2 milliseconds on all 200
    assert profile.columns["email"].pattern_violations == 200


@pytest.mark.timeout(60)
def test_a_query_past_the_time_bound_is_stopped_and_named(tmp_path, monkeypatch):
    import sqlite3
    import time

    from crews.errors import InputError

    monkeypatch.setenv("CREWS_QUERY_TIMEOUT_S", "0.5")
    with sqlite3.connect(tmp_path / "slow.db") as db:  # a view that counts to 300 million
        db.execute("CREATE VIEW slow AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                   "WHERE x < 300000000) SELECT x AS id FROM c")
    spec = DatasetSpec(dataset_id="slow", url=f"sqlite:///{tmp_path / 'slow.db'}", table="slow")
    started = time.monotonic()
    with pytest.raises(InputError, match=r"dataset 'slow': a query on table 'slow' .* ran longer than 0.5 s "
                                         r"and was stopped \(CREWS_QUERY_TIMEOUT_S sets the bound\)"):
        _profile(spec)
    assert time.monotonic() - started < 20


def test_a_key_into_the_same_table_is_checked(tmp_path):
    (tmp_path / "staff.csv").write_text("id,manager_id\n1,\n2,1\n3,9\n")
    spec = DatasetSpec(dataset_id="staff", files={"staff": str(tmp_path / "staff.csv")}, table="staff",
                       foreign_keys=[{"column": "manager_id", "ref_table": "staff", "ref_column": "id"}])
    assert _profile(spec).orphans == {"manager_id": 1}  # manager 9 does not exist
