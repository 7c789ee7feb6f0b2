"""In a real browser: a crew task's "MLflow run" button in the Airflow UI opens that task's run in the
MLflow UI.

Headless Chromium signs in to the local Airflow, opens a finished crew task, checks the
button (its address and, in the screenshot, its label), clicks it, and reads the run's
name off the screenshot of the MLflow page that opens (tesseract OCR).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.support.browser import browser_context, ocr, require_tools, sign_in

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402

pytestmark = pytest.mark.e2e
DAG = "fact_check_copy"
ITEM = "linkcheck"
LINK = "MLflow run"
SCALE = 2  # device pixels per CSS pixel: sharper text for OCR


@pytest.fixture(scope="module")
def finished_run(api):
    conf = {"drafts": [{"draft_id": ITEM, "fact_sheet_file": "fact_sheets/aurora_x2.yaml",
                        "copy_text": "Aurora X2 gives up to 30 hours of playback. Backed by a 2-year "
                                     "warranty."}]}
    run = stack.trigger_and_wait(api, DAG, conf, timeout_s=900)
    assert run["state"] == "success", run
    return run["dag_run_id"]


def _links(api, run_id: str, task_id: str, map_index: int = -1) -> dict:
    response = api.get(f"/api/v2/dags/{DAG}/dagRuns/{run_id}/taskInstances/{task_id}/links",
                       params={"map_index": map_index})
    response.raise_for_status()
    return response.json()["extra_links"]


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def test_rest_api_gives_links_only_to_tasks_that_wrote_a_run(api, finished_run):
    client = MlflowClient(stack.MLFLOW_URL)
    item = client.get_run(_links(api, finished_run, "check_draft", 0)[LINK].rsplit("/", 1)[1])
    assert (item.data.tags["dag_id"], item.data.tags["run_id"], item.data.tags["task_id"]) == \
        (DAG, finished_run, "check_draft")
    assert item.data.tags["map_index"] == "0" and item.data.tags["item_id"] == ITEM
    batch = client.get_run(_links(api, finished_run, "collect_results")[LINK].rsplit("/", 1)[1])
    assert batch.data.tags["kind"] == "batch" and batch.data.tags["run_id"] == finished_run
    assert _links(api, finished_run, "list_drafts") == {LINK: None}


def test_mlflow_run_button_opens_the_tasks_run_in_a_real_browser(api, finished_run, tmp_path):
    require_tools()
    from playwright.sync_api import expect

    url = _links(api, finished_run, "check_draft", 0)[LINK]
    mlflow_run = MlflowClient(stack.MLFLOW_URL).get_run(url.rsplit("/", 1)[1])
    task_page = f"{stack.AIRFLOW_URL}/dags/{DAG}/runs/{finished_run}/tasks/check_draft/mapped/0/details"
    with browser_context(viewport={"width": 1400, "height": 900}, device_scale_factor=SCALE) as context:
        page = context.new_page()
        sign_in(page, stack.AIRFLOW_URL, stack.AIRFLOW_HOME / stack.PASSWORDS_FILE)
        page.goto(task_page)
        button = page.get_by_role("link", name=LINK)
        expect(button).to_be_visible(timeout=60_000)
        assert button.get_attribute("href") == url
        airflow_shot = tmp_path / "airflow_task_details.png"
        page.screenshot(path=airflow_shot)
        assert _words(LINK) in _words(ocr(airflow_shot, button.bounding_box(), SCALE)), airflow_shot

        with context.expect_page() as opened:
            button.click()
        mlflow_page = opened.value
        mlflow_page.wait_for_url(lambda u: u.endswith(f"/runs/{mlflow_run.info.run_id}"), timeout=30_000)
        title = mlflow_page.get_by_text(mlflow_run.info.run_name, exact=True).first
        expect(title).to_be_visible(timeout=60_000)
        mlflow_shot = tmp_path / "mlflow_run.png"
        mlflow_page.screenshot(path=mlflow_shot)
        read = _words(ocr(mlflow_shot, title.bounding_box(), SCALE))
        assert _words(f"{ITEM} · {DAG}") in read, (read, mlflow_shot)  # the run name leads with the item

        page.goto(f"{stack.AIRFLOW_URL}/dags/{DAG}/runs/{finished_run}/tasks/list_drafts/details")
        expect(page.get_by_text("Extra Links")).to_be_visible(timeout=60_000)
        assert page.get_by_role("link", name=LINK).count() == 0
