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
