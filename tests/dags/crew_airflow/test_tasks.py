"""How a mapped crew task is named in the Airflow UI."""

from crew_airflow.tasks import MAP_LABEL_MAX, map_label


def test_a_task_of_one_item_is_named_by_it_and_a_chunk_by_its_first_and_last():
    assert map_label(["aurora_launch"]) == "aurora_launch"
    assert map_label(["a", "b", "c"]) == "a … c (3 items)"


def test_a_long_name_is_cut_to_what_airflow_stores():
    label = map_label(["x" * 200, "y" * 200])
    assert len(label) == MAP_LABEL_MAX and label.endswith("…") and label.startswith("x" * 200)
