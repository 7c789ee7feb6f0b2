from collections import Counter

from crews.fact_check.pipeline import check_draft
from crews.tracking.recorder import EventRecorder


def test_spans_form_crew_task_agent_llm_tree(draft, scripted_llm):
    recorder = EventRecorder().start()
    check_draft(draft, scripted_llm)
    spans = recorder.stop()
    kinds = Counter(s.kind for s in spans)
    assert kinds == {"crew": 2, "task": 3, "agent": 3, "llm": 3}
    by_id = {s.span_id: s for s in spans}
    expected_parent = {"task": "crew", "agent": "task", "llm": "agent"}
    for span in spans:
        assert span.end_ns and span.end_ns >= span.start_ns and span.ok
        if span.kind != "crew":
            assert by_id[span.parent_id].kind == expected_parent[span.kind], span.name
    llm = [s for s in spans if s.kind == "llm"]
    assert {s.attributes["agent_role"] for s in llm} == {"Marketing claims fact checker", "Senior copywriter", "Managing editor"}
    assert all(s.attributes["usage"]["total_tokens"] > 0 for s in llm)
    assert "<<<COPY" in llm[0].inputs[-1]["content"]


def test_recorder_ignores_events_after_stop(draft, scripted_llm):
    recorder = EventRecorder().start()
    recorder.stop()
    check_draft(draft, scripted_llm)
    assert recorder.spans() == []
