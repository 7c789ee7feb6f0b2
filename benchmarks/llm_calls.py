"""Row 4: LLM calls per LLM step and first-try schema validity on the local model.

A *step* is one ``TrackedLLM.call`` (one agent turn asking for a Pydantic output);
its *calls* are the requests it sent: 1, plus one per re-ask after an answer that
did not fit the schema and could not be repaired locally (``tracked_llm.py``:
``max_repairs`` re-asks; a local ``json_repair`` costs no call). The tracking layer
counts every paid request as ``llm_calls`` (MLflow run metric) and the benchmark
counts them again at the client, so the two are cross-checked. *First-try valid*:
the step's first answer parsed straight into the schema (no repair, no re-ask).
"""

from __future__ import annotations

from benchmarks.common import Context, RowResult
from benchmarks.local_session import session

ROW, NAME = 4, "LLM calls per step, first-try validity"
GOAL = "<= 1.1 LLM calls per LLM step and >= 99% of steps valid on the first try"
MAX_CALLS, MIN_VALID = 1.1, 0.99


def run(ctx: Context) -> RowResult:
    row = RowResult(ROW, NAME, GOAL)
    data = session(ctx)
    lines = ["| crew | items | failed items | steps | LLM calls (client) | llm_calls (tracking) | "
             "calls/step | first-try valid | repaired locally | re-asked |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    total = {"steps": 0, "calls": 0, "structured": 0, "valid": 0, "repaired": 0, "reasked": 0, "items": 0,
             "failed": 0}
    for crew in data["subset"]:
        items = [i for i in data["items"] if i["crew"] == crew]
        steps = [s for i in items for s in i["steps"]]
        structured = [s for s in steps if s["schema"]]
        c = {
            "items": len(items), "failed": sum("error" in i for i in items), "steps": len(steps),
            "calls": sum(len(i["requests"]) for i in items), "structured": len(structured),
            "valid": sum(s["first_try_valid"] for s in structured),
            "repaired": sum(s["repaired"] for s in structured),
            "reasked": sum(len(s["parses"]) > 1 for s in structured),
        }
        tracked = sum(i["usage"]["llm_calls"] for i in items if "usage" in i)
        for key in total:
            total[key] += c[key]
        lines.append(f"| {crew} | {c['items']} | {c['failed']} | {c['steps']} | {c['calls']} | {tracked} "
                     f"(items that finished) | {c['calls'] / max(c['steps'], 1):.2f} | "
                     f"{c['valid']}/{c['structured']} | {c['repaired']} | {c['reasked']} |")
    per_step = total["calls"] / max(total["steps"], 1)
    valid = total["valid"] / max(total["structured"], 1)
    row.measured = (f"{per_step:.2f} calls/step ({total['calls']} calls, {total['steps']} steps); "
                    f"{valid:.1%} valid on the first try ({total['valid']}/{total['structured']})")
    row.comparison = "ideal: 1.00 call/step, 100% first-try valid"
    row.ratio = f"{per_step:.2f} calls/step"
    row.verdict(per_step <= MAX_CALLS and valid >= MIN_VALID and total["steps"] > 0)
    failed = [f"{i['crew']}[{i['index']}]: {i['error']}" for i in data["items"] if "error" in i]
    subset = ", ".join(f"{crew} {len(ix)}/{_golden_size(crew)}" for crew, ix in data["subset"].items())
    row.notes = (f"Qwen2.5-Coder-0.5B Q4_K_M via the project's llama.cpp server, {data['threads']} threads; "
                 f"golden records: {subset}; {total['repaired']} steps repaired locally (no call), "
                 f"{total['reasked']} re-asked"
                 + (f"; failed items: {'; '.join(failed)}" if failed else ""))
    row.details = lines
    row.data = {"total": total, "calls_per_step": per_step, "first_try_valid": valid,
                "subset": data["subset"], "session_seconds": data["seconds"]}
    return row


def _golden_size(crew: str) -> int:
    from crews.evaluation.golden import load_golden

    return len(load_golden(crew))
