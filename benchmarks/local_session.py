"""The local-model pass shared by rows 4 and 5.

Runs golden-set items through ``crews.runner.run_item`` against the project's
llama.cpp server (Qwen2.5-Coder-0.5B, ``provider: local``) with the counting hooks of
:mod:`benchmarks.instrument`, and, for the items row 5 compares, replays each request
the crew sent right after the item, raw, in-process (``llama_cpp.Llama`` built from the
server's own ``ModelSettings`` with the same GGUF file and threads; the request body goes
through the server's own request model, so sampling defaults, ``max_tokens``,
``temperature`` and the JSON-schema grammar are the same).
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.common import Context, llm_threads, log

# Which golden records run (indexes into include/<crew>/golden.yaml). contract_qa: one
# document question per contract, one register, one both, one unanswerable question.
SUBSET = {"fact_check": [0, 1, 2], "data_qa": [0, 1, 2, 3, 4, 5], "contract_qa": [0, 3, 5, 8, 10, 13, 15]}
QUICK_SUBSET = {"fact_check": [0], "data_qa": [1], "contract_qa": [0]}
REPLAY_PER_CREW, QUICK_REPLAY_PER_CREW = 2, 1


def session(ctx: Context) -> dict[str, Any]:
    """Run (once per benchmark run) and return every item's measurements."""
    if "local_session" not in ctx.shared:
        ctx.shared["local_session"] = _run(ctx)
    return ctx.shared["local_session"]


def _raw_model(ctx: Context) -> Any:
    from llama_cpp.server.model import LlamaProxy
    from llama_cpp.server.settings import ModelSettings

    from crews.runtime.settings import LOCAL_MODEL

    settings = ModelSettings(model=str(ctx.model_path()), model_alias=LOCAL_MODEL, n_ctx=4096,
                             n_threads=llm_threads(), verbose=False)
    return LlamaProxy.load_llama_from_model_settings(settings)


def replay_raw(llama: Any, body: dict[str, Any]) -> dict[str, Any]:
    """One request as the server would run it, minus HTTP: same kwargs to ``create_chat_completion``."""
    from llama_cpp.server.types import CreateChatCompletionRequest

    kwargs = CreateChatCompletionRequest(**body).model_dump(exclude={"n", "logit_bias_type", "user",
                                                                     "min_tokens"})
    began = time.perf_counter()
    answer = llama.create_chat_completion(**kwargs)
    return {"seconds": time.perf_counter() - began, "usage": answer["usage"]}


def _warm_up(base_url: str) -> None:
    """Pay the one-off imports (crewai, openai SDK, MLflow writer) before anything is timed."""
    from openai import OpenAI

    from crews.runner import run_item
    from crews.runtime.settings import LLMSettings

    OpenAI(base_url=base_url, api_key="not-needed").models.list()
    scripted = LLMSettings(provider="scripted", script="tests.support.scripted_crews:respond")
    run_item("fact_check", {"draft_id": "warmup", "copy_file": "drafts/aurora_launch.md",
                            "fact_sheet_file": "fact_sheets/aurora_x2.yaml"}, scripted,
             context={"purpose": "benchmark"})


def _run(ctx: Context) -> dict[str, Any]:
    import os

    import crews  # noqa: F401
    from benchmarks.instrument import capture_llm
    from crews.evaluation.golden import golden_path, load_golden
    from crews.runner import run_item
    from crews.runtime.settings import LLMSettings

    os.environ["MLFLOW_TRACKING_URI"] = ctx.mlflow_url()
    base_url = ctx.llm_url()
    settings = LLMSettings(provider="local", base_url=base_url, timeout_s=300, max_retries=0)
    _warm_up(base_url)
    subset = QUICK_SUBSET if ctx.quick else SUBSET
    replay_n = QUICK_REPLAY_PER_CREW if ctx.quick else REPLAY_PER_CREW
    if ctx.selected and 5 not in ctx.selected:
        replay_n = 0  # row 5 is not part of this run
    llama = None
    items = []
    began_all = time.monotonic()
    for crew, indexes in subset.items():
        records = load_golden(crew)
        for position, index in enumerate(indexes):
            record = records[index]
            item: dict[str, Any] = {"crew": crew, "index": index, "replayed": position < replay_n}
            with capture_llm() as capture:
                began = time.perf_counter()
                try:
                    result = run_item(crew, record["inputs"], settings, context={"purpose": "benchmark"},
                                      base_dir=golden_path(crew).parent)
                    item["item_id"], item["usage"] = result["item_id"], result["usage"]
                except Exception as exc:  # a failed item still counts its steps and calls
                    item["error"] = f"{type(exc).__name__}: {exc}"[:300]
                item["wall_s"] = time.perf_counter() - began
            item["requests"] = capture.requests
            item["steps"] = [vars(s) | {"first_try_valid": s.first_try_valid} for s in capture.steps]
            log(f"local model: {crew}[{index}] {item['wall_s']:.0f}s, {len(capture.requests)} requests, "
                f"{len(capture.steps)} steps{', ' + item['error'] if 'error' in item else ''}")
            if item["replayed"]:
                if llama is None:
                    llama = _raw_model(ctx)
                item["raw"] = [replay_raw(llama, r["body"]) for r in capture.requests if r["ok"]]
                log(f"raw replay of {crew}[{index}]: {sum(r['seconds'] for r in item['raw']):.0f}s")
            items.append(item)
    return {"items": items, "seconds": time.monotonic() - began_all, "subset": subset,
            "replay_per_crew": replay_n, "threads": llm_threads()}
