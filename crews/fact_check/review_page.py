"""What a reviewer of a fact check sees: the draft against the proposed copy, and every claim with its
verdict."""

from __future__ import annotations

from typing import Any

from crews.markdown import escape, quote_block, table, word_diff


def sections(result: dict[str, Any]) -> list[str]:
    """The review page's sections for one stored result."""
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
