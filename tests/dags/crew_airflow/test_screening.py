"""The accepted items go on to the crew tasks in chunks of ``items_per_task``."""

import pytest
from crew_airflow.screening import chunks


def test_chunks_keep_the_order_and_put_the_rest_in_the_last():
    assert chunks(list("abcde"), 2) == [["a", "b"], ["c", "d"], ["e"]]
    assert chunks(list("abc"), 1) == [["a"], ["b"], ["c"]]
    assert chunks(list("abc"), 50) == [["a", "b", "c"]]
    assert chunks([], 3) == []


def test_a_chunk_size_below_one_is_refused():
    with pytest.raises(ValueError, match="items_per_task must be at least 1, got 0"):
        chunks(["a"], 0)
