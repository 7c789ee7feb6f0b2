"""The scripted responder of every crew, answering after ``CREWS_SCRIPTED_DELAY_S`` seconds (default 2).

An item then stays on its worker long enough for a test to lose that worker mid-item, after its
first answers are in the response cache.
"""

from __future__ import annotations

import os
import time
from typing import Any

from tests.support.scripted_crews import respond as respond_now


def respond(messages: list[dict[str, Any]], response_model: Any) -> Any:
    time.sleep(float(os.environ.get("CREWS_SCRIPTED_DELAY_S", "2")))
    return respond_now(messages, response_model)
