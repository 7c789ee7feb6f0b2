"""Where the project's data and local state live.

``CREWS_INCLUDE_DIR`` overrides the include/ folder; ``CREWS_STATE_DIR`` the
folder for generated state (model file, results DB, tracking spool, published
copy), which defaults to the git-ignored ``.stack/`` in the project.
"""

import os
from collections.abc import Iterable
from pathlib import Path

from crews.errors import InputError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INCLUDE_DIR = Path(os.environ.get("CREWS_INCLUDE_DIR", PROJECT_ROOT / "include"))


def state_dir() -> Path:
    return Path(os.environ.get("CREWS_STATE_DIR", PROJECT_ROOT / ".stack"))


def find_input_file(reference: str, field: str, roots: Iterable[Path | None], search_dirs: Iterable[Path] = ()) -> Path:
    """The file an input item names, looked up in ``roots`` (then ``search_dirs``) and never outside ``roots``.

    Raises :class:`InputError` naming ``field`` when the path escapes the roots or no such file exists.
    """
    allowed = [root.resolve() for root in roots if root is not None]
    raw = Path(reference)
    candidates = [raw] if raw.is_absolute() else [folder / raw for folder in (*allowed, *search_dirs)]
    for candidate in candidates:
        path = candidate.resolve()
        if not any(path.is_relative_to(root) for root in allowed):
            raise InputError(f"{field}: {reference!r} is outside the allowed folders {[str(r) for r in allowed]}")
        if path.is_file():
            return path
    raise InputError(f"{field}: file {reference!r} not found under {[str(r) for r in allowed]}")
