"""Scripted judge: 4/5 for every output, 1/5 when the output carries an error."""

from __future__ import annotations

from typing import Any

from crews.evaluation.judge import JudgeVerdict
from tests.support import user_prompt


def respond(messages: list[dict[str, Any]], response_model: Any) -> JudgeVerdict:
    prompt = user_prompt(messages)
    output = prompt.split("<output>", 1)[-1]
    if '"error"' in output:
        return JudgeVerdict(score=1, rationale="the crew failed")
    return JudgeVerdict(score=4, rationale="matches the expectations")
