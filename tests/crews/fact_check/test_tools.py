import json

from crews.fact_check.claim_checks import check_copy
from crews.fact_check.crew import FactCheckCrew
from crews.fact_check.tools import CheckClaimsTool
from crews.runtime.scripted_llm import ScriptedLLM
from tests.crews.fact_check.test_claim_checks import BIKE

COPY = "The Velo 5 has a 600 Wh battery and a range of up to 80 km. It is fully waterproof."


class NativeTools(ScriptedLLM):
    def supports_function_calling(self) -> bool:
        return True


def test_the_tool_gives_the_verdicts_of_the_claim_checks():
    checks = CheckClaimsTool(sheet=BIKE).run(copy_text=COPY).checks
    assert checks == check_copy(COPY, BIKE, [])
    verdicts = {c.claim: c.verdict for c in checks}
    assert "contradicted" in verdicts.values() and "supported" in verdicts.values(), verdicts
    assert any(c.corrected_claim and "500 Wh" in c.corrected_claim for c in checks), checks


def test_an_agent_reads_the_same_verdicts_as_json():
    tool = CheckClaimsTool(sheet=BIKE)
    as_agent = json.loads(str(tool.run(copy_text="a range of up to 95 km")))
    assert [c["verdict"] for c in as_agent["checks"]] == ["contradicted"]


def test_the_fact_checker_holds_the_tool_only_on_a_model_that_calls_tools():
    tool = CheckClaimsTool(sheet=BIKE)
    small = FactCheckCrew(ScriptedLLM(model="scripted"), tools={"fact_checker": [tool]})
    strong = FactCheckCrew(NativeTools(model="scripted"), tools={"fact_checker": [tool]})
    assert small.fact_checker().tools == []
    assert [t.name for t in strong.fact_checker().tools] == ["check_claims"]
    assert strong.copywriter().tools == []


def tool_calling_llm(seen_by_model: list[str]) -> ScriptedLLM:
    """A model that calls check_claims on COPY first, then quotes the claims the tool returned."""
    from crews.fact_check.schemas import ExtractedClaims
    from tests.support.scripted_fact_check import respond

    def calls_the_tool(messages, response_model):
        results = [m["content"] for m in messages if m.get("role") == "tool"]
        if response_model is None and not results:  # the fact checker, the one agent holding a tool
            return [{"id": "call_1", "type": "function",
                     "function": {"name": "check_claims", "arguments": json.dumps({"copy_text": COPY})}}]
        if results:
            seen_by_model.extend(results)
            claims = [c["claim"] for c in json.loads(results[0])["checks"]]
            return ExtractedClaims(claims=claims).model_dump_json() if response_model is None else \
                ExtractedClaims(claims=claims)
        return respond(messages, response_model)

    llm = NativeTools(model="scripted", provider="scripted", native_tools=True)
    return llm.with_responder(calls_the_tool)


def test_a_fact_checker_on_a_tool_calling_model_calls_check_claims_itself():
    """CrewAI's own executor runs the tool call the model answers with and hands the JSON back; the call
    is a tool span under the agent in the run's trace."""
    from crews.fact_check.pipeline import run
    from crews.fact_check.schemas import DraftInput
    from crews.tracking.recorder import EventRecorder

    seen_by_model: list[str] = []
    recorder = EventRecorder().start()
    draft = DraftInput(draft_id="tools", copy_text=COPY, fact_sheet=BIKE)
    report = run(draft, tool_calling_llm(seen_by_model))
    spans = {s.span_id: s for s in recorder.stop()}
    (called,) = [s for s in spans.values() if s.attributes.get("called_by") == "agent"]
    assert called.kind == "tool" and called.name == "check_claims" and called.ok
    assert called.inputs == {"copy_text": COPY} and json.loads(called.outputs)["checks"]
    assert spans[called.parent_id].name == "Marketing claims fact checker"
    (result,) = seen_by_model[:1]
    assert json.loads(result) == json.loads(str(CheckClaimsTool(sheet=BIKE).run(copy_text=COPY)))
    assert {c.verdict for c in report.claims} >= {"contradicted", "supported"}


def test_a_model_quoting_more_claims_than_the_tool_takes_does_not_fail_the_draft():
    from crews.fact_check.pipeline import run
    from crews.fact_check.schemas import DraftInput, ExtractedClaims
    from tests.support.scripted_fact_check import respond

    def verbose(messages, response_model):
        if response_model is ExtractedClaims:
            return ExtractedClaims(claims=["a range of up to 80 km"] * 250)
        return respond(messages, response_model)

    llm = ScriptedLLM(model="scripted", provider="scripted").with_responder(verbose)
    report = run(DraftInput(draft_id="many", copy_text=COPY, fact_sheet=BIKE), llm)
    assert report.claims and "contradicted" in {c.verdict for c in report.claims}
