"""What a reviewer sees on a review page: the output, its evidence and why it needs a person, as Markdown.

The Airflow UI renders the body of a human review (HITL) as Markdown. Every value that came
from a user, a document or a model is escaped, so a draft or a contract cannot add links,
images, headings or tables to the page; long values are cut with a note saying so.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Callable, Iterable
from typing import Any

from crews.registry import get_crew

MAX_CELL_CHARS = 300
MAX_BLOCK_CHARS = 6000
MAX_ROWS = 60
MAX_BODY_CHARS = 40_000
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
_SUMMARY_HIDDEN = {"item_id", "status", "passed", "needs_review", "review_reasons", "mlflow_run_id",
                   "mlflow_experiment", "review"}


def escape(text: Any, limit: int = MAX_CELL_CHARS) -> str:
    """``text`` as literal Markdown on one line: every ASCII punctuation character backslash-escaped
    (CommonMark allows that for all of them), whitespace runs folded, cut at ``limit`` characters."""
    flat = " ".join(str(text if text is not None else "").split())
    cut = len(flat) > limit
    flat = flat[:limit]
    return _PUNCTUATION.sub(r"\\\1", flat) + (" … (cut)" if cut else "")


def quote_block(text: Any, limit: int = MAX_BLOCK_CHARS) -> str:
    """``text`` as a Markdown block quote, line breaks kept, every line escaped."""
    body = str(text or "")
    cut = len(body) > limit
    lines = [escape(line, limit) if line.strip() else "" for line in body[:limit].splitlines()] or [""]
    if cut:
        lines.append(f"*… cut at {limit} characters; the MLflow run holds the whole text*")
    return "\n".join(f"> {line}".rstrip() for line in lines)


def word_diff(before: str, after: str, limit: int = MAX_BLOCK_CHARS) -> str:
    """One paragraph: words removed from ``before`` struck out, words added in ``after`` in bold."""
    old, new = str(before or "")[:limit].split(), str(after or "")[:limit].split()
    parts: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape(" ".join(old[i1:i2]), limit))
            continue
        if i2 > i1:
            parts.append(f"~~{escape(' '.join(old[i1:i2]), limit)}~~")
        if j2 > j1:
            parts.append(f"**{escape(' '.join(new[j1:j2]), limit)}**")
    return " ".join(parts) or "*(both empty)*"


def table(headers: list[str], rows: Iterable[list[Any]]) -> str:
    """A Markdown table of escaped cells (at most ``MAX_ROWS`` rows; a note says how many were left out)."""
    rows = list(rows)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(escape(cell) for cell in row) + " |" for row in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        lines.append(f"\n*{len(rows) - MAX_ROWS} more rows are in the MLflow run.*")
    return "\n".join(lines)


def _reasons(summary: dict[str, Any], result: dict[str, Any]) -> str:
    reasons = summary.get("review_reasons") or result.get("review_reasons") or []
    return "\n".join(f"- {escape(r, 600)}" for r in reasons) or "- (none given)"


def _fact_check(result: dict[str, Any]) -> list[str]:
    claims = result.get("claims") or []
    counts = {v: sum(c.get("verdict") == v for c in claims)
              for v in ("supported", "contradicted", "unverifiable")}
    proposed = result.get("revised_copy") or ""
    sections = [
        "### Draft → proposed copy",
        "Struck out: removed from the draft. **Bold**: added.\n\n"
        + word_diff(result.get("draft_copy") or "", proposed),
        "#### Draft as submitted\n" + quote_block(result.get("draft_copy") or "(not stored)"),
        "#### Proposed copy (published if you accept)\n" + quote_block(proposed),
    ]
    if result.get("rejected_rewrite"):
        problems = "\n".join(f"- {escape(p, 600)}" for p in result.get("revision_problems") or [])
        sections.append("#### The copywriter's rewrite, refused by the checks\n"
                        + quote_block(result["rejected_rewrite"]) + ("\n\n" + problems if problems else ""))
    sections.append(
        f"### Claims: {len(claims)} ({counts['supported']} supported, {counts['contradicted']} contradicted, "
        f"{counts['unverifiable']} unverifiable)\n\n"
        + table(["#", "Claim", "Verdict", "Fact", "Evidence"], [
            [c.get("claim_id"), c.get("claim"), c.get("verdict"),
             ", ".join(e.get("fact_id", "") for e in c.get("evidence") or []) or "—", c.get("reason")]
            for c in claims]))
    if result.get("remaining_problems"):
        sections.append("### Still unsupported in the proposed copy\n" + "\n".join(
            f"- {escape(c.get('claim'))}: {escape(c.get('reason'))}" for c in result["remaining_problems"]))
    if result.get("withheld"):
        sections.append("### Sentences withheld from the agents (they address an AI system)\n"
                        + "\n".join(f"- {escape(w)}" for w in result["withheld"]))
    return sections


def _contract_qa(result: dict[str, Any]) -> list[str]:
    evidence = {e.get("clause_id"): e for e in result.get("evidence") or []}
    sections = [
        f"**Question** ({escape(result.get('question_id'))} on {escape(result.get('contract_id'))}): "
        + escape(result.get("question"), 1000),
        "**Answer**: " + escape(result.get("answer"), 2000),
        f"Found in the contract: {'yes' if result.get('found') else 'no'} · confidence "
        f"{float(result.get('confidence') or 0):.2f} · source {escape(result.get('source_used'))} · "
        f"grounded: {'yes' if result.get('grounded') else 'no'}",
    ]
    quotes = []
    for citation in result.get("citations") or []:
        clause = citation.get("clause_id")
        flags = [f for f, on in (("repaired to the exact sentence", citation.get("repaired")),
                                 ("found in another clause than cited", citation.get("attributed"))) if on]
        text = (evidence.get(clause) or {}).get("text")
        quotes.append(f"**Clause {escape(clause)}**" + (f" ({', '.join(flags)})" if flags else "") + "\n"
                      + quote_block(citation.get("quote"), 2000)
                      + ("\n\nThe clause as written:\n\n" + quote_block(text, 3000) if text else ""))
    sections.append("### Quotes\n" + ("\n\n".join(quotes) or "No verified quote."))
    if result.get("rejected_citations"):
        sections.append("### Quotes that failed verification\n" + "\n".join(
            f"- clause {escape(c.get('clause_id'))}: {escape(c.get('quote'), 600)}"
            for c in result["rejected_citations"]))
    if result.get("register_facts"):
        sections.append("### Contract register\n"
                        + table(["Field", "Value"], list(result["register_facts"].items())))
    if result.get("reviewer_note"):
        sections.append("### Reviewer agent's note\n" + quote_block(result["reviewer_note"], 2000))
    return sections


def _data_qa(result: dict[str, Any]) -> list[str]:
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


def _other(summary: dict[str, Any]) -> list[str]:
    return [f"**{escape(k.replace('_', ' ').capitalize())}**: {escape(v)}"
            for k, v in summary.items() if k not in _SUMMARY_HIDDEN]


RENDERERS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "fact_check": _fact_check, "contract_qa": _contract_qa, "data_qa": _data_qa,
}

def review_body(crew: str, summary: dict[str, Any], result: dict[str, Any] | None,
                mlflow_url: str | None) -> str:
    """The Markdown body of one review page: why it is here, what to decide, the output and its evidence."""
    run_id = summary.get("mlflow_run_id")
    if run_id and mlflow_url:
        link = f"[Open the MLflow run {escape(run_id)}]({mlflow_url}) for the agent trace and every artifact."
    else:
        link = (f"MLflow run {escape(run_id or 'not written (spooled)')} holds the agent trace and every "
                "artifact.")
    sections = [
        f"**Why it needs review**\n{_reasons(summary, result or {})}",
        "**Your decision**: " + get_crew(crew).decision_help,
        *(RENDERERS[crew](result) if result and crew in RENDERERS else _other(summary)),
        link,
    ]
    body = "\n\n".join(sections)
    if len(body) > MAX_BODY_CHARS:
        body = (body[:MAX_BODY_CHARS]
                + "\n\n*… the page is cut here; the MLflow run holds the whole output.*\n\n" + link)
    return body
