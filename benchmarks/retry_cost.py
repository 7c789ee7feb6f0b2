"""Row 3: tokens and LLM calls re-spent by an Airflow retry after a failure late in the crew.

For one golden item of each crew: a clean run counts its N paid calls and T tokens.
Then the last LLM call fails on the first try (HTTP 500 from the fake OpenAI server,
client retries off), and a second try of the same task instance runs to the end.
Ours is ``crews.runner.run_item`` with an Airflow-like task-instance context, so the
response cache (``crews/runtime/response_cache.py``, attached by
``crews/runtime/guards.py``) replays what try 1 paid for; the plain crew is the same
call with the cache off (``response_cache.scope: off``). Re-spent = paid over both
tries minus the clean run. Tokens come from the tracking records (MLflow is pointed
at a closed port, so the records are spooled to a folder this row reads).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from benchmarks.common import Context, RowResult, log

ROW, NAME = 3, "Retry cost"
GOAL = "ours re-spends 0 tokens and 0 LLM calls on a retry"
ITEMS = {  # one golden item per crew (inputs relative to include/<crew>/)
    "fact_check": 0,
    "data_qa": 1,
    "contract_qa": 0,
}
OK = ("pass",)  # a fault entry that lets the request through


def _records(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def run(ctx: Context) -> RowResult:
    row = RowResult(ROW, NAME, GOAL)
    import openai

    import crews  # noqa: F401
    from crews.evaluation.golden import golden_path, load_golden
    from crews.runner import run_item
    from crews.runtime.settings import LLMSettings
    from tests.support.fake_openai import FakeOpenAI
    from tests.support.scripted_crews import respond

    off = ctx.root / "limits_cache_off.yaml"
    off.write_text("response_cache: {scope: \"off\"}\nbudgets: {}\n")
    from tests.support.fake_openai import FAKE_MODEL_PRICING

    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "CREWS_SPOOL_DIR", "CREWS_LIMITS_FILE",
                                             "CREWS_PRICING_FILE")}
    os.environ["MLFLOW_TRACKING_URI"] = "http://127.0.0.1:9"  # closed: records are spooled
    # the fake model at $0: the USD budgets let it run
    os.environ["CREWS_PRICING_FILE"] = str(FAKE_MODEL_PRICING)
    totals = {v: {"calls": 0, "tokens": 0.0} for v in ("ours", "plain")}
    clean_totals = {"calls": 0, "tokens": 0.0}
    lines = ["| crew item | clean run: calls / tokens | ours re-spent: calls / tokens | "
             "plain re-spent: calls / tokens |",
             "| --- | --- | --- | --- |"]
    try:
        for crew, index in ITEMS.items():
            record = load_golden(crew)[index]
            base = golden_path(crew).parent

            def attempt(server: FakeOpenAI, run_id: str, try_number: int, spool: Path,
                        crew: str = crew, record: dict = record, base: Path = base) -> dict[str, Any]:
                os.environ["CREWS_SPOOL_DIR"] = str(spool)
                settings = LLMSettings(provider="openai_compatible", model="fake", base_url=server.base_url,
                                       structured_output="json_object_schema", timeout_s=30, max_retries=0)
                context = {"source": "airflow", "dag_id": f"bench_{crew}", "run_id": run_id,
                           "task_id": "item", "map_index": 0, "try_number": try_number}
                return run_item(crew, record["inputs"], settings, context=context, base_dir=base)

            spool = ctx.root / f"retry_{crew}_clean"
            with FakeOpenAI(respond) as server:
                clean = attempt(server, "clean", 1, spool)
            n_calls, n_tokens = server.answered, clean["usage"]["total_tokens"]
            clean_totals["calls"] += n_calls
            clean_totals["tokens"] += n_tokens
            spent = {}
            for variant in ("ours", "plain"):
                os.environ.pop("CREWS_LIMITS_FILE", None)
                if variant == "plain":
                    os.environ["CREWS_LIMITS_FILE"] = str(off)
                spool = ctx.root / f"retry_{crew}_{variant}"
                faults = [OK] * (n_calls - 1) + [("status", 500)]
                with FakeOpenAI(respond, faults=faults) as server:
                    try:
                        attempt(server, f"retry_{variant}", 1, spool)
                        raise RuntimeError("the injected failure did not fail try 1")
                    except openai.InternalServerError:
                        pass
                    retry = attempt(server, f"retry_{variant}", 2, spool)
                tokens = sum(r["metrics"]["total_tokens"] for r in _records(spool))
                spent[variant] = (server.answered - n_calls, tokens - n_tokens, retry["usage"]["cache_hits"])
                totals[variant]["calls"] += spent[variant][0]
                totals[variant]["tokens"] += spent[variant][1]
            log(f"retry cost {crew}: clean {n_calls} calls; re-spent ours {spent['ours'][:2]}, "
                f"plain {spent['plain'][:2]}")
            lines.append(f"| {crew}/{index} | {n_calls} / {n_tokens:.0f} | "
                         f"{spent['ours'][0]} / {spent['ours'][1]:.0f} "
                         f"({spent['ours'][2]} replayed from the cache) | "
                         f"{spent['plain'][0]} / {spent['plain'][1]:.0f} |")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    ours, plain = totals["ours"], totals["plain"]
    row.measured = f"ours: {ours['calls']} calls / {ours['tokens']:.0f} tokens re-spent"
    row.comparison = f"plain crew: {plain['calls']} calls / {plain['tokens']:.0f} tokens re-spent"
    share = plain["tokens"] / clean_totals["tokens"] if clean_totals["tokens"] else 0
    row.ratio = f"ours re-spends 0% vs plain {share:.0%} of a clean run's tokens"
    row.verdict(ours["calls"] == 0 and ours["tokens"] == 0)
    row.notes = (f"{len(ITEMS)} items (one per crew, {clean_totals['calls']} LLM calls in clean runs), last "
                 "LLM call fails with HTTP 500 on try 1, try 2 runs to the end; scripted answers via the "
                 "fake OpenAI server")
    row.details = lines
    row.data = {"ours": ours, "plain": plain, "clean": clean_totals}
    return row
