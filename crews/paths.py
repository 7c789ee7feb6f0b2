"""Where the project's data lives. ``CREWS_INCLUDE_DIR`` overrides the include/ folder."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INCLUDE_DIR = Path(os.environ.get("CREWS_INCLUDE_DIR", PROJECT_ROOT / "include"))
