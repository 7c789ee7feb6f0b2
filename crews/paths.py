"""Where the project's data and local state live, and which files an input may name.

``CREWS_INCLUDE_DIR`` overrides the include/ folder; ``CREWS_STATE_DIR`` the
folder for generated state (model file, results DB, tracking spool, published
copy), which defaults to the git-ignored ``.stack/`` in the project.
``CREWS_DATA_ROOTS`` (folders separated by ``os.pathsep``) names further
folders whose files an input item may reference by absolute path; the same
rule confines the database file of a SQLite/DuckDB URL (:func:`database_url`).
"""

import os
from collections.abc import Iterable
from pathlib import Path

from crews.errors import InputError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INCLUDE_DIR = Path(os.environ.get("CREWS_INCLUDE_DIR", PROJECT_ROOT / "include"))
DATA_ROOTS_ENV = "CREWS_DATA_ROOTS"
FILE_DATABASES = {"sqlite", "duckdb"}
CONNECT_TIMEOUT_S = 10
TIMEOUT_ARG = {"psycopg2": "connect_timeout", "psycopg": "connect_timeout", "mysqldb": "connect_timeout",
               "pymysql": "connect_timeout", "pg8000": "timeout"}


def state_dir() -> Path:
    return Path(os.environ.get("CREWS_STATE_DIR", PROJECT_ROOT / ".stack"))


def data_roots() -> list[Path]:
    """The extra folders named in ``CREWS_DATA_ROOTS`` (resolved; empty entries ignored)."""
    return [Path(entry).resolve() for entry in os.environ.get(DATA_ROOTS_ENV, "").split(os.pathsep)
            if entry.strip()]


def find_input_file(reference: str, field: str, roots: Iterable[Path | None],
                    search_dirs: Iterable[Path] = ()) -> Path:
    """The file an input item names, never outside ``roots`` or :func:`data_roots`.

    A relative ``reference`` is looked up in ``roots`` (then ``search_dirs``); an
    absolute one must lie under one of ``roots`` or :func:`data_roots`. Raises
    :class:`InputError` naming ``field`` when the path escapes them or no such file exists.
    """
    bases = [root.resolve() for root in roots if root is not None]
    allowed = [*bases, *data_roots()]
    folders = [str(r) for r in allowed]
    if not reference.strip() or "\0" in reference:
        raise InputError(f"{field}: {reference!r} is not a file path")
    raw = Path(reference)
    candidates = [raw] if raw.is_absolute() else [folder / raw for folder in (*bases, *search_dirs)]
    for candidate in candidates:
        path = candidate.resolve()
        if not any(path.is_relative_to(root) for root in allowed):
            raise InputError(
                f"{field}: {reference!r} is outside the allowed folders {folders}; name a file inside them "
                f"(no '..' out of them), or add its folder to {DATA_ROOTS_ENV} to allow it"
            )
        if path.is_file():
            return path
    raise InputError(f"{field}: file {reference!r} not found under {folders}")


def database_url(raw: str, field: str, roots: Iterable[Path | None]) -> str:
    """A SQLAlchemy URL that names a known dialect with an installed driver.

    The database file of a SQLite/DuckDB URL is found like :func:`find_input_file`
    (confined to ``roots`` and :func:`data_roots`); a server URL gets a connect
    timeout of :data:`CONNECT_TIMEOUT_S` seconds unless it sets one. Raises
    :class:`InputError` naming ``field``.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise InputError(f"{field}: {raw!r} is not a SQLAlchemy URL (like sqlite:///shop.db or "
                         "postgresql://user@host/db)") from exc
    shown = url.render_as_string(hide_password=True)
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError as exc:
        raise InputError(f"{field}: unknown database type {url.drivername!r} in {shown!r}; use a SQLAlchemy "
                         "URL such as sqlite:///file.db or postgresql://user@host/db") from exc
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        raise InputError(f"{field}: the {url.drivername} driver ({exc.name or exc}) is not installed; "
                         "install it where the tasks run, or use a URL with an installed driver") from exc
    backend = url.get_backend_name()
    if backend in FILE_DATABASES:
        if not url.database or url.database == ":memory:":
            raise InputError(f"{field}: a {backend} URL needs a database file, got {shown!r}")
        url = url.set(database=str(find_input_file(url.database, field, roots)))
    elif (arg := TIMEOUT_ARG.get(url.get_driver_name())) and arg not in url.query:
        url = url.update_query_dict({arg: str(CONNECT_TIMEOUT_S)})
    return url.render_as_string(hide_password=False)
