"""Where the project's data and local state live.

``CREWS_INCLUDE_DIR`` overrides the include/ folder; ``CREWS_STATE_DIR`` the
folder for generated state (model file, results DB, tracking spool, published
copy), which defaults to the git-ignored ``.stack/`` in the project.
"""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INCLUDE_DIR = Path(os.environ.get("CREWS_INCLUDE_DIR", PROJECT_ROOT / "include"))


def state_dir() -> Path:
    return Path(os.environ.get("CREWS_STATE_DIR", PROJECT_ROOT / ".stack"))
