"""Row 5: local LLM throughput through the whole crew stack against raw llama.cpp.

Crew stack: completion tokens of an item over the wall time of the whole
``run_item`` call (crew -> TrackedLLM -> openai SDK -> HTTP -> llama.cpp server,
plus the deterministic tools and the MLflow write). Raw: the same requests replayed
in-process right after the item (see :mod:`benchmarks.local_session`), completion
tokens over the time of the ``create_chat_completion`` calls. Both sides process
their prompts too (tokens/s of whole requests, not of decoding alone).
"""

from __future__ import annotations

from benchmarks.common import Context, RowResult, median
from benchmarks.local_session import session

ROW, NAME = 5, "Local LLM throughput"
GOAL = ">= 90% of raw llama.cpp completion tokens/s"
MIN_SHARE = 0.9


def run(ctx: Context) -> RowResult:
    row = RowResult(ROW, NAME, GOAL)
    data = session(ctx)
    items = [i for i in data["items"] if i.get("raw") and "error" not in i]
    if not items:
        row.notes = "no replayed item finished on the local model, so there is nothing to compare"
        return row
    lines = ["| item | requests | stack: completion tokens / wall s | raw: completion tokens / s | "
             "stack/raw |",
             "| --- | --- | --- | --- | --- |"]
    sums = {"stack_tokens": 0, "stack_s": 0.0, "http_s": 0.0, "raw_tokens": 0, "raw_s": 0.0,
            "prompt_tokens": 0}
    ratios = []
    for item in items:
        stack_tokens = sum(r["usage"]["completion_tokens"] for r in item["requests"] if r["ok"])
        raw_tokens = sum(r["usage"]["completion_tokens"] for r in item["raw"])
        raw_s = sum(r["seconds"] for r in item["raw"])
        sums["stack_tokens"] += stack_tokens
        sums["prompt_tokens"] += sum(r["usage"]["prompt_tokens"] for r in item["requests"] if r["ok"])
        sums["stack_s"] += item["wall_s"]
        sums["http_s"] += sum(r["seconds"] for r in item["requests"] if r["ok"])
        sums["raw_tokens"] += raw_tokens
        sums["raw_s"] += raw_s
        ratio = (stack_tokens / item["wall_s"]) / (raw_tokens / raw_s)
        ratios.append(ratio)
        lines.append(f"| {item['crew']}[{item['index']}] | {len(item['requests'])} | {stack_tokens} / "
                     f"{item['wall_s']:.1f} = {stack_tokens / item['wall_s']:.1f} | "
                     f"{raw_tokens} / {raw_s:.1f} = {raw_tokens / raw_s:.1f} | {ratio:.0%} |")
    stack_rate = sums["stack_tokens"] / sums["stack_s"]
    http_rate = sums["stack_tokens"] / sums["http_s"]
    raw_rate = sums["raw_tokens"] / sums["raw_s"]
    share = stack_rate / raw_rate
    row.measured = (f"crew stack: {stack_rate:.1f} completion tokens/s over whole items "
                    f"({http_rate:.1f} tokens/s counting only the time in LLM requests)")
    row.comparison = f"raw llama_cpp.Llama: {raw_rate:.1f} completion tokens/s, same requests"
    row.ratio = (f"{share:.0%} (median per item {median(ratios):.0%}; "
                 f"requests only {http_rate / raw_rate:.0%})")
    row.verdict(share >= MIN_SHARE)
    row.notes = (f"{len(items)} items ({sum(len(i['requests']) for i in items)} requests, "
                 f"{sums['prompt_tokens']} prompt tokens, {sums['stack_tokens']} / {sums['raw_tokens']} "
                 "completion tokens stack / raw; prompt processing is part of both times), each replayed "
                 f"right after it ran; same GGUF, {data['threads']} threads, n_ctx 4096, the server's "
                 "request defaults; model load time not counted")
    row.details = lines
    row.data = {**sums, "stack_rate": stack_rate, "http_rate": http_rate, "raw_rate": raw_rate,
                "share": share, "per_item_ratios": ratios}
    return row
