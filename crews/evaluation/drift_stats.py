"""Drift statistics between a baseline window and a recent window of crew runs.

* PSI (population stability index) measures *how much* a distribution moved:
  ``sum((r - b) * ln(r / b))`` over bins (numeric, edges from baseline quantiles)
  or categories; ~0.1 is a small shift, >= 0.2 a material one.
* KS (two-sample Kolmogorov-Smirnov, numeric) and chi-square (2xK contingency
  table, categorical) say whether the difference is *statistically credible*.

A feature counts as drifted only when both agree: PSI >= threshold AND p-value <
threshold. PSI alone is noisy on small windows; a p-value alone flags tiny but
irrelevant shifts on large ones. Windows shorter than ``min_runs`` get no verdict.
Pure numpy/scipy; matplotlib is imported lazily in :func:`plot_feature`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy import stats

EPS = 1e-4


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds; a feature drifts when ``psi >= psi`` and ``p < p_value``."""

    psi: float = 0.2
    p_value: float = 0.01
    min_runs: int = 10

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Thresholds:
        known = {f.name for f in fields(cls)}
        for key in d:
            if key not in known:
                raise ValueError(f"unknown threshold {key!r}; expected one of {sorted(known)}")
        return cls(**{k: (int(v) if k == "min_runs" else float(v)) for k, v in d.items()})


def _clean(values: Iterable[float | None]) -> np.ndarray:
    """Float array with None and NaN dropped."""
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    return arr[~np.isnan(arr)]


def _psi_from_props(b: np.ndarray, r: np.ndarray) -> float:
    b, r = np.maximum(b, EPS), np.maximum(r, EPS)
    return float(np.sum((r - b) * np.log(r / b)))


def psi(baseline: Iterable[float | None], recent: Iterable[float | None], bins: int = 5) -> float:
    """PSI with bin edges at the baseline's quantiles (deduplicated, outer edges open)."""
    b, r = _clean(baseline), _clean(recent)
    if b.size == 0 or r.size == 0:
        raise ValueError("psi needs non-empty baseline and recent samples")
    edges = np.unique(np.quantile(b, np.linspace(0, 1, bins + 1)[1:-1]))
    # A value holding >= 1/bins of the baseline (constant or discrete data) gets a bin of its own,
    # so recent values just above it are not lumped in with it.
    atoms = [e for e in edges if np.mean(b == e) >= 1 / bins]
    inner = np.unique(np.concatenate([edges, np.nextafter(atoms, np.inf)]))
    # Bin i holds [inner[i-1], inner[i]); the outer bins are (-inf, inner[0]) and [inner[-1], +inf).
    n_bins = inner.size + 1
    b_counts = np.bincount(np.searchsorted(inner, b, side="right"), minlength=n_bins)
    r_counts = np.bincount(np.searchsorted(inner, r, side="right"), minlength=n_bins)
    return _psi_from_props(b_counts / b.size, r_counts / r.size)


def _count_table(baseline_counts: Mapping[str, int], recent_counts: Mapping[str, int]):
    cats = sorted(set(baseline_counts) | set(recent_counts))
    b = np.array([baseline_counts.get(c, 0) for c in cats], dtype=float)
    r = np.array([recent_counts.get(c, 0) for c in cats], dtype=float)
    return cats, b, r


def categorical_psi(baseline_counts: Mapping[str, int], recent_counts: Mapping[str, int]) -> float:
    """PSI over the union of categories, with epsilon smoothing for missing ones."""
    _, b, r = _count_table(baseline_counts, recent_counts)
    if b.sum() <= 0 or r.sum() <= 0:
        raise ValueError("categorical_psi needs non-empty baseline and recent counts")
    return _psi_from_props(b / b.sum(), r / r.sum())


def ks_test(baseline: Iterable[float | None], recent: Iterable[float | None]) -> tuple[float, float]:
    """Two-sample KS test: (statistic, p-value)."""
    res = stats.ks_2samp(_clean(baseline), _clean(recent))
    return float(res.statistic), float(res.pvalue)


def chi2_test(baseline_counts: Mapping[str, int], recent_counts: Mapping[str, int]) -> float:
    """Chi-square p-value on the 2xK table; 1.0 when fewer than 2 categories are observed."""
    _, b, r = _count_table(baseline_counts, recent_counts)
    keep = (b + r) > 0
    table = np.vstack([b[keep], r[keep]])
    if table.shape[1] < 2 or b.sum() <= 0 or r.sum() <= 0:
        return 1.0
    return float(stats.chi2_contingency(table).pvalue)


@dataclass
class FeatureDrift:
    """Drift verdict for one feature; ``drifted`` is None when a window is too small."""

    name: str
    kind: Literal["numeric", "categorical"]
    n_baseline: int
    n_recent: int
    psi: float | None
    statistic: float | None
    p_value: float | None
    baseline_summary: dict
    recent_summary: dict
    drifted: bool | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def short_window_note(n_baseline: int, n_recent: int, needed: int) -> str:
    short = [f"{w} window has {n}" for w, n in (("baseline", n_baseline), ("recent", n_recent)) if n < needed]
    return f"too few runs: {', '.join(short)}, needs {needed}" if short else ""


def _verdict(psi_value: float, p: float, t: Thresholds, test: str) -> tuple[bool, str]:
    drifted = psi_value >= t.psi and p < t.p_value
    note = f"PSI {psi_value:.2f} >= {t.psi:g} and {test} p {p:.2g} < {t.p_value:g}" if drifted else ""
    return drifted, note


def _numeric_summary(x: np.ndarray) -> dict[str, float | None]:
    if x.size == 0:
        return {"mean": None, "median": None, "p90": None}
    return {
        "mean": round(float(np.mean(x)), 6),
        "median": round(float(np.median(x)), 6),
        "p90": round(float(np.quantile(x, 0.9)), 6),
    }


def compare_numeric(
    name: str, baseline: Iterable[float | None], recent: Iterable[float | None], thresholds: Thresholds
) -> FeatureDrift:
    """Compare a numeric feature (NaN/None dropped) with PSI + KS."""
    b, r = _clean(baseline), _clean(recent)
    out = FeatureDrift(name, "numeric", int(b.size), int(r.size), None, None, None,
                       _numeric_summary(b), _numeric_summary(r), None)
    note = short_window_note(b.size, r.size, max(thresholds.min_runs, 1))
    if note:
        out.note = note
        return out
    out.psi = psi(b, r)
    out.statistic, out.p_value = ks_test(b, r)
    out.drifted, out.note = _verdict(out.psi, out.p_value, thresholds, "KS")
    return out


def _shares(cats: list[str], counts: np.ndarray) -> dict[str, float]:
    total = counts.sum()
    return {c: (round(float(n / total), 6) if total > 0 else 0.0) for c, n in zip(cats, counts, strict=True)}


def compare_categorical(
    name: str, baseline_counts: Mapping[str, int], recent_counts: Mapping[str, int], thresholds: Thresholds
) -> FeatureDrift:
    """Compare a categorical feature given as counts per category, with PSI + chi-square."""
    cats, b, r = _count_table(baseline_counts, recent_counts)
    out = FeatureDrift(name, "categorical", int(b.sum()), int(r.sum()), None, None, None,
                       _shares(cats, b), _shares(cats, r), None)
    note = short_window_note(out.n_baseline, out.n_recent, max(thresholds.min_runs, 1))
    if note:
        out.note = note
        return out
    out.psi = categorical_psi(baseline_counts, recent_counts)
    out.p_value = chi2_test(baseline_counts, recent_counts)
    out.drifted, out.note = _verdict(out.psi, out.p_value, thresholds, "chi-square")
    return out


def plot_feature(drift: FeatureDrift, baseline: Any, recent: Any, path: str | Path) -> Path:
    """Write a PNG: overlaid density histograms (numeric) or share bars (categorical)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # Agg, no global pyplot state
    from matplotlib.figure import Figure

    path = Path(path)
    fig = Figure(figsize=(6, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if drift.psi is not None and drift.p_value is not None:
        ax.set_title(f"{drift.name}: PSI {drift.psi:.2f}, p {drift.p_value:.3f}")
    else:
        ax.set_title(f"{drift.name}: too few runs")
    if drift.kind == "numeric":
        b, r = _clean(baseline), _clean(recent)
        both = np.concatenate([b, r])
        if both.size:
            edges = np.histogram_bin_edges(both, bins=min(30, max(5, both.size // 5)))
            for x, label in ((b, "baseline"), (r, "recent")):
                if x.size:
                    ax.hist(x, bins=edges, density=True, alpha=0.5, label=f"{label} (n={x.size})")
            ax.legend()
        ax.set_ylabel("density")
    else:
        cats, b, r = _count_table(baseline, recent)
        xs = np.arange(len(cats))
        for offset, counts, label in ((-0.2, b, "baseline"), (0.2, r, "recent")):
            shares = counts / counts.sum() if counts.sum() > 0 else counts
            ax.bar(xs + offset, shares, width=0.4, label=f"{label} (n={int(counts.sum())})")
        ax.set_xticks(xs, cats)
        ax.set_ylabel("share")
        if cats:
            ax.legend()
    if drift.note:
        ax.text(0.5, -0.18, drift.note, transform=ax.transAxes, ha="center", va="top", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    fig.clear()  # Figure API: nothing registered with pyplot, so clearing releases everything
    return path
