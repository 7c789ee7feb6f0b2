"""Tests for crews.evaluation.drift_stats."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crews.evaluation.drift_stats import (
    Thresholds,
    categorical_psi,
    chi2_test,
    compare_categorical,
    compare_numeric,
    plot_feature,
    psi,
)

T = Thresholds()


def test_numeric_mean_shift_detected():
    rng = np.random.default_rng(1)
    d = compare_numeric("latency", rng.normal(0, 1, 100), rng.normal(1, 1, 30), T)
    assert d.drifted is True
    assert d.psi is not None and d.psi >= 0.2
    assert d.p_value is not None and d.p_value < 0.01
    assert "PSI" in d.note and "KS" in d.note
    assert (d.n_baseline, d.n_recent) == (100, 30)


def test_no_shift_stays_quiet_continuous():
    drifted = [
        compare_numeric("x", rng.normal(5, 2, 100), rng.normal(5, 2, 30), T).drifted
        for rng in (np.random.default_rng(seed) for seed in range(20))
    ]
    assert all(v is not None for v in drifted)
    assert sum(v is False for v in drifted) >= 19


def test_no_shift_stays_quiet_discrete():
    drifted = [
        compare_numeric("tokens", rng.integers(500, 520, 100), rng.integers(500, 520, 30), T).drifted
        for rng in (np.random.default_rng(seed) for seed in range(20))
    ]
    assert sum(v is False for v in drifted) >= 19


def test_scale_shift_token_counts_doubling_detected():
    rng = np.random.default_rng(7)
    baseline = rng.normal(1000, 100, 100).round()
    recent = rng.normal(2000, 200, 30).round()
    d = compare_numeric("total_tokens", baseline, recent, T)
    assert d.drifted is True
    assert d.recent_summary["median"] > 1.5 * d.baseline_summary["median"]


def test_nan_and_none_dropped_before_counting():
    rng = np.random.default_rng(3)
    recent = [*rng.normal(0, 1, 12), float("nan"), None, None]
    d = compare_numeric("x", rng.normal(0, 1, 50), recent, T)
    assert d.n_recent == 12
    assert d.drifted is not None
    assert set(d.recent_summary) == {"mean", "median", "p90"}


def test_categorical_shift_detected():
    baseline = {"supported": 70, "contradicted": 20, "unverifiable": 10}
    recent = {"supported": 8, "contradicted": 16, "unverifiable": 6}
    d = compare_categorical("verdict", baseline, recent, T)
    assert d.drifted is True
    assert d.statistic is None
    assert (d.n_baseline, d.n_recent) == (100, 30)
    assert d.baseline_summary["supported"] == pytest.approx(0.7)
    assert "chi-square" in d.note


def test_categorical_same_proportions_different_sizes_not_drifted():
    baseline = {"supported": 70, "contradicted": 20, "unverifiable": 10}
    recent = {"supported": 21, "contradicted": 6, "unverifiable": 3}
    d = compare_categorical("verdict", baseline, recent, T)
    assert d.drifted is False
    assert d.psi == pytest.approx(0.0, abs=1e-9)
    assert d.note == ""


def test_category_only_in_recent_is_finite():
    baseline = {"supported": 70, "contradicted": 30}
    recent = {"supported": 20, "contradicted": 5, "error": 5}
    value = categorical_psi(baseline, recent)
    assert math.isfinite(value) and value > 0
    assert 0.0 <= chi2_test(baseline, recent) <= 1.0
    d = compare_categorical("verdict", baseline, recent, T)
    assert d.baseline_summary["error"] == 0.0
    assert d.psi is not None and math.isfinite(d.psi)


def test_chi2_single_category_returns_one():
    assert chi2_test({"a": 10, "b": 0}, {"a": 5}) == 1.0


def test_psi_identical_samples_zero():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, 200)
    assert psi(x, x) < 1e-9
    assert psi([3.0] * 20, [3.0] * 15) == 0.0


def test_psi_constant_baseline_detects_moved_recent():
    assert psi([3.0] * 20, [4.0] * 15) > 1.0


def test_categorical_psi_hand_computed():
    b = {"a": 50, "b": 50}
    r = {"a": 80, "b": 20}
    expected = (0.8 - 0.5) * math.log(0.8 / 0.5) + (0.2 - 0.5) * math.log(0.2 / 0.5)
    assert categorical_psi(b, r) == pytest.approx(expected, rel=1e-9)
    assert categorical_psi(r, b) == pytest.approx(expected, rel=1e-9)


def test_too_few_runs_in_recent():
    rng = np.random.default_rng(5)
    d = compare_numeric("x", rng.normal(0, 1, 50), [1.0, 2.0, 3.0, 4.0], Thresholds(min_runs=10))
    assert d.drifted is None
    assert d.psi is None and d.statistic is None and d.p_value is None
    assert "recent" in d.note and "4" in d.note and "baseline" not in d.note
    assert d.to_dict()["drifted"] is None


def test_too_few_runs_categorical_baseline():
    d = compare_categorical("verdict", {"a": 3}, {"a": 20, "b": 20}, T)
    assert d.drifted is None
    assert "baseline" in d.note and "3" in d.note


def test_thresholds_from_dict():
    t = Thresholds.from_dict({"psi": 0.3})
    assert t == Thresholds(psi=0.3, p_value=0.01, min_runs=10)
    with pytest.raises(ValueError, match="psy"):
        Thresholds.from_dict({"psy": 1})


def _assert_png(path):
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG")
    assert len(data) > 1000


def test_plot_numeric(tmp_path):
    rng = np.random.default_rng(2)
    b, r = rng.normal(0, 1, 100), rng.normal(1, 1, 30)
    out = plot_feature(compare_numeric("latency", b, r, T), b, r, tmp_path / "num.png")
    _assert_png(out)


def test_plot_categorical(tmp_path):
    b = {"supported": 70, "contradicted": 20, "unverifiable": 10}
    r = {"supported": 8, "contradicted": 16, "error": 6}
    out = plot_feature(compare_categorical("verdict", b, r, T), b, r, tmp_path / "cat.png")
    _assert_png(out)


def test_plot_too_few_runs(tmp_path):
    b, r = [1.0, 2.0, 3.0], []
    out = plot_feature(compare_numeric("x", b, r, T), b, r, tmp_path / "sub" / "few.png")
    _assert_png(out)
    c = compare_categorical("v", {}, {"a": 2}, T)
    _assert_png(plot_feature(c, {}, {"a": 2}, tmp_path / "few_cat.png"))


def test_psi_discrete_baseline_value_below_and_above():
    assert psi([3.0] * 20, [2.0] * 15) > 1.0
    assert psi([0] * 60 + [1] * 30 + [2] * 10, [2] * 30) > 1.0
