import json
import os

import pytest

from crews.errors import InputError
from crews.registry import get_crew
from crews.results import upsert_results

CREW = get_crew("data_qa")
load_input = CREW.load_input


def test_relative_sqlite_path_resolves_to_include():
    item = load_input({"dataset_id": "p", "url": "sqlite:///shop.db", "table": "products"})
    assert item.spec.url.endswith("include/data_qa/shop.db")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "must be a JSON object"),
        ({"url": "sqlite:///shop.db", "table": "t"}, "dataset_id: Field required"),
        ({"dataset_id": "x", "url": "not a url", "table": "t"}, "not a SQLAlchemy URL"),
        ({"dataset_id": "x", "url": "sqlite:///missing.db", "table": "t"}, "not found"),
        ({"dataset_id": "x", "url": "sqlite://", "table": "t"}, "needs a database file"),
        ({"dataset_id": "x", "url": "sqlite:///shop.db", "table": "t", "baseline": "nope.json"}, "baseline"),
        ({"dataset_id": "x y", "url": "sqlite:///shop.db", "table": "t"}, "dataset_id"),
        ({"dataset_id": "x", "table": "t"}, "give one of url .* or files"),
        ({"dataset_id": "x", "url": "sqlite:///shop.db", "files": {"t": "files/sku_catalog.csv"},
          "table": "t"},
         "not several or none"),
        ({"dataset_id": "x", "files": {"t": "files/missing.csv"}, "table": "t"},
         "files.t: file 'files/missing.csv' not found"),
        ({"dataset_id": "x", "files": {"t": "shop.db"}, "table": "t"}, "not a CSV or Parquet file"),
        ({"dataset_id": "x", "files": {"t x": "files/sku_catalog.csv"}, "table": "t x"}, "plain identifier"),
        ({"dataset_id": "x", "files": {"t": "files/sku_catalog.csv"}, "table": "u"},
         "'u' is not one of the files"),
        ({"dataset_id": "x", "url": "sqlite:///shop.db", "table": "t", "columns": {"c": {"regex": "("}}},
         r"columns.c.regex: .*'\(' is not a regular expression RE2 can run \(missing \)"),
        ({"dataset_id": "x", "url": "sqlite:///shop.db", "table": "t",
          "columns": {"c": {"regex": "(?<=a)b"}}},
         "look-arounds and back-references are not supported"),
        ({"dataset_id": "x", "url": "sqlite:///shop.db", "table": "t",
          "columns": {"c": {"max_age_hours": 0}}},
         "max_age_hours"),
    ],
)
def test_bad_declarations_are_refused(payload, message):
    with pytest.raises(InputError, match=message):
        load_input(payload)


def test_files_resolve_to_include():
    item = load_input({"dataset_id": "s", "files": {"skus": "files/sku_catalog.csv"}, "table": "skus"})
    assert item.spec.files["skus"].endswith("include/data_qa/files/sku_catalog.csv") and item.spec.url is None


def test_previous_profile_comes_from_the_latest_stored_result(tmp_path):
    payload = {"dataset_id": "p", "url": "sqlite:///shop.db", "table": "products"}
    assert load_input(payload).previous is None
    profile = {"dataset_id": "p", "table": "products", "row_count": 7, "columns": {}}
    for run, rows in (("run_1", 5), ("run_2", 7)):
        row = {"crew": "data_qa", "item_id": "p", "summary": {"status": "passed"},
               "result": {"profile": {**profile, "row_count": rows}}}
        upsert_results([row], "data_quality_qa", run)
    assert load_input(payload).previous.row_count == 7
    declared = tmp_path / "base.json"
    declared.write_text(json.dumps({**profile, "row_count": 3}))
    assert load_input({**payload, "baseline": str(declared)}, base_dir=tmp_path).previous.row_count == 3


def test_profile_is_its_own_artifact():
    from crews.data_qa.schemas import DataQualityReport, TableProfile

    profile = TableProfile(dataset_id="p", table="t", row_count=1, columns={})
    report = DataQualityReport(dataset_id="p", table="t", row_count=1, passed=True, issues=[], summary="",
                               profile=profile)
    assert CREW.artifacts(report) == {"profile.json": profile.model_dump(mode="json")}


def test_absolute_paths_need_an_allowed_folder(tmp_path, monkeypatch):
    data = tmp_path / "lake"
    data.mkdir()
    (data / "t.csv").write_text("a\n1\n")
    payload = {"dataset_id": "lake", "files": {"t": str(data / "t.csv")}, "table": "t"}
    with pytest.raises(InputError, match=r"files\.t: .* outside the allowed folders .*CREWS_DATA_ROOTS"):
        load_input(payload)
    monkeypatch.setenv("CREWS_DATA_ROOTS", f"/nonexistent{os.pathsep}{data}")
    assert load_input(payload).spec.files["t"] == str(data / "t.csv")
    with pytest.raises(InputError, match="outside the allowed folders"):
        load_input({**payload, "files": {"t": str(data / ".." / "t.csv")}})
    assert (load_input({**payload, "files": {"t": "t.csv"}}, base_dir=data).spec.files["t"]
            == str(data / "t.csv"))


def test_server_urls_get_a_connect_timeout_and_keep_their_password(monkeypatch):
    from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2

    # driver "installed"
    monkeypatch.setattr(PGDialect_psycopg2, "import_dbapi", classmethod(lambda cls: object()))
    payload = {"dataset_id": "pg", "url": "postgresql://qa:pw@db.example/shop", "table": "orders"}
    assert load_input(payload).spec.url == "postgresql://qa:pw@db.example/shop?connect_timeout=10"
    chosen = {**payload, "url": "postgresql://qa:pw@db.example/shop?connect_timeout=2"}
    assert load_input(chosen).spec.url == chosen["url"]
