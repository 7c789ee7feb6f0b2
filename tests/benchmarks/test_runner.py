"""The benchmark runner: row selection, the table, and a failing row reported without losing the others."""

import json
import sys
import types

import pytest

from benchmarks import runner
from benchmarks.common import RowResult


def test_rows_are_chosen_by_number_or_name_in_table_order():
    assert runner.select(None) == [1, 2, 3, 4, 5, 6, 7]  # row 8 (500-item runs) only when asked for
    assert runner.select("large,1") == [1, 8]
    assert runner.select("fanout, 2,tracking") == [2, 6]
    assert runner.select("PARSE,1") == [1]


def test_an_unknown_row_is_refused_with_the_valid_names():
    with pytest.raises(SystemExit, match=r"unknown row 'speed'.*1 \(parse/dag_parse\)"):
        runner.select("1,speed")


def test_markdown_escapes_cells_and_keeps_details():
    row = RowResult(3, "Retry cost", "0 re-spent", measured="a | b", result="pass", details=["| x |"])
    report = {"date": "2026-11-22 10:00 UTC", "command": "python -m benchmarks", "total_seconds": 90,
              "machine": {"cores": 2, "ram_gib": 23.5, "cpu_model": "cpu", "os": "Linux", "python": "3.11",
                          "git_commit": "abc123"},
              "rows": [{**row.__dict__, "seconds": 12.0}]}
    text = runner.markdown(report)
    assert "| 3 | Retry cost | a \\| b | - | - | 0 re-spent | **pass** |" in text
    assert "commit abc123; `python -m benchmarks` took 1.5 min" in text
    assert "### 3. Retry cost (12 s)\n\n| x |" in text


@pytest.fixture
def fake_rows(monkeypatch, tmp_path):
    """Two rows: one measures, one raises."""
    def module(name, run):
        fake = types.ModuleType(f"benchmarks.{name}")
        fake.NAME, fake.GOAL, fake.run = name, f"goal of {name}", run
        monkeypatch.setitem(sys.modules, f"benchmarks.{name}", fake)

    def good(ctx):
        row = RowResult(1, "good", "goal of good", measured="42 things")
        row.verdict(True)
        return row

    def bad(ctx):
        raise ValueError("the server did not start")

    module("good_row", good)
    module("bad_row", bad)
    monkeypatch.setattr(runner, "ROWS", {1: ("good_row", ("good",)), 2: ("bad_row", ("bad",))})
    monkeypatch.setenv("CREWS_STATE_DIR", str(tmp_path / "state"))  # Context overrides it; restored after
    return tmp_path / "out" / "table"


def test_a_failing_row_is_an_error_row_and_the_others_are_kept(fake_rows, capsys):
    assert runner.main(["--out", str(fake_rows)]) == 1
    report = json.loads(fake_rows.with_suffix(".json").read_text())
    good, bad = report["rows"]
    assert good["result"] == "pass" and good["measured"] == "42 things"
    assert bad["result"] == "error" and "ValueError: the server did not start" in bad["notes"]
    assert "| 2 | bad_row |" in fake_rows.with_suffix(".md").read_text()
    assert "**error**" in capsys.readouterr().out


def test_all_rows_measured_exits_zero(fake_rows):
    assert runner.main(["--only", "good", "--out", str(fake_rows)]) == 0
    assert [r["name"] for r in json.loads(fake_rows.with_suffix(".json").read_text())["rows"]] == ["good"]
