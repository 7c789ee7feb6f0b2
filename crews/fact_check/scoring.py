"""Scores of a fact-check report against a golden record's expected claims (code-based, no LLM).

An expected claim ``{"contains": "40 hours", "verdict": "contradicted"}`` matches the
first extracted claim whose text contains ``contains`` (case- and space-insensitive).
"""

from __future__ import annotations

from typing import Any

from crews.fact_check.schemas import ClaimCheck, FactCheckReport


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _match(contains: str, claims: list[ClaimCheck]) -> ClaimCheck | None:
    needle = _norm(contains)
    return next((c for c in claims if needle in _norm(c.claim)), None)


def score(report: FactCheckReport, expectations: dict[str, Any]) -> dict[str, float]:
    """claim_recall, claim_precision, verdict_accuracy and contradicted_recall (catching false claims)."""
    expected = expectations.get("claims") or []
    matches = [(e, _match(e["contains"], report.claims)) for e in expected]
    result: dict[str, float] = {}
    if expected:
        result["claim_recall"] = sum(m is not None for _, m in matches) / len(expected)
        result["verdict_accuracy"] = sum(m is not None and m.verdict == e["verdict"] for e, m in matches) / len(expected)
    false_claims = [(e, m) for e, m in matches if e["verdict"] == "contradicted"]
    if false_claims:
        result["contradicted_recall"] = sum(m is not None and m.verdict == "contradicted"
                                            for _, m in false_claims) / len(false_claims)
    if report.claims:
        wanted = [_norm(e["contains"]) for e in expected]
        result["claim_precision"] = sum(any(w in _norm(c.claim) for w in wanted)
                                        for c in report.claims) / len(report.claims)
    return result
