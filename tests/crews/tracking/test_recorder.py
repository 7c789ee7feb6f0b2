from collections import Counter

from crews.fact_check.pipeline import run as check_draft
from crews.tracking.recorder import EventRecorder


def test_spans_form_crew_task_agent_llm_tree(draft, scripted_llm):
    recorder = EventRecorder().start()
    check_draft(draft, scripted_llm)
    spans = recorder.stop()
    kinds = Counter(s.kind for s in spans)
    assert kinds == {"crew": 2, "task": 3, "agent": 3, "llm": 3, "tool": 3}
    by_id = {s.span_id: s for s in spans}
    expected_parent = {"task": "crew", "agent": "task", "llm": "agent"}
    for span in spans:
        assert span.end_ns and span.end_ns >= span.start_ns and span.ok
        if span.kind == "tool":  # the checks run between the crews: they hang under the trace's root
            assert span.parent_id is None, span.name
        elif span.kind != "crew":
            assert by_id[span.parent_id].kind == expected_parent[span.kind], span.name
    llm = [s for s in spans if s.kind == "llm"]
    assert {s.attributes["agent_role"] for s in llm} == {"Marketing claims fact checker", "Senior copywriter",
                                                         "Managing editor"}
    assert all(s.attributes["usage"]["total_tokens"] > 0 for s in llm)
    assert "<<<COPY" in llm[0].inputs[-1]["content"]


def test_recorder_ignores_events_after_stop(draft, scripted_llm):
    recorder = EventRecorder().start()
    recorder.stop()
    check_draft(draft, scripted_llm)
    assert recorder.spans() == []


def test_steps_are_recorded_only_while_recording_and_nest():
    from crews.tracking.steps import traced_step

    @traced_step("tool")
    def inner(x):
        return [{"verdict": "supported"}, {"verdict": "contradicted"}, {"verdict": "supported"}]

    @traced_step("retriever", name="search")
    def outer(query, limit=2):
        inner(query)
        return [{"clause_id": "c1", "text": "The term is 3 years.", "score": 0.9}]

    outer("before")  # not recording: no span, same result
    recorder = EventRecorder().start()
    outer("term?", limit=1)
    spans = recorder.stop()
    outer("after")
    assert [(s.kind, s.name) for s in spans] == [("retriever", "search"), ("tool", "inner")]
    search, checks = spans
    assert search.inputs == {"query": "term?", "limit": 1}
    assert search.outputs == [{"page_content": "The term is 3 years.",
                               "metadata": {"clause_id": "c1", "score": 0.9}, "id": "c1"}]
    assert (checks.parent_id == search.span_id
            and checks.attributes["verdicts"] == {"supported": 2, "contradicted": 1})


def test_a_failing_step_is_recorded_and_still_raises():
    import pytest

    from crews.tracking.steps import compact, traced_step

    @traced_step()
    def broken(text):
        raise ValueError("no facts")

    recorder = EventRecorder().start()
    with pytest.raises(ValueError, match="no facts"):
        broken("x" * 5000)
    (span,) = recorder.stop()
    assert span.ok is False and span.error == "ValueError: no facts"
    assert len(span.inputs["text"]) < 2100 and "3000 more characters" in span.inputs["text"]
    assert len(compact(list(range(500)))) == 51
