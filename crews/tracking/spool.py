"""Local spool for run records that could not reach MLflow, replayed when it is back."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crews.paths import state_dir

log = logging.getLogger(__name__)


def spool_dir() -> Path:
    return Path(os.environ.get("CREWS_SPOOL_DIR", state_dir() / "spool"))


def _write(record: dict[str, Any], directory: Path | None, suffix: str) -> Path:
    """Write ``record`` atomically as ``<record_id><suffix>`` in the spool folder."""
    directory = directory or spool_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{record['record_id']}{suffix}"
    tmp = directory / f"{record['record_id']}.tmp"
    tmp.write_text(json.dumps(record, default=str))
    tmp.replace(path)
    return path


def spool(record: dict[str, Any], directory: Path | None = None) -> Path:
    """Persist ``record`` atomically; the file name is its record id."""
    return _write(record, directory, ".json")


def claim(record: dict[str, Any], directory: Path | None = None) -> Path:
    """Persist ``record`` as claimed by this process (a write is under way): no replayer takes it while
    this process lives; :func:`recover_claims` puts it back if the process dies before :func:`release`."""
    return _write(record, directory, f".claimed-{os.getpid()}")


def release(claimed: Path, written: bool) -> Path | None:
    """End a claim: drop the record once ``written``, else leave it in the spool for replay (its path)."""
    if written:
        claimed.unlink(missing_ok=True)
        return None
    path = claimed.with_suffix(".json")
    claimed.replace(path)
    return path


def replay(write: Callable[[dict[str, Any]], str], directory: Path | None = None) -> tuple[int, int]:
    """Write every spooled record with ``write``; remove those written. Returns (written, left).

    Each record is claimed by an atomic rename first, so two processes replaying at
    once never write the same record twice; a claim whose write fails is put back.
    """
    directory = directory or spool_dir()
    if not directory.exists():
        return 0, 0
    recover_claims(directory)
    written = left = 0
    for path in sorted(directory.glob("*.json")):
        claimed = path.with_suffix(f".claimed-{os.getpid()}")
        try:
            path.rename(claimed)
        except FileNotFoundError:  # another process took it
            continue
        try:
            write(json.loads(claimed.read_text()))
        except Exception as exc:  # keep the record for the next attempt
            log.warning("spooled tracking record %s not replayed yet: %s", path.name, exc)
            claimed.rename(path)
            left += 1
            continue
        claimed.unlink()
        written += 1
    return written, left


def recover_claims(directory: Path | None = None) -> int:
    """Put back records claimed by replayers that died mid-write; returns how many."""
    directory = directory or spool_dir()
    recovered = 0
    for claimed in directory.glob("*.claimed-*") if directory.exists() else ():
        pid = int(claimed.suffix.rsplit("-", 1)[-1])
        if not _alive(pid):
            claimed.rename(claimed.with_suffix(".json"))
            recovered += 1
    return recovered


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
