import json

import pytest
from pydantic import BaseModel, Field

from crews.runtime.scripted_llm import ScriptedLLM
from crews.runtime.tools import CrewTool, ToolResult, agent_tools


class Args(BaseModel):
    word: str = Field(max_length=10)
    times: int = Field(default=1, ge=1, le=3)


class Echo(ToolResult):
    said: list[str]


class EchoTool(CrewTool):
    name: str = "echo"
    description: str = "Say a word up to three times."
    args_schema: type[BaseModel] = Args

    def _run(self, word: str, times: int = 1) -> Echo:
        return Echo(said=[word] * times)


class Broken(CrewTool):
    name: str = "broken"
    description: str = "Returns text instead of a result."
    args_schema: type[BaseModel] = Args

    def _run(self, word: str, times: int = 1) -> str:
        return word


class NativeTools(ScriptedLLM):
    def supports_function_calling(self) -> bool:
        return True


def test_the_pipeline_gets_the_typed_result_and_an_agent_reads_json():
    result = EchoTool().run(word="hi", times=2)
    assert result == Echo(said=["hi", "hi"])
    assert json.loads(str(result)) == {"said": ["hi", "hi"]}


@pytest.mark.parametrize(("arguments", "field"), [({"word": "x" * 11}, "word"),
                                                  ({"word": "hi", "times": 9}, "times"), ({}, "word")])
def test_arguments_the_schema_refuses_raise_naming_the_field(arguments, field):
    with pytest.raises(ValueError, match=rf"(?s)Tool 'echo' arguments validation failed: .*\n{field}\n"):
        EchoTool().run(**arguments)


def test_a_tool_that_returns_no_result_is_an_error_not_a_silent_string():
    with pytest.raises(ValueError, match="tool 'broken' returned no result: hi"):
        Broken().run(word="hi")


def test_agents_get_the_tools_only_when_their_llm_calls_tools_natively():
    tools = [EchoTool()]
    assert agent_tools(ScriptedLLM(model="scripted"), tools) == []
    assert agent_tools(NativeTools(model="scripted"), tools) == tools
