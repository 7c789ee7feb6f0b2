"""What a reviewer of a data-quality report sees: the findings with their evidence, and the explanation."""

from __future__ import annotations

from typing import Any

from crews.markdown import escape, quote_block, table


def sections(result: dict[str, Any]) -> list[str]:
    """The review page's sections for one stored result."""
    issues = result.get("issues") or []
    verdict = "passed" if result.get("passed") else "failed"
    return [
        f"**Dataset** {escape(result.get('dataset_id'))}, table {escape(result.get('table'))}: "
        f"{result.get('row_count')} rows, gate {verdict}",
        f"### Findings ({len(issues)})\n\n" + (table(
            ["#", "Column", "Kind", "Severity", "Count", "Evidence", "Suggested fix"],
            [[i.get("issue_id"), i.get("column"), i.get("kind"), i.get("severity"), i.get("count"),
              i.get("evidence"), i.get("suggested_fix")] for i in issues]) if issues else "No findings."),
        f"### The analyst's explanation (by the {escape(result.get('summary_by') or 'crew')})\n"
        + quote_block(result.get("summary") or "(none)", 3000)
        + "".join(f"\n\n- {escape(p, 600)}" for p in result.get("summary_problems") or []),
    ]
