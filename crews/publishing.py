"""Approved output written to disk once per DAG run, with a ``latest`` pointer per item moved atomically.

``<folder>/runs/<run>/<item>.md`` keeps what each DAG run approved; ``<folder>/<item>.md`` is a symlink to
the newest of them. Both are replaced with :func:`os.replace`, so a reader sees the old or the new copy,
never a half-written one, and two runs finishing together cannot mix their copies.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def run_folder_name(run_id: str) -> str:
    """A folder name for a DAG run id ("manual__2026-12-02T06:00:00+00:00" ->
    "manual__2026-12-02T06_00_00_00_00")."""
    return _UNSAFE.sub("_", run_id).strip(".") or "run"


def publish_text(folder: Path, run_id: str, item_id: str, text: str) -> Path:
    """Write ``text`` as this run's copy of ``item_id`` and point ``<folder>/<item_id>.md`` at it; returns the
    run's file."""
    target = folder / "runs" / run_folder_name(run_id) / f"{item_id}.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(target, text)
    latest = folder / f"{item_id}.md"
    temporary = folder / f".{item_id}.md.{uuid.uuid4().hex}.tmp"
    temporary.symlink_to(target.relative_to(folder))
    os.replace(temporary, latest)
    return target


def _atomic_write(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
