"""Row 6's judgement: per-item overhead and whether run time grows linearly with the items."""

import pytest

from benchmarks.fan_out import growth


def test_linear_growth_passes_and_reports_the_per_item_overhead():
    g = growth({1: 16.0, 10: 43.0, 50: 163.0})
    assert g["linear"] and g["per_item_s"] == pytest.approx(3.0)
    assert g["slopes"] == pytest.approx([3.0, 3.0])


def test_growth_that_speeds_up_per_item_is_linear_or_better():
    assert growth({1: 16.0, 10: 43.0, 50: 120.0})["linear"]


def test_quadratic_growth_is_a_miss():
    g = growth({n: 10.0 + 0.1 * n * n for n in (1, 10, 50)})
    assert not g["linear"] and g["slopes"][1] > 1.2 * g["slopes"][0]
