from pydantic import BaseModel

from crews.runtime.limits import CacheSettings
from crews.runtime.response_cache import ResponseCache, cache_scope
from crews.runtime.scripted_llm import ScriptedLLM
from crews.runtime.tracked_llm import Completion

TI = {"dag_id": "d", "run_id": "r1", "task_id": "t", "map_index": 3, "try_number": 1}


class Verdict(BaseModel):
    ok: bool


def _llm(cache: ResponseCache, answers: list[str]) -> ScriptedLLM:
    replies = iter(answers)
    llm = ScriptedLLM(model="m", provider="scripted").with_responder(lambda messages, model: next(replies))
    return llm.with_guards(cache=cache)


def test_scope_is_the_task_instance_and_never_the_try():
    assert cache_scope(TI, "task_instance") == "d/r1/t/3"
    assert cache_scope({**TI, "try_number": 2}, "task_instance") == "d/r1/t/3"
    assert cache_scope(TI, "dag") == "d"
    assert cache_scope(TI, "off") is None
    assert cache_scope({}, "task_instance") is None  # CLI runs are not cached


def test_entries_survive_a_new_cache_object_and_stay_in_their_scope(tmp_path):
    request = {"provider": "p", "model": "m", "messages": [{"role": "user", "content": "hi"}]}
    ResponseCache("d/r1/t/3", tmp_path).put(request, Completion("answer", {"total_tokens": 7}))
    again = ResponseCache("d/r1/t/3", tmp_path)
    assert again.get(request) == Completion("answer", {"total_tokens": 7})
    assert ResponseCache("d/r2/t/3", tmp_path).get(request) is None  # a new DAG run pays again
    assert again.get({**request, "model": "other"}) is None
    assert (again.hits, again.misses) == (1, 1)


def test_key_covers_messages_parameters_and_schema():
    llm = ScriptedLLM(model="m", provider="scripted", temperature=0.0)
    base = llm.request_key([{"role": "user", "content": "x"}], Verdict)
    assert base != llm.request_key([{"role": "user", "content": "y"}], Verdict)
    assert base != llm.request_key([{"role": "user", "content": "x"}], None)
    hotter = ScriptedLLM(model="m", provider="scripted", temperature=0.7)
    assert base != hotter.request_key([{"role": "user", "content": "x"}], Verdict)


def test_a_retry_replays_paid_answers_and_reports_them_as_cache_hits(tmp_path):
    from crews.runtime.pricing import pricing_table
    from crews.tracking.recorder import EventRecorder
    from crews.tracking.summary import llm_call_rows, metrics_from_calls

    first = _llm(ResponseCache.for_context(TI, CacheSettings()), ['{"ok": true}'])
    assert first.call("is it ok?", response_model=Verdict) == Verdict(ok=True)
    assert first.calls == 1

    retry = _llm(ResponseCache.for_context({**TI, "try_number": 2}, CacheSettings()), [])
    recorder = EventRecorder().start()
    assert retry.call("is it ok?", response_model=Verdict) == Verdict(ok=True)
    spans = recorder.stop()
    assert retry.calls == 0  # nothing sent to the model
    metrics = metrics_from_calls(llm_call_rows(spans, pricing_table(), "scripted"))
    assert metrics["cache_hits"] == 1 and metrics["llm_calls"] == 0 and metrics["total_tokens"] == 0
    assert metrics["cached_tokens"] > 0


def test_off_scope_calls_the_model_every_time():
    assert ResponseCache.for_context(TI, CacheSettings(scope="off")) is None


def test_entries_are_counted_per_scope(tmp_path):
    ResponseCache("d/r1/t/0", tmp_path).put({"m": 1}, Completion("a"))
    ResponseCache("d/r1/t/1", tmp_path).put({"m": 1}, Completion("b"))
    assert ResponseCache("d/r1/t/0", tmp_path).entries() == 1
    assert ResponseCache("d/r1/t/9", tmp_path).entries() == 0


def test_each_item_of_a_task_running_several_has_its_own_scope():
    chunk = {**TI, "items_in_task": 3}
    assert cache_scope(chunk, "task_instance", "draft_a") == "d/r1/t/3/draft_a"
    assert cache_scope(chunk, "task_instance", "draft_b") != cache_scope(chunk, "task_instance", "draft_a")
    assert cache_scope({**TI, "items_in_task": 1}, "task_instance", "draft_a") == "d/r1/t/3"
    assert cache_scope(TI, "task_instance", "draft_a") == "d/r1/t/3"  # one item per task: as before
