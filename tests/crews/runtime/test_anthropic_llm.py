import json

import httpx
from anthropic import Anthropic
from pydantic import BaseModel

from crews.runtime.anthropic_llm import AnthropicLLM
from crews.runtime.limits import CacheSettings
from crews.runtime.llm_factory import build_llm
from crews.runtime.response_cache import ResponseCache
from crews.runtime.settings import LLMSettings


class Answer(BaseModel):
    verdict: str


def _llm(replies: list[str], seen: list[dict]) -> AnthropicLLM:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append({"body": json.loads(request.content), "headers": dict(request.headers)})
        return httpx.Response(200, json={
            "id": f"msg_{len(seen)}", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
            "content": [{"type": "text", "text": replies[min(len(seen), len(replies)) - 1]}],
            "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 20, "output_tokens": 4},
        })

    llm = build_llm(LLMSettings(provider="anthropic", api_key="sk-ant-private"))
    assert isinstance(llm, AnthropicLLM)
    llm._client = Anthropic(api_key="sk-ant-private",
                            http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    return llm


def test_system_messages_and_schema_go_to_the_system_field():
    seen: list[dict] = []
    llm = _llm(['{"verdict": "supported"}'], seen)
    answer = llm.call([{"role": "system", "content": "You check facts."},
                       {"role": "user", "content": "check"}], response_model=Answer)
    assert answer == Answer(verdict="supported")
    body = seen[0]["body"]
    assert body["messages"] == [{"role": "user", "content": "check"}]
    assert body["system"].startswith("You check facts.") and '"verdict"' in body["system"]
    assert llm.get_token_usage_summary().total_tokens == 24
    assert "sk-ant-private" not in repr(llm) and "sk-ant-private" not in llm.model_dump_json()


def test_claude_retries_replay_from_the_cache():
    context = {"dag_id": "d", "run_id": "r", "task_id": "t", "map_index": 0}
    seen: list[dict] = []
    first = _llm(['{"verdict": "ok"}'], seen).with_guards(ResponseCache.for_context(context, CacheSettings()))
    first.call("check", response_model=Answer)
    retry = _llm(['{"verdict": "other"}'], seen).with_guards(ResponseCache.for_context(context,
                                                                                       CacheSettings()))
    assert retry.call("check", response_model=Answer) == Answer(verdict="ok")
    assert len(seen) == 1
