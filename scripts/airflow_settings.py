"""Load airflow_settings.yaml (the Astro CLI's format) into Airflow through the Airflow CLI.

docker-compose.yaml's airflow-init service runs it, so the compose stack gets the pools,
variables and connections that `astro dev start` (Astro CLI) and `make run` (scripts/stack.py,
over the REST API) load from the same file:

    python scripts/airflow_settings.py airflow_settings.yaml [--dry-run]

It writes each kind in the format of `airflow <kind> export` and runs `airflow connections import
--overwrite`, `airflow pools import` and `airflow variables import -a overwrite` (one CLI call per
kind, each a few seconds). A connection whose ``AIRFLOW_CONN_<CONN_ID>`` environment variable is
set is skipped: Airflow reads that variable before the metadata DB, so that value is the one in
use. Entries without a name (the Astro template's blank placeholders) are skipped too. Anything
else that does not fit the format stops the script with a message naming the entry and field.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

CONNECTION_FIELDS = {
    "conn_id", "conn_type", "conn_host", "conn_schema", "conn_login", "conn_password", "conn_port",
    "conn_extra", "conn_uri", "conn_description",
}
POOL_FIELDS = {"pool_name", "pool_slot", "pool_description", "include_deferred"}
VARIABLE_FIELDS = {"variable_name", "variable_value"}
IMPORT = {  # kind -> the import command's arguments before the file
    "connections": ["connections", "import", "--overwrite"],
    "pools": ["pools", "import"],
    "variables": ["variables", "import", "-a", "overwrite"],
}


class SettingsError(ValueError):
    """airflow_settings.yaml does not have the Astro CLI's format."""


def _entries(settings: Mapping[str, Any], kind: str, fields: set[str],
             name_field: str) -> list[dict[str, Any]]:
    entries = settings.get(kind) or []
    if not isinstance(entries, list):
        raise SettingsError(f"airflow.{kind} must be a list, not {type(entries).__name__}")
    named = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise SettingsError(f"airflow.{kind}[{index}] must be a mapping")
        unknown = sorted(set(entry) - fields)
        if unknown:
            raise SettingsError(f"airflow.{kind}[{index}]: unknown field(s) {unknown} "
                                f"(allowed: {sorted(fields)})")
        if entry.get(name_field):
            named.append(entry)
    return named


def _connection(conn: Mapping[str, Any]) -> dict[str, Any]:
    """One Astro connection entry in the format of `airflow connections export` (json)."""
    if conn.get("conn_uri"):
        raise SettingsError(f"connection {conn['conn_id']!r}: conn_uri is not supported; "
                            "use the conn_* fields")
    port = conn.get("conn_port")
    if port not in (None, ""):
        try:
            port = int(port)
        except (TypeError, ValueError):
            raise SettingsError(f"connection {conn['conn_id']!r}: conn_port must be a number") from None
    extra = conn.get("conn_extra")
    return {
        "conn_type": conn.get("conn_type") or "generic",
        "description": conn.get("conn_description"),
        "host": conn.get("conn_host"),
        "schema": conn.get("conn_schema"),
        "login": conn.get("conn_login"),
        "password": conn.get("conn_password"),
        "port": None if port == "" else port,
        "extra": json.dumps(extra) if isinstance(extra, (dict, list)) else extra,
    }


def plan(document: Any, environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """What to import, per kind, in the JSON format of the matching `airflow <kind> export`."""
    settings = document.get("airflow") if isinstance(document, Mapping) else None
    if not isinstance(settings, Mapping):
        raise SettingsError("the file must have a top-level 'airflow' mapping")
    loads: dict[str, dict[str, Any]] = {"connections": {}, "pools": {}, "variables": {}}
    for conn in _entries(settings, "connections", CONNECTION_FIELDS, "conn_id"):
        conn_id = str(conn["conn_id"])
        if environ.get(f"AIRFLOW_CONN_{conn_id.upper()}"):
            print(f"connection {conn_id}: skipped, AIRFLOW_CONN_{conn_id.upper()} is set and wins",
                  file=sys.stderr)
            continue
        loads["connections"][conn_id] = _connection(conn)
    for pool in _entries(settings, "pools", POOL_FIELDS, "pool_name"):
        slots = pool.get("pool_slot")
        if isinstance(slots, bool) or not isinstance(slots, int) or slots < 0:
            raise SettingsError(f"pool {pool['pool_name']!r}: pool_slot must be a whole number >= 0, "
                                f"not {slots!r}")
        loads["pools"][str(pool["pool_name"])] = {
            "slots": slots,
            "description": str(pool.get("pool_description") or ""),
            "include_deferred": bool(pool.get("include_deferred", False)),
        }
    for variable in _entries(settings, "variables", VARIABLE_FIELDS, "variable_name"):
        value = variable.get("variable_value")
        loads["variables"][str(variable["variable_name"])] = "" if value is None else value
    return {kind: items for kind, items in loads.items() if items}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", type=Path)
    parser.add_argument("--dry-run", action="store_true", help="print what would be imported, run nothing")
    args = parser.parse_args(argv)
    try:
        loads = plan(yaml.safe_load(args.settings.read_text()), os.environ)
    except (OSError, yaml.YAMLError, SettingsError) as exc:
        print(f"{args.settings}: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder:
        for kind, items in loads.items():
            print(f"{kind}: {', '.join(items)}", flush=True)
            if args.dry_run:
                continue
            path = Path(folder) / f"{kind}.json"
            path.write_text(json.dumps(items))
            done = subprocess.run([sys.executable, "-m", "airflow", *IMPORT[kind], str(path)],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                print(done.stdout + done.stderr, file=sys.stderr)
                return done.returncode
    print(f"loaded {args.settings}: {sum(map(len, loads.values()))} item(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
