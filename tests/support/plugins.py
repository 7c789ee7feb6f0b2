"""Import a module of the project's Airflow plugins folder, as Airflow's plugins manager does."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def plugin_module(name: str) -> ModuleType:
    sys.path.insert(0, str(PLUGINS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(PLUGINS))
