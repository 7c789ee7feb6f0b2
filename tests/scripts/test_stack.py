import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import stack  # noqa: E402


@pytest.mark.parametrize(("states", "waiting"), [
    (["success", "awaiting_input", None], True),             # only the review (and what follows it) is left
    (["success", "awaiting_input", "running"], False),       # another item is still being checked
    (["success", "awaiting_input", "up_for_retry"], False),  # a retry will still run
    (["success", "success"], False),                         # nothing waits for a person
])
def test_waiting_only_for_review(states, waiting):
    assert stack.waiting_only_for_review([{"state": s} for s in states]) is waiting
