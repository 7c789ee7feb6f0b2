import json

import httpx
import pytest
from openai import OpenAI
from pydantic import BaseModel

from crews.runtime.llm_factory import build_llm
from crews.runtime.openai_compatible import OpenAICompatibleLLM, response_format_for
from crews.runtime.settings import LLMSettings
from crews.runtime.tracked_llm import StructuredOutputError


class Answer(BaseModel):
    verdict: str
    score: int


def test_llama_cpp_gets_json_object_with_schema():
    fmt = response_format_for("json_object_schema", Answer)
    assert fmt["type"] == "json_object" and fmt["schema"]["required"] == ["verdict", "score"]


def test_openai_gets_json_schema():
    fmt = response_format_for("json_schema", Answer)
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Answer"


def test_plain_json_mode_puts_schema_in_system_message():
    llm = OpenAICompatibleLLM(model="m", base_url="http://x/v1", structured_mode="json_object")
    body = llm.request_body([{"role": "user", "content": "hi"}], Answer)
    assert body["response_format"] == {"type": "json_object"}
    assert body["messages"][0]["role"] == "system" and '"verdict"' in body["messages"][0]["content"]


def _llm_with_replies(replies: list[str], seen: list[dict]) -> OpenAICompatibleLLM:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        content = replies[min(len(seen) - 1, len(replies) - 1)]
        return httpx.Response(
            200,
            json={
                "id": f"r{len(seen)}", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            },
        )

    llm = OpenAICompatibleLLM(model="m", base_url="http://llm.test/v1", structured_mode="json_object_schema")
    llm._client = OpenAI(base_url="http://llm.test/v1", api_key="x",
                         http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    return llm


def test_structured_call_parses_and_counts_tokens():
    seen: list[dict] = []
    llm = _llm_with_replies(['{"verdict": "supported", "score": 3}'], seen)
    answer = llm.call([{"role": "user", "content": "check"}], response_model=Answer)
    assert answer == Answer(verdict="supported", score=3)
    assert seen[0]["response_format"]["type"] == "json_object"
    assert llm.get_token_usage_summary().total_tokens == 15


def test_invalid_json_is_re_asked_once_then_refused():
    seen: list[dict] = []
    llm = _llm_with_replies(['{"verdict": "supported"}', '{"verdict": 1, "score": "x"}'], seen)
    with pytest.raises(StructuredOutputError, match="no valid Answer after 2 attempts"):
        llm.call("check", response_model=Answer)
    assert len(seen) == 2
    assert "did not match the required JSON schema" in seen[1]["messages"][-1]["content"]


def test_repair_succeeds_on_second_answer():
    seen: list[dict] = []
    llm = _llm_with_replies(["not json", '{"verdict": "ok", "score": 1}'], seen)
    assert llm.call("check", response_model=Answer).score == 1


def test_factory_attaches_key_privately():
    llm = build_llm(LLMSettings(provider="openai", api_key="sk-private-9"))
    assert isinstance(llm, OpenAICompatibleLLM)
    assert "sk-private-9" not in repr(llm) and "sk-private-9" not in llm.model_dump_json()
    assert llm._get_client().api_key == "sk-private-9"
    assert llm._get_client().timeout == 120.0


def test_factory_refuses_cloud_provider_without_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ValueError, match="needs an API key"):
        build_llm(LLMSettings(provider="openai"))


def test_unreachable_server_fails_within_the_timeout():
    llm = build_llm(LLMSettings(provider="openai_compatible", base_url="http://127.0.0.1:9/v1", model="m",
                                timeout_s=2, max_retries=0))
    with pytest.raises(Exception, match="Connection"):
        llm.call("hello")


def test_broken_json_is_repaired_locally_without_a_second_call():
    seen: list[dict] = []
    llm = _llm_with_replies(["```json\n{'verdict': 'supported', 'score': 3,}\n```"], seen)
    assert llm.call("check", response_model=Answer) == Answer(verdict="supported", score=3)
    assert len(seen) == 1


def test_offered_tools_are_sent_and_tool_calls_come_back_in_openai_shape():
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        call = {"id": "call_7", "type": "function",
                "function": {"name": "search_clauses", "arguments": '{"query": "rent"}'}}
        return httpx.Response(200, json={
            "id": "r1", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                         "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})

    tools = [{"type": "function", "function": {"name": "search_clauses", "parameters": {"type": "object"}}}]
    llm = OpenAICompatibleLLM(model="m", base_url="http://llm.test/v1", native_tools=True)
    llm._client = OpenAI(base_url="http://llm.test/v1", api_key="x",
                         http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    answer = llm.call([{"role": "user", "content": "find the rent"}], tools=tools)
    assert answer == [{"id": "call_7", "type": "function",
                       "function": {"name": "search_clauses", "arguments": '{"query": "rent"}'}}]
    assert seen[0]["tools"] == tools
    llm.native_tools = False  # a model that does not call tools is never offered them
    llm.call([{"role": "user", "content": "find the rent"}], tools=tools)
    assert "tools" not in seen[1]
