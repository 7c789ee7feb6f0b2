"""Row 3 run for real (quick): scripted answers through the fake OpenAI server, no stack needed."""

import pytest

from benchmarks import retry_cost
from benchmarks.common import Context


@pytest.fixture
def ctx():
    context = Context(quick=True)
    yield context
    context.close()


def test_a_retry_re_spends_nothing_with_the_response_cache_and_the_plain_crew_pays_again(ctx):
    row = retry_cost.run(ctx)
    assert row.result == "pass"
    assert row.data["ours"] == {"calls": 0, "tokens": 0}
    # The benchmark can tell the difference: without the cache the retry pays for the calls before the
    # failure.
    assert row.data["plain"]["calls"] == row.data["clean"]["calls"] - len(retry_cost.ITEMS) > 0
    assert 0 < row.data["plain"]["tokens"] < row.data["clean"]["tokens"]
