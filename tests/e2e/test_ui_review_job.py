"""In a real browser, the whole review job as a person does it in the Airflow UI.

Headless Chromium signs in to the local Airflow, types the items into the DAG's trigger form
and triggers it; the real local model runs the crew; the reviewer opens *Required actions*,
reads the review page (the output and its evidence, a link to the MLflow run), is refused a
correction that cannot be stored, then decides; the run finishes, and the decisions are read
off the *Crew results* page and from the results table. A second decision over REST is refused
and changes nothing.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from tests.support.browser import browser_context, require_tools, sign_in

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402

pytestmark = pytest.mark.e2e
STAMP = int(time.time())
SHEET = "fact_sheets/aurora_x2.yaml"


def trigger_from_form(page, dag_id: str, field: str, value: list[dict]) -> str:
    """Open the DAG's trigger form, put ``value`` into the JSON field titled ``field``, trigger; the run
    id."""
    page.goto(f"{stack.AIRFLOW_URL}/dags/{dag_id}")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Run Parameters").first.wait_for(timeout=30_000)
    label = dialog.get_by_text(field, exact=True).first
    editor = dialog.locator(".monaco-editor").filter(has=page.locator("textarea")).first
    label.wait_for()
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    # Pasted, as a person would: typed JSON gets the editor's auto-closed brackets and indentation.
    page.evaluate("""text => { const data = new DataTransfer(); data.setData('text/plain', text);
        document.activeElement.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true,
                                                                           cancelable: true})); }""",
                  json.dumps(value))
    dialog.get_by_role("button", name="Trigger").click()
    page.wait_for_url(re.compile(rf"/dags/{dag_id}/runs/"), timeout=30_000)
    return page.url.split("/runs/", 1)[1].split("/", 1)[0].replace("%2B", "+").replace("%3A", ":")


def reviews_waiting(api, dag_id: str, run_id: str, task_id: str, items: set[str],
                    timeout_s: float) -> dict[str, int]:
    """Follow the run until the review tasks of ``items`` await input; their map index by item id."""
    run = stack.follow_run(api, dag_id, run_id, timeout_s, stop_at_review=True)
    assert run["state"] == "awaiting_review", [(t["task_id"], t["map_index"], t["state"])
                                               for t in run["task_instances"]]
    waiting = {t["rendered_map_index"]: t["map_index"] for t in run["task_instances"]
               if t["task_id"] == task_id and t["state"] == "awaiting_input"}
    assert items <= set(waiting), waiting  # review tasks are named by item id
    return waiting


def open_review(page, subject: str):
    """From *Required actions*, open the review titled ``subject``; returns the page once its form shows."""
    page.goto(f"{stack.AIRFLOW_URL}/required_actions?response_received=false")
    page.get_by_text(subject, exact=True).first.click()
    page.get_by_text("Why it needs review").first.wait_for(timeout=30_000)
    return page


def correction_field(page):
    """The optional correction (its label's ``for`` does not point at the textarea, so found by name)."""
    page.get_by_text(re.compile(r"^Corrected (copy|answer|report) \(optional\)")).first.wait_for()
    return page.locator("textarea[name='element_correction']")


def decide(api, page, dag_id: str, run_id: str, task_id: str, map_index: int, option: str,
           correction: str | None) -> dict:
    """Type the correction (if any), click ``option``; the stored response, read back over REST."""
    if correction is not None:
        correction_field(page).fill(correction)
    page.get_by_role("button", name=option).click()
    url = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/hitlDetails"
    for _ in range(60):
        detail = api.get(url).json()
        if detail.get("response_received"):
            return detail
        time.sleep(1)
    raise AssertionError(f"no response stored for {task_id}[{map_index}]: {detail}")


def refused_on_the_page(api, page, dag_id: str, run_id: str, task_id: str, map_index: int, option: str,
                        correction: str, reason: str) -> None:
    """A correction that cannot be stored: the page says the response failed, and the review is still open.

    (The UI's toast shows the status text, "Bad Request"; the reason is in the API's answer, and the
    field's help states the rule.)"""
    correction_field(page).fill(correction)
    page.get_by_role("button", name=option).click()
    toast = page.get_by_text(re.compile(re.escape(reason))).first
    toast.wait_for(timeout=20_000)
    page.mouse.move(0, 0)  # a toast under the pointer stays; it lies over the buttons until it goes
    toast.wait_for(state="hidden", timeout=30_000)
    url = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/hitlDetails"
    assert api.get(url).json()["response_received"] is False


def results_page_rows(page, dag_id: str, run_id: str) -> dict[str, str]:
    """The DAG run's *Crew results* tab, as the text a person reads: each row's cells, by item id."""
    page.goto(f"{stack.AIRFLOW_URL}/dags/{dag_id}/runs/{run_id}")
    page.get_by_role("tab", name="Crew results").or_(
        page.get_by_role("link", name="Crew results")).last.click()
    frame = page.frame_locator("iframe").first
    frame.locator("table tbody tr").first.wait_for(timeout=30_000)
    rows = {}
    for row in frame.locator("table tbody tr").all():
        cells = [cell.strip() for cell in row.locator("td").all_inner_texts()]
        rows[cells[4]] = " | ".join(cells)  # columns: updated, crew, DAG, DAG run, item, status, ...
    return rows


def stored(run_id: str) -> dict[str, tuple[str, dict]]:
    with sqlite3.connect(stack.STATE / "results.db") as db:
        found = db.execute("SELECT item_id, status, summary_json FROM crew_results WHERE dag_run_id = ?",
                           (run_id,))
        return {item: (status, json.loads(summary)) for item, status, summary in found}


def finish(api, dag_id: str, run_id: str) -> dict:
    run = stack.follow_run(api, dag_id, run_id, timeout_s=600)
    assert run["state"] == "success", [(t["task_id"], t["map_index"], t["state"])
                                       for t in run["task_instances"]]
    return run


@pytest.mark.timeout(1800)
def test_fact_check_review_job_in_the_browser(api, tmp_path):
    require_tools()
    colours, launch = f"fc_colours_{STAMP}", f"fc_launch_{STAMP}"
    drafts = [  # both go to review: unverifiable claims, and a rewrite the checks refuse
        {"draft_id": colours, "copy_text": "Aurora X2 gives up to 30 hours of playback. It comes in 12 "
                                           "colours and ships with a 3-metre velvet cable.",
         "fact_sheet_file": SHEET},
        {"draft_id": launch, "copy_file": "drafts/aurora_launch.md", "fact_sheet_file": SHEET},
    ]
    dag, task = "fact_check_copy", "review_copy"
    with browser_context(viewport={"width": 1400, "height": 1400}) as context:
        page = context.new_page()
        sign_in(page, stack.AIRFLOW_URL, stack.AIRFLOW_HOME / stack.PASSWORDS_FILE)
        run_id = trigger_from_form(page, dag, "Drafts", drafts)
        waiting = reviews_waiting(api, dag, run_id, task, {colours, launch}, timeout_s=1200)

        open_review(page, f"Review copy {launch}")
        page.screenshot(path=str(tmp_path / "review_copy.png"), full_page=True)
        text = page.locator("main").inner_text() if page.locator("main").count() else page.inner_text("body")
        for shown in ("Draft as submitted", "Proposed copy (published if you accept)", "Verdict",
                      "contradicted", "water_resistance", "Enjoy up to 40 hours of battery life"):
            assert shown in text, shown
        link = page.get_by_role("link", name=re.compile("Open the MLflow run"))
        assert re.search(r"/#/runs/[0-9a-f]{32}$", link.get_attribute("href"))
        detail = decide(api, page, dag, run_id, task, waiting[launch], "Accept copy", None)
        assert detail["chosen_options"] == ["Accept copy"]

        open_review(page, f"Review copy {colours}")
        refused_on_the_page(api, page, dag, run_id, task, waiting[colours], "Reject copy",
                            "Looks fine\u202e to me", "Response failed")
        correction = "Aurora X2 gives up to 30 hours of playback."
        detail = decide(api, page, dag, run_id, task, waiting[colours], "Reject copy", correction)
        assert (detail["chosen_options"] == ["Reject copy"]
                and detail["params_input"]["correction"] == correction)

        finish(api, dag, run_id)
        rows = results_page_rows(page, dag, run_id)
        page.screenshot(path=str(tmp_path / "crew_results.png"), full_page=True)
    assert "accepted" in rows[launch] and "Accept copy" in rows[launch], rows
    assert ("rejected" in rows[colours] and "Reject copy" in rows[colours]
            and correction in rows[colours]), rows

    results = stored(run_id)
    assert results[launch][0] == "accepted" and results[launch][1]["review"]["correction"] is None
    assert results[launch][1]["review"]["responded_by"] == "admin"
    assert results[colours][0] == "rejected" and results[colours][1]["review"]["correction"] == correction
    published = stack.STATE / "published" / "fact_check" / f"{launch}.md"
    assert published.exists() and not (published.parent / f"{colours}.md").exists()

    second = api.patch(f"/api/v2/dags/{dag}/dagRuns/{run_id}/taskInstances/{task}/{waiting[colours]}"
                       f"/hitlDetails",
                       json={"chosen_options": ["Accept copy"], "params_input": {"correction": None}})
    assert second.status_code == 409, second.text
    assert stored(run_id) == results  # nothing already recorded changed


@pytest.mark.timeout(1200)
def test_contract_answer_review_job_in_the_browser(api, tmp_path):
    require_tools()
    item = f"cq_{STAMP}"
    # The local model answers this one with a sentence that names no period: code routes it to review.
    questions = [{"question_id": item, "contract_id": "helios_nda",
                  "question": "For how long do the confidentiality obligations continue once the NDA has "
                              "ended?"}]
    dag, task, pair = "contract_qa", "review_answer", f"helios_nda.{item}"  # pair id: <contract>.<question>
    with browser_context(viewport={"width": 1400, "height": 1400}) as context:
        page = context.new_page()
        sign_in(page, stack.AIRFLOW_URL, stack.AIRFLOW_HOME / stack.PASSWORDS_FILE)
        run_id = trigger_from_form(page, dag, "Questions", questions)
        waiting = reviews_waiting(api, dag, run_id, task, {pair}, timeout_s=900)
        open_review(page, f"Review answer {pair}")
        page.screenshot(path=str(tmp_path / "review_answer.png"), full_page=True)
        text = page.inner_text("body")
        for shown in ("Question", "confidentiality obligations continue", "Answer", "Quotes",
                      "Clause helios_nda:", "The clause as written", "Open the MLflow run"):
            assert shown in text, shown
        correction = "3 years after the date of termination or expiry (clause 6.1)."
        detail = decide(api, page, dag, run_id, task, waiting[pair], "Reject answer", correction)
        assert detail["chosen_options"] == ["Reject answer"]
        finish(api, dag, run_id)
        rows = results_page_rows(page, dag, run_id)
    assert "rejected" in rows[pair] and "Reject answer" in rows[pair] and correction in rows[pair], rows
    status, summary = stored(run_id)[pair]
    assert status == "rejected" and summary["review"]["correction"] == correction
