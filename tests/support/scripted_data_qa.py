"""A scripted stand-in for the data-QA agents (tests only): one fix per listed issue."""

from __future__ import annotations

import re
from typing import Any

from crews.data_qa.schemas import AnalystFixes, IssueFix, ReviewSummary
from tests.support import user_prompt


def respond(messages: list[dict[str, Any]], response_model: Any) -> Any:
    prompt = user_prompt(messages)
    if response_model is AnalystFixes:
        ids = [int(n) for n in re.findall(r"(?<![\w.])(\d+)\. \[(?:error|warning|info)\]", prompt)]
        return AnalystFixes(fixes=[IssueFix(issue_id=i, suggested_fix=f"scripted fix {i}") for i in ids])
    if response_model is ReviewSummary:
        verdict = "passed" if " passed the data quality gate" in prompt else "failed"
        return ReviewSummary(summary=f"The dataset {verdict}.")
    raise AssertionError(f"unexpected response model {response_model}")
