import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from crews.data_qa.profiler import DatasetSpec, TableProfile, findings, profile_table, schema_drift
from crews.data_qa.readonly import readonly_engine
from crews.paths import INCLUDE_DIR

DATA = INCLUDE_DIR / "data_qa"
TODAY = date(2026, 11, 1)  # the samples' reference date
sys_path = Path(DATA / "build_samples.py")


def _planted():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_samples", sys_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PLANTED


@pytest.fixture(scope="module")
def specs() -> dict[str, DatasetSpec]:
    catalog = yaml.safe_load((DATA / "datasets.yaml").read_text())["datasets"]
    return {d["dataset_id"]: DatasetSpec.model_validate(d) for d in catalog}


@pytest.fixture(scope="module")
def engine():
    return readonly_engine(f"sqlite:///{DATA / 'shop.db'}")


@pytest.fixture(scope="module")
def found(specs, engine):
    result = []
    for spec in specs.values():
        profile = profile_table(engine, spec, today=TODAY)
        result += findings(profile, spec)
        if spec.baseline:
            previous = TableProfile.model_validate(json.loads((DATA / spec.baseline).read_text()))
            result += schema_drift(previous, profile)
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


def test_clean_dataset_has_no_findings(specs, engine):
    spec = specs["shop_products"]
    assert findings(profile_table(engine, spec, today=TODAY), spec) == []


def test_counts_are_exact(specs, engine):
    profile = profile_table(engine, specs["shop_customers"], today=TODAY)
    email = profile.columns["email"]
    assert (profile.row_count, email.nulls, email.pattern_violations) == (201, 5, 3)
    assert profile.columns["age"].out_of_range == 2 and profile.columns["signup_date"].future_values == 2
    assert profile.duplicate_keys == 1
    orders = profile_table(engine, specs["shop_orders"], today=TODAY)
    assert orders.orphans == {"customer_id": 3, "product_id": 0}
    assert orders.columns["amount"].negatives == 2


def test_sample_limit_bounds_rows_read(specs, engine):
    spec = specs["shop_orders"].model_copy(update={"sample_limit": 50})
    profile = profile_table(engine, spec, today=TODAY)
    assert profile.sampled_rows == 50 and profile.row_count == 500


def test_volume_change_and_retype(specs, engine):
    current = profile_table(engine, specs["shop_products"], today=TODAY)
    previous = current.model_copy(deep=True)
    previous.row_count = 400
    previous.columns["price"].type = "TEXT"
    kinds = {(f.column, f.kind) for f in schema_drift(previous, current)}
    assert kinds == {(None, "volume_change"), ("price", "retyped_column")}
