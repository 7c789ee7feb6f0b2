"""Results table: one row per (crew, DAG, DAG run, item), written through SQLAlchemy.

Writes are upserts on that key, so a re-run or a retry of the collecting task
replaces its rows instead of duplicating them. ``CREWS_RESULTS_URL`` (or the
``url`` argument) is any SQLAlchemy URL; the default is a SQLite file in the
state folder.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, String, Text, create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from crews.paths import state_dir


class Base(DeclarativeBase):
    pass


class CrewResult(Base):
    __tablename__ = "crew_results"

    crew: Mapped[str] = mapped_column(String(64), primary_key=True)
    dag_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    dag_run_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    passed: Mapped[bool] = mapped_column(Boolean)
    summary_json: Mapped[str] = mapped_column(Text)
    result_json: Mapped[str] = mapped_column(Text)
    mlflow_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def results_url() -> str:
    return os.environ.get("CREWS_RESULTS_URL") or f"sqlite:///{state_dir() / 'results.db'}"


def engine_for(url: str | None = None) -> Engine:
    url = url or results_url()
    if url.startswith("sqlite:///"):
        os.makedirs(os.path.dirname(url.removeprefix("sqlite:///")) or ".", exist_ok=True)
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    return engine


def upsert_results(
    rows: list[dict[str, Any]], dag_id: str, dag_run_id: str, url: str | None = None
) -> int:
    """Upsert runner outputs (see :func:`crews.runner.run_item`); returns rows written.

    The stored summary carries the item's LLM usage (calls, tokens, cost) under ``usage``, and the
    Airflow task instance that ran it (``task_id``, ``map_index``) under ``task``.
    """
    now = datetime.now(UTC)
    with Session(engine_for(url)) as session, session.begin():
        for row in rows:
            summary = row["summary"] | {key: row[key] for key in ("usage", "task") if row.get(key)}
            session.merge(
                CrewResult(
                    crew=row["crew"],
                    dag_id=dag_id,
                    dag_run_id=dag_run_id,
                    item_id=row["item_id"],
                    status=str(summary.get("status", "")),
                    passed=bool(summary.get("passed", False)),
                    summary_json=json.dumps(summary, ensure_ascii=False),
                    result_json=json.dumps(row["result"], ensure_ascii=False),
                    mlflow_run_id=row.get("mlflow_run_id"),
                    updated_at=now,
                )
            )
    return len(rows)


def fetch_results(crew: str, dag_run_id: str | None = None, url: str | None = None) -> list[CrewResult]:
    with Session(engine_for(url)) as session:
        query = select(CrewResult).where(CrewResult.crew == crew)
        if dag_run_id:
            query = query.where(CrewResult.dag_run_id == dag_run_id)
        return list(session.scalars(query.order_by(CrewResult.item_id)))


def latest_result(crew: str, item_id: str, url: str | None = None) -> CrewResult | None:
    """The most recently written result of one item, from any DAG run."""
    with Session(engine_for(url)) as session:
        query = (select(CrewResult).where(CrewResult.crew == crew, CrewResult.item_id == item_id)
                 .order_by(CrewResult.updated_at.desc()).limit(1))
        return session.scalars(query).first()


def record_review(crew: str, dag_id: str, dag_run_id: str, item_id: str, decision: dict[str, Any],
                  url: str | None = None) -> None:
    """Attach a human review decision to a stored result (status becomes ``accepted``/``rejected``)."""
    with Session(engine_for(url)) as session, session.begin():
        row = session.get(CrewResult, (crew, dag_id, dag_run_id, item_id))
        if row is None:
            raise LookupError(f"no stored result for {crew}/{dag_id}/{dag_run_id}/{item_id}")
        accepted = any(c.lower().startswith("accept") for c in decision.get("chosen", []))
        row.status = "accepted" if accepted else "rejected"
        row.passed = accepted
        row.summary_json = json.dumps(json.loads(row.summary_json) | {"review": decision}, ensure_ascii=False)
        row.updated_at = datetime.now(UTC)
