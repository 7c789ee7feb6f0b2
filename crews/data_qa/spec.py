"""How the runner, the CLI and the DAG drive the data-QA crew.

An input item is a dataset declaration (see ``include/data_qa/golden.yaml``)::

    {"dataset_id": "shop_orders", "url": "sqlite:///shop.db", "table": "orders",
     "key_columns": ["order_id"], "columns": {"amount": {"not_negative": true}},
     "foreign_keys": [...], "baseline": "baselines/shop_orders.json"}

CSV and Parquet files are declared with ``files`` (table name -> file) instead
of ``url``. A relative SQLite path, file and baseline are resolved against
``base_dir`` (the CLI passes the input file's folder) or ``include/data_qa/``.
Schema drift is checked against the declared ``baseline``, or else against the
profile in the dataset's latest stored result (the previous run).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from crews.data_qa.profiler import DatasetSpec, TableProfile
from crews.data_qa.schemas import DataQAInput, DataQualityReport
from crews.data_qa.scoring import score
from crews.errors import InputError, validate_item
from crews.paths import INCLUDE_DIR
from crews.registry import CrewSpec
from crews.results import latest_result

log = logging.getLogger(__name__)

DATA_DIR = INCLUDE_DIR / "data_qa"


def _resolve(relative: str, base_dir: Path | None, field: str) -> Path:
    for root in (base_dir, DATA_DIR):
        if root is not None and (root / relative).exists():
            return (root / relative).resolve()
    raise InputError(f"{field}: {relative!r} not found next to the input or in {DATA_DIR}")


def load_input(payload: dict[str, Any], base_dir: Path | None = None) -> DataQAInput:
    """Validate one dataset declaration; raises :class:`InputError` naming the problem."""
    spec = validate_item(DatasetSpec, payload, "dataset", "dataset_id")
    if spec.files:
        files = {}
        for name, relative in spec.files.items():
            path = Path(relative)
            path = path if path.is_absolute() else _resolve(relative, base_dir, f"files.{name}")
            if not path.is_file():
                raise InputError(f"files.{name}: {path} does not exist")
            files[name] = str(path)
        spec = spec.model_copy(update={"files": files})
        return DataQAInput(spec=spec, previous=_previous_profile(spec, base_dir))
    try:
        url = make_url(spec.url)
    except ArgumentError as exc:
        raise InputError(f"url: {spec.url!r} is not a SQLAlchemy URL") from exc
    if url.get_backend_name() == "sqlite":
        if not url.database:
            raise InputError("url: a SQLite URL needs a database file")
        path = Path(url.database)
        path = path if path.is_absolute() else _resolve(url.database, base_dir, "url")
        if not path.is_file():
            raise InputError(f"url: SQLite file {path} does not exist")
        spec = spec.model_copy(update={"url": f"sqlite:///{path}"})
    return DataQAInput(spec=spec, previous=_previous_profile(spec, base_dir))


def _previous_profile(spec: DatasetSpec, base_dir: Path | None) -> TableProfile | None:
    """The declared baseline file, else the profile of the dataset's latest stored result."""
    if spec.baseline:
        try:
            return TableProfile.model_validate(json.loads(_resolve(spec.baseline, base_dir, "baseline").read_text()))
        except (ValueError, ValidationError) as exc:
            raise InputError(f"baseline {spec.baseline!r} is not a valid profile: {exc}") from exc
    latest = latest_result("data_qa", spec.dataset_id)
    if latest is None:
        return None
    try:
        return TableProfile.model_validate(json.loads(latest.result_json)["profile"])
    except (KeyError, ValueError, ValidationError):
        log.warning("stored result of %s has no readable profile; no schema drift check", spec.dataset_id)
        return None


def _run(item: DataQAInput, llm: Any) -> DataQualityReport:
    from crews.data_qa.pipeline import check_dataset

    return check_dataset(item, llm)


def _metrics(report: DataQualityReport) -> dict[str, float]:
    counts = report.counts_by_severity()
    return {
        "passed": float(report.passed),
        "rows": float(report.row_count),
        "issues": float(len(report.issues)),
        "review_score": report.review_score,
        "needs_review": float(report.needs_review),
        **{f"issues_{severity}": float(n) for severity, n in counts.items()},
    }


def _artifacts(report: DataQualityReport) -> dict[str, Any]:
    return {"profile.json": report.profile.model_dump(mode="json")}


def _summary(report: DataQualityReport) -> dict[str, Any]:
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


SPEC = CrewSpec(
    name="data_qa",
    config_dir=Path(__file__).parent / "config",
    load_input=load_input,
    item_id=lambda item: item.spec.dataset_id,
    run=_run,
    metrics=_metrics,
    summary=_summary,
    output_model=DataQualityReport,
    score=score,
    artifacts=_artifacts,
)
