"""The data-QA crew's contract: how the runner, the CLI and the DAG drive it.

An input item is a dataset declaration (see ``include/data_qa/golden.yaml``)::

    {"dataset_id": "shop_orders", "url": "sqlite:///shop.db", "table": "orders",
     "key_columns": ["order_id"], "columns": {"amount": {"not_negative": true}},
     "foreign_keys": [...], "baseline": "baselines/shop_orders.json"}

CSV and Parquet files are declared with ``files`` (table name -> file) instead
of ``url``. A relative SQLite/DuckDB path, file and baseline are resolved against
``base_dir`` (the CLI passes the input file's folder) or ``include/data_qa/`` and
may not leave them; an absolute path must lie under them or under a folder named
in ``CREWS_DATA_ROOTS`` (:mod:`crews.paths`). Server URLs (``postgresql://...``)
are checked for a known dialect and an installed driver, and get a connect timeout.
Schema drift is checked against the declared ``baseline``, or else against the
profile in the dataset's latest stored result (the previous run).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import logging
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from crews.contract import CrewContract
from crews.data_qa.request import DatasetSpec
from crews.data_qa.schemas import DataQAInput, DataQualityReport, TableProfile
from crews.errors import InputError, validate_item
from crews.paths import INCLUDE_DIR, database_url, find_input_file

log = logging.getLogger(__name__)

DATA_DIR = INCLUDE_DIR / "data_qa"
SNIFF_BYTES = 65_536


def _find(reference: str, field: str, base_dir: Path | None) -> Path:
    return find_input_file(reference, field, (base_dir, DATA_DIR))


def _check_data_file(path: Path, field: str) -> None:
    """Refuse an empty file, a fake Parquet file, or a CSV that is binary or not UTF-8 (first 64 KiB)."""
    if path.stat().st_size == 0:
        raise InputError(f"{field}: {path.name} is empty")
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        with path.open("rb") as handle:
            head = handle.read(4)
            handle.seek(-min(4, path.stat().st_size), 2)
            tail = handle.read(4)
        if path.stat().st_size < 12 or head != b"PAR1" or tail != b"PAR1":
            raise InputError(f"{field}: {path.name} is not a Parquet file")
        return
    try:
        with (gzip.open(path, "rb") if name.endswith(".gz") else path.open("rb")) as handle:
            chunk = handle.read(SNIFF_BYTES)
    except (OSError, EOFError) as exc:
        raise InputError(f"{field}: {path.name} is not a readable gzip file ({exc})") from exc
    if b"\0" in chunk:
        raise InputError(f"{field}: {path.name} is a binary file, not CSV text")
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(chunk, final=False)
    except UnicodeDecodeError as exc:
        raise InputError(f"{field}: {path.name} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                         "save it as UTF-8") from exc
    _check_rows(text if len(chunk) < SNIFF_BYTES else text[:text.rfind("\n") + 1], path.name, field)


def _check_rows(text: str, name: str, field: str) -> None:
    """Refuse a ragged CSV (a row with more or fewer fields than the header, in the first 64 KiB): DuckDB
    would read it as a single column and the profile would describe nothing."""
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(io.StringIO(text), dialect)
    header = next(rows, None) or []
    for number, row in enumerate(rows, 2):
        if row and len(row) != len(header):
            raise InputError(f"{field}: {name} row {number} has {len(row)} fields and its header "
                             f"{len(header)}; every row needs one value per column")


def _located(spec: DatasetSpec, base_dir: Path | None) -> DatasetSpec:
    if spec.files:
        files = {}
        for name, reference in spec.files.items():
            path = _find(reference, f"files.{name}", base_dir)
            _check_data_file(path, f"files.{name}")
            files[name] = str(path)
        return spec.model_copy(update={"files": files})
    return spec.model_copy(update={"url": database_url(spec.url, "url", (base_dir, DATA_DIR))})


def _previous_profile(spec: DatasetSpec, base_dir: Path | None) -> TableProfile | None:
    """The declared baseline file, else the profile of the dataset's latest stored result."""
    if spec.baseline:
        baseline = _find(spec.baseline, "baseline", base_dir)
        try:
            return TableProfile.model_validate(json.loads(baseline.read_text(encoding="utf-8")))
        except (ValueError, ValidationError) as exc:
            raise InputError(f"baseline: {spec.baseline!r} is not a valid profile: {exc}") from exc
    from crews.results import latest_result

    latest = latest_result("data_qa", spec.dataset_id)
    if latest is None:
        return None
    try:
        return TableProfile.model_validate(json.loads(latest.result_json)["profile"])
    except (KeyError, ValueError, ValidationError):
        log.warning("stored result of %s has no readable profile; no schema drift check", spec.dataset_id)
        return None


class DataQA(CrewContract):
    """Profiles a dataset in code; an analyst and a reviewer explain the pass/fail verdict."""

    name = "data_qa"
    request_model = DatasetSpec
    output_model = DataQualityReport
    id_field = "dataset_id"
    items_param = "datasets"
    noun = "report"
    decision_help = ("Accept confirms the report; Reject marks it wrong. A correction is stored with the "
                     "decision.")
    schemas = {"dataset": DatasetSpec, "report": DataQualityReport}

    def load_input(self, payload: dict[str, Any], base_dir: Path | None = None) -> DataQAInput:
        """Validate one dataset declaration; raises :class:`InputError` naming the dataset and the problem."""
        spec = validate_item(DatasetSpec, payload, "dataset", "dataset_id")
        try:
            if spec.conn_id:
                raise InputError("conn_id names an Airflow connection, which the DAG resolves; "
                                 "outside Airflow give url")
            spec = _located(spec, base_dir)
            return DataQAInput(spec=spec, previous=_previous_profile(spec, base_dir))
        except InputError as exc:
            raise InputError(f"dataset {spec.dataset_id!r}: {exc}") from exc

    def item_id(self, item: DataQAInput) -> str:
        return item.spec.dataset_id

    def run(self, item: DataQAInput, llm: Any) -> DataQualityReport:
        from crews.data_qa import pipeline

        return pipeline.run(item, llm)

    def metrics(self, report: DataQualityReport) -> dict[str, float]:
        counts = report.counts_by_severity()
        return {
            "passed": float(report.passed),
            "rows": float(report.row_count),
            "issues": float(len(report.issues)),
            "review_score": report.review_score,
            "needs_review": float(report.needs_review),
            "summary_retried": float(report.summary_by != "reviewer"),
            "summary_templated": float(report.summary_by == "template"),
            **{f"issues_{severity}": float(n) for severity, n in counts.items()},
        }

    def artifacts(self, report: DataQualityReport) -> dict[str, Any]:
        return {"profile.json": report.profile.model_dump(mode="json")}

    def summary(self, report: DataQualityReport) -> dict[str, Any]:
        counts = report.counts_by_severity()
        return {
            "item_id": report.dataset_id,
            "status": "passed" if report.passed else "failed",
            "passed": report.passed,
            "rows": report.row_count,
            "errors": counts["error"],
            "warnings": counts["warning"],
            "needs_review": report.needs_review,
            "review_reasons": report.review_reasons,
        }

    def score(self, report: DataQualityReport, expected: dict[str, Any]) -> dict[str, float]:
        from crews.data_qa.scoring import score

        return score(report, expected)

    def review_sections(self, result: dict[str, Any]) -> list[str]:
        from crews.data_qa.review_page import sections

        return sections(result)
