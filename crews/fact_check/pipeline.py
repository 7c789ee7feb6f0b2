"""Fact-check one draft: agents find claims and rewrite, tools decide the facts.

:func:`run` takes the steps every crew takes (docs/crews.md): screen, ask, tool, verify,
route_to_review.

0. **screen**: sentences of the copy addressed to an AI system are withheld;
1. **ask**: the fact checker quotes the claims it sees (``extraction_crew``);
2. **tool** (``check_claims``): code cuts the copy into atomic claims (one fact each, with its
   span), keeps the pieces the fact checker quoted as claims too, and gives every claim a
   verdict with evidence (:mod:`crews.fact_check.claim_checks`). The draft is
   ``draft_ok`` when every claim is supported;
3. **ask**: otherwise code applies the fixes (correct the value, drop the unsupported
   claim), the copywriter polishes that copy and the editor reviews it
   (``revision_crew``);
4. **verify**: code re-checks the rewrite claim by claim (:mod:`crews.fact_check.revision_gate`):
   ``revision_approved`` only when it keeps every supported claim, adds no
   unsupported one, contains no prompt text and the editor approves. A rewrite
   that fails is kept in ``rejected_rewrite`` and the tools' corrected copy is
   the ``revised_copy``;
5. **route_to_review**: the share of claims the tools could verify, and the reasons a person
   should look.

The copy is untrusted: sentences addressed to an AI system are withheld from
every prompt and from the checked copy (:mod:`crews.screening`), listed in the
report's ``withheld``, and a draft that had any is neither ok nor approved.
"""

from __future__ import annotations

from crewai.llms.base_llm import BaseLLM

from crews.fact_check.claim_checks import apply_fixes
from crews.fact_check.crew import FactCheckCrew
from crews.fact_check.revision_gate import check_revision
from crews.fact_check.schemas import (
    ClaimCheck,
    DraftInput,
    FactCheckReport,
    FactSheet,
)
from crews.fact_check.tools import MAX_QUOTED_CLAIMS, CheckClaimsTool
from crews.review import review_settings
from crews.screening import screen
from crews.tracking.steps import traced_step


@traced_step("tool")
def verify_claims(claims: list[str], copy_text: str, sheet: FactSheet) -> list[ClaimCheck]:
    """Every atomic claim of the copy with its verdict (:class:`~crews.fact_check.tools.CheckClaimsTool`);
    the fact checker's quotes mark extra claims."""
    quoted = [str(c) for c in claims][:MAX_QUOTED_CLAIMS]  # a model listing more adds nothing checkable
    return CheckClaimsTool(sheet=sheet).run(copy_text=copy_text, claims=quoted).checks


def remaining_problems(revised_copy: str, original: list[ClaimCheck], sheet: FactSheet) -> list[ClaimCheck]:
    """Claims in the revised copy that are not supported."""
    return check_revision(revised_copy, original, sheet).unsupported


def run(draft: DraftInput, llm: BaseLLM) -> FactCheckReport:
    """Check one draft and return the full report."""
    sheet = draft.fact_sheet
    crew = FactCheckCrew(llm, tools={"fact_checker": [CheckClaimsTool(sheet=sheet)]})
    copy_text, withheld = screen(draft.copy_text, replacement="")
    inputs = {"product": sheet.product, "copy": copy_text}
    (extracted,) = crew.ask(crew.extraction_crew(), inputs)
    claims = extracted.claims if extracted else []
    checks = verify_claims(claims, copy_text, sheet)
    base = {"draft_id": draft.draft_id, "product": sheet.product, "draft_copy": draft.copy_text,
            "claims": checks, "withheld": withheld}
    flagged = [c for c in checks if c.verdict != "supported"]
    if not flagged:
        draft_ok = not withheld
        reason = (f"all {len(checks)} claims are supported by the fact sheet; no revision needed" if draft_ok
                  else _withheld_reason(withheld))
        return route_to_review(FactCheckReport(
            **base, draft_ok=draft_ok, revision_approved=None, revised_copy=copy_text,
            fact_checked_copy=copy_text, approval_reason=reason,
        ))
    fact_checked = apply_fixes(copy_text, checks)
    revised, review = crew.ask(crew.revision_crew(), {**inputs, "corrected_copy": fact_checked})
    if revised is None or review is None:
        raise ValueError("revision crew returned no structured output")
    gate = check_revision(revised.revised_copy, checks, sheet, copy_text, fact_checked)
    if not gate.passed:
        approved = False
        reason = "the copywriter's rewrite was rejected: " + "; ".join(gate.problems)
    elif not review.approved:
        approved, reason = False, "the editor did not approve the revised copy"
    else:
        approved, reason = True, "editor approved and every claim in the revised copy is supported"
    if withheld:
        approved, reason = False, f"{_withheld_reason(withheld)}; {reason}"
    problems = gate.unsupported
    if not gate.passed:
        problems = check_revision(fact_checked, checks, sheet).unsupported
    return route_to_review(FactCheckReport(
        **base,
        draft_ok=False,
        revision_approved=approved,
        revised_copy=revised.revised_copy if gate.passed else fact_checked,
        rejected_rewrite=None if gate.passed else revised.revised_copy,
        revision_problems=gate.problems,
        fact_checked_copy=fact_checked,
        changes=revised.changes,
        approval_reason=reason,
        editor_notes=review.notes,
        remaining_problems=problems,
    ))


def _withheld_reason(withheld: list[str]) -> str:
    return (f"{len(withheld)} sentence(s) of the copy address an AI system and were withheld from the agents "
            "(see 'withheld'); a person must check the copy")


def route_to_review(report: FactCheckReport) -> FactCheckReport:
    """Score the check (share of claims the tools could verify) and route weak or unapproved copy to a
    person."""
    settings = review_settings("fact_check")
    verified = sum(c.verdict != "unverifiable" for c in report.claims)
    report.review_score = verified / len(report.claims) if report.claims else 0.0
    if not report.claims:
        report.review_reasons.append("no claims were found in the copy")
    elif report.review_score < settings["min_score"]:
        report.review_reasons.append(f"only {verified} of {len(report.claims)} claims could be verified "
                                     f"against the fact sheet (score {report.review_score:.2f} < "
                                     f"{settings['min_score']})")
    if not report.publishable and settings.get("review_unapproved", True):
        report.review_reasons.append(f"not approved: {report.approval_reason}")
    report.needs_review = bool(report.review_reasons)
    return report
