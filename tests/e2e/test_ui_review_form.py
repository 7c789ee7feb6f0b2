"""In a real browser: optional fields of the trigger forms are not marked required.

Headless Chromium signs in to the local Airflow. The trigger forms of the crew DAGs must show no required
marker (*) on Params that may be left empty. (Accepting a review with the correction left empty, which a
required correction field used to block, is part of tests/e2e/test_ui_review_job.py.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.browser import browser_context, require_tools, sign_in

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("dag_id", "titles"), [
    ("fact_check_copy", ["Drafts"]), ("data_quality_qa", ["Datasets"]),
    ("contract_qa", ["Questions", "Contracts", "Register connection"]),
])
def test_trigger_forms_mark_no_optional_field_required(api, dag_id, titles):
    require_tools()
    stack.wait_for_dag(api, dag_id)
    with browser_context(viewport={"width": 1400, "height": 1100}) as context:
        page = context.new_page()
        sign_in(page, stack.AIRFLOW_URL, stack.AIRFLOW_HOME / stack.PASSWORDS_FILE)
        page.goto(f"{stack.AIRFLOW_URL}/dags/{dag_id}")
        page.get_by_role("button", name="Trigger").first.click()
        page.get_by_text("Run Parameters").first.wait_for(timeout=30_000)
        labels = [label.strip() for label in page.locator("label").all_inner_texts()]
    for title in titles:
        assert title in labels, labels  # the label alone: a required field's label ends with "*"
