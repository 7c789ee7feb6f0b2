import threading

from crews.publishing import publish_text, run_folder_name


def test_each_run_keeps_its_copy_and_the_item_points_at_the_newest(tmp_path):
    first = publish_text(tmp_path, "manual__2026-12-01T10:00:00+00:00", "aurora", "first\n")
    second = publish_text(tmp_path, "scheduled__2026-12-02T00:00:00+00:00", "aurora", "second\n")
    assert first.read_text() == "first\n" and second.read_text() == "second\n"
    latest = tmp_path / "aurora.md"
    assert latest.is_symlink() and latest.resolve() == second.resolve() and latest.read_text() == "second\n"
    assert first.parent.name == "manual__2026-12-01T10_00_00_00_00"
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_concurrent_runs_never_leave_a_mixed_or_missing_copy(tmp_path):
    texts = {f"run_{i}": f"copy of run {i}\n" * 200 for i in range(8)}
    threads = [threading.Thread(target=publish_text, args=(tmp_path, run, "item", text))
               for run, text in texts.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (tmp_path / "item.md").read_text() in texts.values()
    assert {p.parent.name: p.read_text() for p in (tmp_path / "runs").glob("*/item.md")} == texts


def test_run_folder_names_are_plain():
    assert run_folder_name("../../etc") == "_.._etc" and run_folder_name("") == "run"
