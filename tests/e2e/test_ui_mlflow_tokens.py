"""In MLflow's own web UI: a crew item's LLM tokens and cost, where an MLflow user looks for them.

One fact_check_copy DAG run with a single short draft runs on the real local model. Then:

* with the MLflow client: the item run's trace carries the run's ``total_tokens`` as MLflow's
  own token usage (``trace.info.token_usage``, summed by MLflow from the CHAT_MODEL spans), its
  cost metadata (0: the local model is free), the DAG run as its session, and the item run
  nests under the DAG run's batch run; ``mlflow.search_traces`` over the experiment finds it;
* in headless Chromium, in the MLflow UI: the experiment ``crews/fact_check`` is opened from the
  experiment list; its *Overview* page's *Token Usage* card shows a total over its time range
  (last 7 days) that lies between what the experiment's traces hold (and so is at least the
  item's tokens); the *Traces* tab shows the trace's tokens in its *Tokens* column; the
  *Sessions* view lists the DAG run's session (``fact_check_copy/<run_id>``) with its tokens.

Everything is read from the page's text (the numbers are HTML, not canvas: no OCR); each page's
screenshot lands in the test's tmp_path, and a failing step leaves ``failed_<step>.png`` there.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from tests.support.browser import browser_context, require_tools

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402

pytestmark = pytest.mark.e2e
DAG = "fact_check_copy"
EXPERIMENT = "crews/fact_check"
ITEM = "tokencheck"
# The same short draft test_ui_mlflow_link.py runs: the local model passes it without review.
# (Another DAG run does not replay cached answers: include/limits.yaml's response_cache is per task instance.)
DRAFT = {"draft_id": ITEM, "fact_sheet_file": "fact_sheets/aurora_x2.yaml",
         "copy_text": "Aurora X2 gives up to 30 hours of playback. Backed by a 2-year warranty."}
OVERVIEW_DAYS = 7  # the Overview page's default time range, "Last 7 days"
UI_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def item(api) -> dict:
    """One finished fact_check_copy DAG run of one draft: its run id, and the item's MLflow run and trace."""
    run = stack.trigger_and_wait(api, DAG, {"drafts": [DRAFT]}, timeout_s=900)
    assert run["state"] == "success", [(t["task_id"], t["map_index"], t["state"])
                                       for t in run["task_instances"]]
    client = MlflowClient(stack.MLFLOW_URL)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None, f"no MLflow experiment {EXPERIMENT}"
    found = client.search_runs([experiment.experiment_id], f"tags.dag_id = '{DAG}' and tags.run_id = "
                               f"'{run['dag_run_id']}' and tags.item_id = '{ITEM}' and "
                               f"attributes.status = 'FINISHED'")
    assert found, f"no finished MLflow run of item {ITEM} in DAG run {run['dag_run_id']} (spooled?)"
    last = max(found, key=lambda r: int(r.data.tags.get("try_number", 0)))  # the try that succeeded
    return {"dag_run_id": run["dag_run_id"], "experiment_id": experiment.experiment_id, "run": last,
            "trace_id": last.data.tags["trace_id"]}


@contextmanager
def tracking_uri(uri: str) -> Iterator[None]:
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(None)


def experiment_traces(experiment_id: str) -> list:
    with tracking_uri(stack.MLFLOW_URL):
        return mlflow.search_traces(locations=[experiment_id], return_type="list", include_spans=False)


def tokens(trace) -> int:
    return int((trace.info.token_usage or {}).get("total_tokens") or 0)


def test_item_trace_carries_the_runs_tokens_and_cost(item):
    run = item["run"]
    total = run.data.metrics["total_tokens"]
    assert total > 0, run.data.metrics
    trace = MlflowClient(stack.MLFLOW_URL).get_trace(item["trace_id"])
    usage = trace.info.token_usage
    assert usage["total_tokens"] == total, (usage, total)
    assert usage["input_tokens"] + usage["output_tokens"] == total, usage
    assert trace.info.trace_metadata["mlflow.sourceRun"] == run.info.run_id
    assert trace.info.trace_metadata["mlflow.trace.session"] == f"{DAG}/{item['dag_run_id']}"
    # The local model's price is 0: the cost is there, and nothing.
    assert "mlflow.trace.cost" in trace.info.trace_metadata, trace.info.trace_metadata
    assert trace.info.cost["total_cost"] == 0 == run.data.metrics["cost_usd"], (trace.info.cost,
                                                                                run.data.metrics)

    # MLflow's own conventions: the usage is the sum over the CHAT_MODEL spans; checks are TOOL spans.
    calls = [s for s in trace.data.spans if s.span_type == "CHAT_MODEL"]
    assert calls and all(s.get_attribute("mlflow.llm.model") for s in calls), [s.name for s in calls]
    assert sum(s.get_attribute("mlflow.chat.tokenUsage")["total_tokens"] for s in calls) == total
    assert all(s.get_attribute("mlflow.llm.cost") is not None for s in calls)
    assert any(s.span_type == "TOOL" for s in trace.data.spans), [(s.span_type, s.name)
                                                                  for s in trace.data.spans]

    batch = MlflowClient(stack.MLFLOW_URL).get_run(run.data.tags["mlflow.parentRunId"])
    assert (batch.data.tags["kind"], batch.data.tags["run_id"]) == ("batch", item["dag_run_id"])

    traces = experiment_traces(item["experiment_id"])
    assert any(tokens(t) > 0 for t in traces), [t.info.token_usage for t in traces]
    ours = [t for t in traces if t.info.trace_id == item["trace_id"]]
    assert len(ours) == 1 and ours[0].info.token_usage == usage, [t.info.trace_id for t in traces]
    with tracking_uri(stack.MLFLOW_URL):
        linked = mlflow.search_traces(locations=[item["experiment_id"]], run_id=run.info.run_id,
                                      return_type="list")
    assert [t.info.trace_id for t in linked] == [item["trace_id"]]  # what the run page's Traces tab lists


SHOWN_COUNT = re.compile(r"^\s*([\d,]+(?:\.\d+)?)\s*([KM]?)")


def shown_count(text: str) -> tuple[float, float]:
    """A token count as MLflow's charts show it ("316", "1,316", "12.35K", "1.20M"): (value, rounding)."""
    match = SHOWN_COUNT.match(text)
    assert match, f"no token count in {text!r}"
    number, unit = float(match[1].replace(",", "")), {"": 1, "K": 1_000, "M": 1_000_000}[match[2]]
    decimals = len(match[1].partition(".")[2])
    return number * unit, (0.5 * 10 ** -decimals * unit if decimals else 0)


def cell(page, row, name: str):
    """``row``'s cell in the column headed ``name``. MLflow's traces table is divs with ARIA roles; the
    leading checkbox cell of a session row is a "columnheader" too, so cells are counted by position."""
    headers = [h.strip() for h in page.locator("[role=row]").first.locator("> *").all_inner_texts()]
    assert name in headers, headers
    return row.locator("> *").nth(headers.index(name))


@contextmanager
def step(page, shots: Path, name: str) -> Iterator[None]:
    """A step of the walk through the UI: its page is screenshotted at its end, or when it fails."""
    try:
        yield
    except BaseException as exc:
        failed = shots / f"failed_{name}.png"
        page.screenshot(path=str(failed), full_page=True)
        exc.add_note(f"screenshot of the MLflow page: {failed}")
        raise
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def dismiss_guidance(page) -> None:
    """A fresh browser gets a "Detect Issues" guidance popover over the experiment's pages, whenever they
    have loaded; it is closed ("Got it") as a person would, whenever it shows up."""
    page.add_locator_handler(page.get_by_role("button", name="Got it"), lambda got_it: got_it.click())


@pytest.mark.timeout(1800)  # may include starting the stack and the DAG run on the local model
def test_tokens_show_in_the_mlflow_ui(item, tmp_path):
    require_tools()
    from playwright.sync_api import expect

    total = int(item["run"].data.metrics["total_tokens"])
    session = f"{DAG}/{item['dag_run_id']}"
    since_ms = (time.time() - (OVERVIEW_DAYS - 1) * 86400) * 1000  # well inside the page's time range
    before = experiment_traces(item["experiment_id"])
    in_range = sum(tokens(t) for t in before if t.info.request_time >= since_ms)
    with browser_context(viewport={"width": 1600, "height": 1000}) as context:
        page = context.new_page()
        dismiss_guidance(page)
        with step(page, tmp_path, "experiment"):
            page.goto(f"{stack.MLFLOW_URL}/#/experiments")
            page.get_by_role("link", name=EXPERIMENT, exact=True).click()
            page.wait_for_url(re.compile(rf"/experiments/{item['experiment_id']}\b"), timeout=UI_TIMEOUT_MS)

        with step(page, tmp_path, "overview"):
            page.get_by_role("link", name="Overview", exact=True).click()
            expect(page.get_by_role("tab", name="Usage")).to_be_visible(timeout=UI_TIMEOUT_MS)
            expect(page.get_by_role("button", name=f"Last {OVERVIEW_DAYS} days")).to_be_visible()
            card = page.get_by_text("Token Usage", exact=True).locator("xpath=ancestor::div[.//h3][1]//h3")
            expect(card).to_have_text(re.compile(r"^[\d.,]+[KM]? \(.* input, .* output"),
                                      timeout=UI_TIMEOUT_MS)
            card.scroll_into_view_if_needed()
            shown, rounding = shown_count(card.inner_text())
            for _ in range(12):  # trace metrics are aggregated by the server: give a late one time to count
                if shown + rounding >= max(total, in_range):
                    break
                page.wait_for_timeout(5_000)
                page.reload()
                expect(card).to_have_text(re.compile(r"^[\d.,]+[KM]? \("), timeout=UI_TIMEOUT_MS)
                shown, rounding = shown_count(card.inner_text())
            upper = sum(tokens(t) for t in experiment_traces(item["experiment_id"]))
            assert shown > 0, card.inner_text()
            # Total of the experiment's traces over the last 7 days: at least this item's and every trace
            # well inside the range, at most every trace there is (the page may round: 12.35K).
            assert total <= shown + rounding and in_range <= shown + rounding, (card.inner_text(), total,
                                                                                in_range)
            assert shown - rounding <= upper, (card.inner_text(), upper)

        with step(page, tmp_path, "traces"):
            page.get_by_role("link", name="Traces", exact=True).click()
            row = page.locator("[role=row]").filter(has=page.get_by_label(f"Select trace {item['trace_id']}"))
            expect(row).to_be_visible(timeout=UI_TIMEOUT_MS)
            expect(row).to_contain_text(session)
            expect(cell(page, row, "Tokens")).to_have_text(str(total))  # "-" or empty without token usage

        with step(page, tmp_path, "sessions"):
            sessions = page.get_by_role("link", name="Sessions", exact=True)
            if not sessions.count():
                pytest.skip(f"this MLflow UI has no Sessions view: session {session} not checked in the "
                            "browser")
            sessions.click()
            # MLflow 3.17: "The Sessions view has moved to the Traces tab" (grouped by session).
            moved = page.get_by_role("link", name=re.compile("View Sessions in Traces tab"))
            moved.or_(page.get_by_text(session)).first.wait_for(timeout=UI_TIMEOUT_MS)
            if moved.is_visible():
                moved.click()
                page.wait_for_url(re.compile(r"groupBy=session"), timeout=UI_TIMEOUT_MS)
            row = page.locator("[role=row]").filter(has_text=session).first
            expect(row).to_be_visible(timeout=UI_TIMEOUT_MS)
            in_session = sum(tokens(t) for t in experiment_traces(item["experiment_id"])
                             if t.info.trace_metadata.get("mlflow.trace.session") == session)
            assert in_session >= total  # the item's trace (and any earlier try's)
            expect(cell(page, row, "Tokens")).to_have_text(str(in_session), timeout=UI_TIMEOUT_MS)
    print(json.dumps({"item_total_tokens": total, "overview_token_usage": shown,
                      "experiment_traces_in_range": in_range, "experiment_traces_total": upper,
                      "session": session}))
