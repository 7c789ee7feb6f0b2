"""Scores of a fact-check report against a golden record's expected claims (code-based, no LLM).

An expected claim ``{"contains": "40 hours", "verdict": "contradicted"}`` matches the
first extracted claim whose text contains ``contains`` (case- and space-insensitive);
when ``contains`` spans several atomic claims ("Amazon Alexa and Google Home"), it
matches them together and has the right verdict only if each of them has it.
"""

from __future__ import annotations

from typing import Any

from crews.fact_check.schemas import ClaimCheck, FactCheckReport


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _match(contains: str, claims: list[ClaimCheck]) -> ClaimCheck | None:
    """The claim that ``contains`` names; several claims inside it are merged under the verdict they share."""
    needle = _norm(contains)
    found = next((c for c in claims if needle in _norm(c.claim)), None)
    if found is not None:
        return found
    parts = [c for c in claims if _norm(c.claim) and _norm(c.claim) in needle]
    if not parts:
        return None
    verdicts = {c.verdict for c in parts}
    return parts[0].model_copy(update={"claim": " / ".join(c.claim for c in parts),
                                       "verdict": verdicts.pop() if len(verdicts) == 1 else "mixed"})


def score(report: FactCheckReport, expectations: dict[str, Any]) -> dict[str, float]:
    """claim_recall, claim_precision, verdict_accuracy, contradicted_recall (catching false claims); with a
    ``draft_ok`` expectation, draft_ok_correct and false_draft_ok (a wrong draft passed as right); and
    bad_rewrite_approved: an approved rewrite that still holds an unsupported claim or prompt text."""
    from crews.fact_check.revision_gate import prompt_echo

    expected = expectations.get("claims") or []
    matches = [(e, _match(e["contains"], report.claims)) for e in expected]
    result: dict[str, float] = {}
    if expected:
        result["claim_recall"] = sum(m is not None for _, m in matches) / len(expected)
        result["verdict_accuracy"] = (sum(m is not None and m.verdict == e["verdict"] for e, m in matches)
                                      / len(expected))
    false_claims = [(e, m) for e, m in matches if e["verdict"] == "contradicted"]
    if false_claims:
        result["contradicted_recall"] = sum(m is not None and m.verdict == "contradicted"
                                            for _, m in false_claims) / len(false_claims)
    if "draft_ok" in expectations:
        result["draft_ok_correct"] = float(report.draft_ok == bool(expectations["draft_ok"]))
        result["false_draft_ok"] = float(report.draft_ok and not expectations["draft_ok"])
    if report.revision_approved:
        echo = prompt_echo(report.revised_copy, report.fact_checked_copy)
        result["bad_rewrite_approved"] = float(bool(echo or report.remaining_problems))
    if report.claims:
        wanted = [_norm(e["contains"]) for e in expected]
        result["claim_precision"] = sum(any(w in _norm(c.claim) for w in wanted)
                                        for c in report.claims) / len(report.claims)
    return result
