"""Fact-check one draft: agents find claims and rewrite, tools decide the facts.

1. the fact checker extracts the claims (``extraction_crew``);
2. code grounds them in the copy, adds checkable sentences the model missed,
   and gives every claim a verdict with evidence (:mod:`crews.fact_check.tools`);
3. if any claim is not supported, code applies the fixes (correct the value,
   drop the unverifiable sentence), the copywriter polishes that draft and the
   editor reviews it (``revision_crew``);
4. code re-checks the revised copy: it is approved only if the editor approves
   and no unsupported claim remains.

The copy is untrusted: sentences addressed to an AI system are withheld from
every prompt and from the checked copy (:mod:`crews.screening`), listed in the
report's ``withheld``, and a draft that had any is never approved.
"""

from __future__ import annotations

from crewai.llms.base_llm import BaseLLM

from crews.fact_check.crew import FactCheckCrew
from crews.fact_check.schemas import (
    ClaimCheck,
    DraftInput,
    EditorReview,
    ExtractedClaims,
    FactCheckReport,
    FactSheet,
    RevisedCopy,
)
from crews.fact_check.tools import (
    apply_fixes,
    check_claim,
    ground_claims,
    looks_like_claim,
    missed_claims,
    resembles_any,
    split_sentences,
)
from crews.review import review_settings
from crews.screening import screen


def verify_claims(claims: list[str], copy_text: str, sheet: FactSheet) -> list[ClaimCheck]:
    """Ground the model's claims, add missed checkable sentences, and check each one."""
    grounded = ground_claims(claims, copy_text)
    missed = missed_claims(grounded, copy_text, sheet)
    found = [(c, "model") for c in grounded] + [(c, "tools") for c in missed]
    return [check_claim(i, claim, sheet, found_by) for i, (claim, found_by) in enumerate(found, 1)]


def remaining_problems(
    revised_copy: str, original: list[ClaimCheck], sheet: FactSheet
) -> list[ClaimCheck]:
    """Unsupported claims in the revised copy.

    Every revised sentence that looks like a claim, or that still resembles a
    claim flagged in the original, is checked again.
    """
    flagged = [c.claim for c in original if c.verdict != "supported"]
    problems: list[ClaimCheck] = []
    for i, sentence in enumerate(split_sentences(revised_copy), 1):
        if looks_like_claim(sentence, sheet) or resembles_any(sentence, flagged):
            check = check_claim(i, sentence, sheet, "tools")
            if check.verdict != "supported":
                problems.append(check)
    return problems


def check_draft(draft: DraftInput, llm: BaseLLM) -> FactCheckReport:
    """Run the crew on one draft and return the full report."""
    sheet = draft.fact_sheet
    crew = FactCheckCrew(llm)
    copy_text, withheld = screen(draft.copy_text, replacement="")
    inputs = {"product": sheet.product, "copy": copy_text}
    extracted = crew.extraction_crew().kickoff(inputs=inputs).pydantic
    claims = extracted.claims if isinstance(extracted, ExtractedClaims) else []
    checks = verify_claims(claims, copy_text, sheet)
    flagged = [c for c in checks if c.verdict != "supported"]
    if not flagged:
        approved, reason = _unless_withheld(
            True, f"all {len(checks)} claims are supported by the fact sheet; no revision needed", withheld)
        return route_to_review(FactCheckReport(
            draft_id=draft.draft_id,
            product=sheet.product,
            claims=checks,
            revised_copy=copy_text,
            fact_checked_copy=copy_text,
            approved=approved,
            approval_reason=reason,
            withheld=withheld,
        ))
    fact_checked = apply_fixes(copy_text, checks)
    output = crew.revision_crew().kickoff(
        inputs={
            **inputs,
            "corrected_copy": fact_checked,
        }
    )
    revised = output.tasks_output[0].pydantic
    review = output.pydantic
    if not isinstance(revised, RevisedCopy) or not isinstance(review, EditorReview):
        raise ValueError("revision crew returned no structured output")
    problems = remaining_problems(revised.revised_copy, checks, sheet)
    if not revised.revised_copy.strip():
        approved, reason = False, "the copywriter returned empty copy"
    elif problems:
        approved = False
        reason = f"{len(problems)} claim(s) in the revised copy are still not supported"
    elif not review.approved:
        approved, reason = False, "the editor did not approve the revised copy"
    else:
        approved, reason = True, "editor approved and every checkable claim in the revised copy is supported"
    approved, reason = _unless_withheld(approved, reason, withheld)
    return route_to_review(FactCheckReport(
        draft_id=draft.draft_id,
        product=sheet.product,
        claims=checks,
        revised_copy=revised.revised_copy,
        fact_checked_copy=fact_checked,
        changes=revised.changes,
        approved=approved,
        approval_reason=reason,
        editor_notes=review.notes,
        remaining_problems=problems,
        withheld=withheld,
    ))


def _unless_withheld(approved: bool, reason: str, withheld: list[str]) -> tuple[bool, str]:
    """Never approve copy that addressed an AI system; say so first in the reason."""
    if not withheld:
        return approved, reason
    return False, (f"{len(withheld)} sentence(s) of the copy address an AI system and were withheld from the "
                   f"agents (see 'withheld'); a person must check the copy" + ("" if approved else f"; {reason}"))


def route_to_review(report: FactCheckReport) -> FactCheckReport:
    """Score the check (share of claims the tools could verify) and route weak or unapproved copy to a person."""
    settings = review_settings("fact_check")
    verified = sum(c.verdict != "unverifiable" for c in report.claims)
    report.review_score = verified / len(report.claims) if report.claims else 0.0
    if not report.claims:
        report.review_reasons.append("no claims were found in the copy")
    elif report.review_score < settings["min_score"]:
        report.review_reasons.append(f"only {verified} of {len(report.claims)} claims could be verified against "
                                     f"the fact sheet (score {report.review_score:.2f} < {settings['min_score']})")
    if not report.approved and settings.get("review_unapproved", True):
        report.review_reasons.append(f"not approved: {report.approval_reason}")
    report.needs_review = bool(report.review_reasons)
    return report
