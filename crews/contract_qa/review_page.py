"""What a reviewer of a contract answer sees: the question, the answer, and each quote beside its clause."""

from __future__ import annotations

from typing import Any

from crews.markdown import escape, quote_block, table


def sections(result: dict[str, Any]) -> list[str]:
    """The review page's sections for one stored result."""
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
