"""Deterministic table profiling in SQL over a read-only connection.

Counts, null rates, distinct counts, min/max, negatives, duplicate keys,
orphan foreign keys and the newest timestamp (freshness) are aggregated by the
database; pattern and date checks look at a bounded sample (``sample_limit``
rows), so a large table is never loaded whole. CSV and Parquet files are
queried the same way through DuckDB views (see :mod:`crews.readonly_db`).
:func:`findings` turns a profile and the declared expectations into problems
(table, column, kind, count, evidence; an empty table is one); :func:`schema_drift`
compares a profile with the previous one of the same dataset. A source that
cannot be read fails with an error naming the dataset (see :func:`profile_table`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, Engine, MetaData, Table, and_, func, inspect, or_, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, NoSuchTableError
from sqlalchemy.sql.sqltypes import Float, NullType, Numeric
from sqlalchemy.types import TypeEngine

from crews.data_qa.request import ColumnRule, DatasetSpec
from crews.data_qa.schemas import ColumnProfile, Finding, TableProfile
from crews.errors import InputError, SourceUnavailableError
from crews.readonly_db import QUERY_TIMEOUT_ENV, TIMED_OUT, query_timeout_s
from crews.tracking.steps import traced_step


def reflect_table(conn: Connection, name: str, metadata: MetaData) -> Table:
    """The table's columns and types (DuckDB views through information_schema)."""
    if conn.dialect.name != "duckdb":
        return Table(name, metadata, autoload_with=conn)
    if name in metadata.tables:
        return metadata.tables[name]
    rows = conn.execute(
        text("SELECT column_name, data_type FROM information_schema.columns "
             "WHERE table_name = :name ORDER BY ordinal_position"),
        {"name": name},
    ).all()
    if not rows:
        raise NoSuchTableError(name)
    return Table(name, metadata, *(Column(column, _sql_type(conn, kind)) for column, kind in rows))


_EXTRA_TYPES = {"double": Float, "decimal": Numeric}


def _sql_type(conn: Connection, kind: str) -> TypeEngine:
    """SQLAlchemy type for a type name such as ``DECIMAL(10,2)`` (unknown names: NullType)."""
    name = kind.split("(")[0].strip().lower()
    type_class = conn.dialect.ischema_names.get(name) or _EXTRA_TYPES.get(name)
    return type_class() if type_class else NullType()


def _source(spec: DatasetSpec) -> tuple[str, bool]:
    """(what the dataset reads, shown without password; whether it is a file rather than a server)."""
    if spec.files:
        return ", ".join(Path(f).name for f in spec.files.values()), True
    url = make_url(spec.url or "")
    return url.render_as_string(hide_password=True), url.get_backend_name() in {"sqlite", "duckdb"}


def _reason(exc: BaseException) -> str:
    """The first line of the database's own message."""
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


@traced_step("tool")
def profile_table(engine: Engine, spec: DatasetSpec, now: datetime | None = None) -> TableProfile:
    """Profile ``spec.table`` with aggregate queries and one bounded sample.

    A server that cannot be reached raises :class:`SourceUnavailableError` (retried);
    an unknown table or unreadable file raises :class:`InputError`; both name the dataset.
    """
    source, file_backed = _source(spec)
    try:
        conn = engine.connect()
    except DBAPIError as exc:
        if file_backed:
            raise InputError(f"dataset {spec.dataset_id!r}: cannot read {source}: {_reason(exc)}") from exc
        raise SourceUnavailableError(f"dataset {spec.dataset_id!r}: cannot connect to {source}: "
                                     f"{_reason(exc)}; check the url and that the server is up") from exc
    try:
        with conn:
            return _profile(conn, spec, now or datetime.now(UTC))
    except InputError as exc:
        raise InputError(f"dataset {spec.dataset_id!r}: {exc}") from exc
    except NoSuchTableError as exc:
        raise InputError(f"dataset {spec.dataset_id!r}: no table {exc.args[0]!r} in {source}; "
                         f"tables there: {_table_names(engine)}") from exc
    except DBAPIError as exc:
        if any(marker in str(exc.orig).lower() for marker in TIMED_OUT):
            raise InputError(f"dataset {spec.dataset_id!r}: a query on table {spec.table!r} of {source} ran "
                             f"longer than {query_timeout_s():g} s and was stopped ({QUERY_TIMEOUT_ENV} sets "
                             "the bound); check a smaller table or sample, or raise the bound") from exc
        if exc.connection_invalidated or (not file_backed and type(exc).__name__ == "OperationalError"):
            raise SourceUnavailableError(f"dataset {spec.dataset_id!r}: lost {source}: "
                                         f"{_reason(exc)}") from exc
        raise InputError(f"dataset {spec.dataset_id!r}: cannot read table {spec.table!r} from {source}: "
                         f"{_reason(exc)}") from exc


def _require_columns(table: Table, field: str, names: list[str]) -> None:
    if unknown := [name for name in names if name not in table.c]:
        raise InputError(f"{field}: no column {', '.join(map(repr, unknown))} in table {table.name!r} "
                         f"(its columns: {', '.join(table.c.keys())})")


def _table_names(engine: Engine) -> str:
    try:
        with engine.connect() as conn:
            names = inspect(conn).get_table_names() + inspect(conn).get_view_names()
    except DBAPIError:
        return "(could not be listed)"
    return ", ".join(sorted(names)) or "(none)"


def _profile(conn: Connection, spec: DatasetSpec, now: datetime) -> TableProfile:
    today = now.date()
    metadata = MetaData()
    table = reflect_table(conn, spec.table, metadata)
    _require_columns(table, "key_columns", spec.key_columns)
    _require_columns(table, "foreign_keys", [fk.column for fk in spec.foreign_keys])
    row_count = conn.execute(select(func.count()).select_from(table)).scalar_one()
    columns: dict[str, ColumnProfile] = {}
    for column in table.columns:
        numeric = isinstance(column.type, Numeric) or "INT" in str(column.type).upper()
        stats = [func.count(column), func.count(column.distinct()), func.min(column), func.max(column)]
        if numeric:
            stats.append(func.sum((column < 0).cast(Numeric)))
        row = conn.execute(select(*stats)).one()
        rule = spec.columns.get(column.name, ColumnRule())
        profile = ColumnProfile(
            name=column.name,
            type=str(column.type),
            nulls=row_count - row[0],
            null_rate=(row_count - row[0]) / row_count if row_count else 0.0,
            distinct=row[1],
            min=row[2],
            max=row[3],
            negatives=int(row[4] or 0) if numeric else None,
        )
        if numeric and (rule.min is not None or rule.max is not None):
            conditions = []
            if rule.min is not None:
                conditions.append(column < rule.min)
            if rule.max is not None:
                conditions.append(column > rule.max)
            profile.out_of_range = conn.execute(
                select(func.count()).select_from(table).where(or_(*conditions))
            ).scalar_one()
        columns[column.name] = profile
    sample = conn.execute(select(table).limit(spec.sample_limit)).mappings().all()
    for name, rule in spec.columns.items():
        if name not in columns:
            continue
        values = [r[name] for r in sample if r[name] is not None]
        if check := rule.format_check():
            bad = [str(v) for v in values if not check[1].match(str(v))]
            columns[name].pattern_violations = len(bad)
            columns[name].pattern_examples = bad[:5]
        if rule.not_future:
            dates = [d for d in map(_as_date, values) if d is not None]
            columns[name].future_values = sum(d > today for d in dates)
        if rule.max_age_hours is not None and (newest := _as_datetime(columns[name].max)) is not None:
            columns[name].age_hours = round((now - newest).total_seconds() / 3600, 1)
    duplicates = 0
    if spec.key_columns:
        keys = [table.c[k] for k in spec.key_columns]
        grouped = select(*keys).group_by(*keys).having(func.count() > 1).subquery()
        duplicates = conn.execute(select(func.count()).select_from(grouped)).scalar_one()
    orphans = {}
    for fk in spec.foreign_keys:
        ref = reflect_table(conn, fk.ref_table, metadata)
        _require_columns(ref, "foreign_keys", [fk.ref_column])
        ref = ref.alias("ref")  # a key into the same table (manager_id -> id) joins the table with itself
        missing = (
            select(func.count())
            .select_from(table.outerjoin(ref, table.c[fk.column] == ref.c[fk.ref_column]))
            .where(and_(table.c[fk.column].is_not(None), ref.c[fk.ref_column].is_(None)))
        )
        orphans[fk.column] = conn.execute(missing).scalar_one()
    return TableProfile(
        dataset_id=spec.dataset_id,
        table=spec.table,
        row_count=row_count,
        columns=columns,
        duplicate_keys=duplicates,
        orphans=orphans,
        sampled_rows=len(sample),
    )


def _as_datetime(value: Any) -> datetime | None:
    """A timestamp as an aware datetime (naive values and plain dates are taken as UTC)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


@traced_step("tool")
def findings(profile: TableProfile, spec: DatasetSpec) -> list[Finding]:
    """Every rule the profile breaks, with the numbers as evidence."""
    found: list[Finding] = []
    table = profile.table
    if profile.row_count == 0:
        found.append(Finding(table=table, column=None, kind="empty_table", count=1,
                             evidence="the table has no rows"))
    for name, rule in spec.columns.items():
        column = profile.columns.get(name)
        if column is None:
            found.append(Finding(table=table, column=name, kind="missing_column", count=1,
                                 evidence=f"declared column {name!r} is not in the table"))
            continue
        if rule.not_null and column.nulls:
            found.append(Finding(table=table, column=name, kind="nulls", count=column.nulls,
                                 evidence=f"{column.nulls} of {profile.row_count} rows are null "
                                          f"({column.null_rate:.1%})"))
        if column.pattern_violations:
            found.append(Finding(table=table, column=name, kind="pattern", count=column.pattern_violations,
                                 evidence=f"{column.pattern_violations} values are malformed "
                                          f"(do not match {rule.format_check()[0]}), "
                                          f"e.g. {column.pattern_examples[:3]}"))
        if column.out_of_range:
            found.append(Finding(table=table, column=name, kind="out_of_range", count=column.out_of_range,
                                 evidence=f"{column.out_of_range} values outside [{rule.min}, {rule.max}]; "
                                          f"min {column.min}, max {column.max}"))
        if rule.not_negative and column.negatives:
            found.append(Finding(table=table, column=name, kind="negative_values", count=column.negatives,
                                 evidence=f"{column.negatives} negative values; min {column.min}"))
        if column.future_values:
            found.append(Finding(table=table, column=name, kind="future_dates", count=column.future_values,
                                 evidence=f"{column.future_values} dates after today; max {column.max}"))
        if (rule.max_age_hours is not None and column.age_hours is not None
                and column.age_hours > rule.max_age_hours):
            found.append(Finding(table=table, column=name, kind="stale", count=1,
                                 evidence=f"newest value {column.max} is {column.age_hours:.0f} h old; "
                                          f"at most {rule.max_age_hours:g} h allowed"))
    if profile.duplicate_keys:
        found.append(Finding(table=table, column=",".join(spec.key_columns), kind="duplicate_keys",
                             count=profile.duplicate_keys,
                             evidence=f"{profile.duplicate_keys} key values occur more than once"))
    for column, count in profile.orphans.items():
        if count:
            fk = next(f for f in spec.foreign_keys if f.column == column)
            found.append(Finding(table=table, column=column, kind="orphan_keys", count=count,
                                 evidence=f"{count} rows reference a missing {fk.ref_table}.{fk.ref_column}"))
    return found


@traced_step("tool")
def schema_drift(previous: TableProfile | None, current: TableProfile,
                 volume_tolerance: float = 0.5) -> list[Finding]:
    """Columns dropped, added or retyped since the previous profile, and large volume changes."""
    if previous is None:
        return []
    table = current.table
    found = [
        Finding(table=table, column=name, kind="dropped_column", count=1,
                evidence=f"{name!r} was in the previous profile")
        for name in previous.columns if name not in current.columns
    ]
    found += [
        Finding(table=table, column=name, kind="added_column", count=1,
                evidence=f"{name!r} is new since the previous profile")
        for name in current.columns if name not in previous.columns
    ]
    found += [
        Finding(table=table, column=name, kind="retyped_column", count=1,
                evidence=f"type changed from {previous.columns[name].type} to {col.type}")
        for name, col in current.columns.items()
        if name in previous.columns and previous.columns[name].type != col.type
    ]
    if (previous.row_count
            and abs(current.row_count - previous.row_count) / previous.row_count > volume_tolerance):
        found.append(Finding(table=table, column=None, kind="volume_change",
                             count=abs(current.row_count - previous.row_count),
                             evidence=f"rows went from {previous.row_count} to {current.row_count}"))
    return found
