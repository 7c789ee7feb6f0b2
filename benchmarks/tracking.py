"""Row 2: tracking overhead per LLM call: none vs this project's tracking vs ``mlflow.openai.autolog()``.

Every variant runs the fact-check crew on one golden draft with the project's
OpenAI-compatible client (``openai`` SDK) against the zero-latency fake OpenAI
HTTP server of the tests (``tests/support/fake_openai.py``, scripted answers), so
autolog, which patches the ``openai`` SDK, applies to the very same calls. The
variants alternate in one process (the order rotates every repeat); both tracking
variants write to a real MLflow server started for the benchmark, synchronously
(the project's writer turns MLflow's async trace logging off; the autolog variant
also flushes), so each timing ends when the data is stored.

(a) no tracking: the crew alone;
(b) ours: ``CrewRunTracker`` (event-bus recorder -> one MLflow run with tags, params,
    metrics per agent, prompts and outputs as artifacts, and one trace; the run is created
    while the crew works, the rest written after it, and the timing waits for that write);
(c) peer: ``mlflow.openai.autolog()`` (one trace per LLM call);
(d) detail: ``crews.runner.run_item`` (tracking plus the response cache and budget guards).
"""

from __future__ import annotations

import os
import time
from typing import Any

from benchmarks.common import Context, RowResult, fmt_ms, log, median

ROW, NAME = 2, "Tracking overhead"
GOAL = "ours <= 10 ms per LLM call over no tracking, and <= the peer (mlflow.openai.autolog)"
MAX_MS = 10.0
DRAFT = {"draft_id": "aurora_launch", "copy_file": "drafts/aurora_launch.md",
         "fact_sheet_file": "fact_sheets/aurora_x2.yaml"}


def run(ctx: Context) -> RowResult:
    row = RowResult(ROW, NAME, GOAL)
    repeats = ctx.repeats(15, 2)
    url = ctx.mlflow_url()
    os.environ["MLFLOW_TRACKING_URI"] = url

    import mlflow
    import mlflow.openai

    import crews  # noqa: F401  (telemetry off before crewai loads)
    import crews.tracking.mlflow_writer  # noqa: F401  (its MLflow env defaults, as in a real task)
    from crews.registry import get_crew, prompt_hash, prompt_template
    from crews.runner import run_item
    from crews.runtime.llm_factory import build_llm
    from crews.runtime.settings import LLMSettings
    from crews.tracking.background import wait_for_writes
    from crews.tracking.context import RunContext
    from crews.tracking.tracker import CrewRunTracker
    from tests.support.fake_openai import FAKE_MODEL_PRICING, FakeOpenAI
    from tests.support.scripted_crews import respond

    contract = get_crew("fact_check")
    item = contract.load_input(DRAFT)
    hashed, template = prompt_hash(contract.config_dir), prompt_template(contract.config_dir)
    mlflow.set_tracking_uri(url)
    autolog_experiment = mlflow.set_experiment("bench/openai-autolog").experiment_id
    records: list[dict[str, Any]] = []
    writes: list[float] = []  # the part of (b) spent writing the record to MLflow after the crew

    # The fake model at $0 (only "fake" is listed): run_item's USD budgets refuse a model without a price.
    os.environ["CREWS_PRICING_FILE"] = str(FAKE_MODEL_PRICING)
    with FakeOpenAI(respond) as server:
        settings = LLMSettings(provider="openai_compatible", model="fake", base_url=server.base_url,
                               structured_output="json_object_schema", timeout_s=30, max_retries=0)
        llm = build_llm(settings)

        def plain(i: int) -> None:
            contract.run(item, llm)

        def ours(i: int) -> None:
            context = RunContext(crew="fact_check", item_id=item.draft_id, source="airflow",
                                 dag_id="bench_tracking", run_id=f"bench__{i}", task_id="check_draft",
                                 map_index=0, try_number=1)
            with CrewRunTracker(context, settings.public_dict(), hashed, inputs=item.model_dump(mode="json"),
                                prompt_template=template) as tracker:
                result = contract.run(item, llm)
                tracker.set_output(result.model_dump(mode="json"), contract.metrics(result),
                                  contract.artifacts(result))
            waited = time.perf_counter()
            wait_for_writes()  # as run_item does: the timing ends when the run is stored and finished
            tracker.settle()
            tracker.tracking_seconds += time.perf_counter() - waited
            if not tracker.mlflow_run_id:
                raise RuntimeError(f"our tracking did not reach MLflow (spooled to {tracker.spooled_to})")
            records.append(tracker.record)
            writes.append(tracker.tracking_seconds)

        def autolog(i: int) -> None:
            contract.run(item, llm)
            mlflow.flush_trace_async_logging()

        def full(i: int) -> None:
            context = {"source": "airflow", "dag_id": "bench_tracking", "run_id": f"full__{i}",
                       "task_id": "check_draft", "map_index": 0, "try_number": 1}
            result = run_item("fact_check", DRAFT, settings, context=context)
            if not result["mlflow_run_id"]:
                raise RuntimeError("run_item did not reach MLflow")

        variants = {"plain": plain, "ours": ours, "autolog": autolog, "run_item": full}
        times: dict[str, list[float]] = {name: [] for name in variants}
        calls: dict[str, list[int]] = {name: [] for name in variants}
        names = list(variants)
        for rep in range(-1, repeats):  # rep -1: warm-up of every variant, not counted
            if rep >= 0 and rep % 5 == 0:
                log(f"tracking overhead: repeat {rep + 1}/{repeats}")
            shift = max(rep, 0) % len(names)
            for name in names[shift:] + names[:shift]:
                mlflow.openai.autolog(disable=name != "autolog", silent=True)
                before = len(server.requests)
                began = time.perf_counter()
                variants[name](rep)
                elapsed = time.perf_counter() - began
                if rep >= 0:
                    times[name].append(elapsed)
                    calls[name].append(len(server.requests) - before)
        mlflow.openai.autolog(disable=True, silent=True)

    per_run = median([float(c) for c in calls["plain"]])
    if any(set(c) != {int(per_run)} for c in calls.values()):
        raise RuntimeError(f"variants made different numbers of LLM calls: {calls}")

    def overhead(name: str) -> float:
        """Median of the paired differences (same repeat) to no tracking, per LLM call, in seconds."""
        return median([t - p for t, p in zip(times[name], times["plain"], strict=True)]) / per_run

    ours_ms, peer_ms, full_ms = (overhead(n) * 1000 for n in ("ours", "autolog", "run_item"))
    write_ms = median(writes[1:]) * 1000 / per_run
    traces = _autolog_traces(mlflow, autolog_experiment)
    if traces.get("count"):
        traces["per_run"] = round(traces["count"] / (repeats + 1), 2)  # + the warm-up run
    last = records[-1]
    agent_metrics = sorted(k for k in last["metrics"] if k.startswith("agent."))
    row.measured = (f"ours: +{ours_ms:.1f} ms per LLM call ({fmt_ms(median(times['ours']))} per crew run of "
                    f"{per_run:.0f} calls vs {fmt_ms(median(times['plain']))} untracked)")
    row.comparison = (f"mlflow.openai.autolog: +{peer_ms:.1f} ms per LLM call "
                      f"({fmt_ms(median(times['autolog']))} per run)")
    row.ratio = f"ours/peer = {ours_ms / peer_ms:.2f}" if peer_ms > 0 else "peer overhead <= 0"
    row.verdict(ours_ms <= MAX_MS and ours_ms <= max(peer_ms, 0.0))
    row.notes = (f"{repeats} interleaved repeats, medians of paired differences; ours records 1 MLflow run "
                 f"per item ({len(last['metrics'])} metrics incl. {len(agent_metrics)} per-agent "
                 f"tokens/cost/calls, Airflow tags, {len(last['artifacts'])} artifacts with prompts/outputs, "
                 f"1 trace of {len(last['spans'])} spans with MLflow token usage and cost, TOOL spans for "
                 f"the checks); autolog records {traces.get('per_run', '?')} trace(s) per crew run, 1 span "
                 "each (prompt, answer, token usage), no run, agent, cost or Airflow tags. Of ours, "
                 f"{write_ms:.0f} ms per call is waiting for the MLflow write after the crew (the run, with "
                 "its tags and prompt link, is created while the crew works; after it, side by side: the "
                 "trace in 2 requests, params, metrics and end tags in 1, one request per artifact; then the "
                 f"run is finished), {ours_ms - write_ms:.1f} ms the event recording during the crew. "
                 f"run_item (tracking, served prompts, response cache, budget): +{full_ms:.1f} ms per call")
    peer_spans = traces.get("per_run", 0) * traces.get("spans_per_trace", 0)
    if last["spans"] and peer_spans:
        row.notes += (f". Per span stored: ours {ours_ms * per_run / len(last['spans']):.1f} ms, autolog "
                      f"{peer_ms * per_run / peer_spans:.1f} ms")
    row.details = [
        "| variant | median per crew run | overhead per LLM call (paired median) |",
        "| --- | --- | --- |",
        f"| (a) no tracking | {fmt_ms(median(times['plain']))} | - |",
        f"| (b) ours: CrewRunTracker -> MLflow run + trace | {fmt_ms(median(times['ours']))} | "
        f"+{ours_ms:.1f} ms |",
        f"| (c) mlflow.openai.autolog() | {fmt_ms(median(times['autolog']))} | +{peer_ms:.1f} ms |",
        f"| (d) run_item: tracking + response cache + budget | {fmt_ms(median(times['run_item']))} | "
        f"+{full_ms:.1f} ms |",
        "",
        f"Of (b), waiting for the MLflow write after the crew took {fmt_ms(median(writes[1:]))} per run "
        "(median; the run itself is created while the crew works); the rest is the event recording during "
        "the crew.",
        "",
        f"What (b) stored for one item: tags {sorted(last['tags'])}; metrics e.g. {agent_metrics[:4]}; "
        f"artifacts {sorted(last['artifacts'])}. "
        f"What (c) stored: {traces.get('describe', 'traces only')}.",
    ]
    row.data = {"repeats": repeats, "llm_calls_per_run": per_run, "times_s": times,
                "ours_ms_per_call": ours_ms, "autolog_ms_per_call": peer_ms, "ours_write_s": writes[1:],
                "run_item_ms_per_call": full_ms, "autolog_traces": traces}
    return row


def _autolog_traces(mlflow: Any, experiment_id: str) -> dict[str, Any]:
    """How many traces autolog wrote per crew run, and what one holds."""
    try:
        traces = mlflow.search_traces(locations=[experiment_id], return_type="list", max_results=1000)
    except TypeError:
        traces = mlflow.search_traces(experiment_ids=[experiment_id], return_type="list", max_results=1000)
    except Exception as exc:  # the description is informative only
        return {"describe": f"traces not readable ({type(exc).__name__})"}
    if not traces:
        return {"count": 0, "describe": "no traces found"}
    one = traces[0]
    spans = len(one.data.spans)
    usage = one.info.token_usage if hasattr(one.info, "token_usage") else None
    return {"count": len(traces), "spans_per_trace": spans, "token_usage": usage,
            "describe": f"{len(traces)} traces, {spans} span(s) each, token usage {'yes' if usage else 'no'}"}
