"""The scripted fact-check agents, with copy that makes the model fail (DAG tests of ``items_per_task``).

Copy containing ``FLAKY`` fails its first call, once per state folder (a flag file under
``CREWS_STATE_DIR``): an outage a retry gets past. Copy containing ``BROKEN`` fails every call.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.support import scripted_fact_check, user_prompt


class ScriptedOutage(ConnectionError):
    """What the scripted model raises for copy that makes it fail."""


def respond(messages: list[dict[str, Any]], response_model: Any) -> Any:
    prompt = user_prompt(messages) or ""
    if "BROKEN" in prompt:
        raise ScriptedOutage("scripted outage: this copy always fails")
    if "FLAKY" in prompt:
        flag = Path(os.environ["CREWS_STATE_DIR"]) / "scripted_flaky.failed_once"
        if not flag.exists():
            flag.parent.mkdir(parents=True, exist_ok=True)
            flag.touch()
            raise ScriptedOutage("scripted outage: fails once")
    return scripted_fact_check.respond(messages, response_model)
