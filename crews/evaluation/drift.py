"""Per-crew drift check: a recent window of production runs against a baseline window.

Features (``include/drift.yaml``) are MLflow run metrics: numeric ones (tokens,
cost, latency, input and output size ...) compared with PSI + KS, categorical ones
(verdict mix, pass rate, abstention, share routed to review) with PSI + chi-square
(:mod:`crews.evaluation.drift_stats`); evaluation scores compare the newest
evaluation run with the mean of the ones before. The report names the prompt
versions and models in each window, so a shift can be traced to a change.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from crews.evaluation.drift_stats import (
    FeatureDrift,
    Thresholds,
    compare_categorical,
    compare_numeric,
    plot_feature,
    short_window_note,
)
from crews.paths import INCLUDE_DIR

CONFIG_PATH = INCLUDE_DIR / "drift.yaml"


@dataclass(frozen=True)
class DriftConfig:
    recent_runs: int = 20
    baseline_runs: int = 100
    baseline_evaluations: int = 5
    max_score_drop: float = 0.1
    thresholds: Thresholds = field(default_factory=Thresholds)
    numeric: tuple[str, ...] = ()
    categorical: dict[str, dict[str, Any]] = field(default_factory=dict)
    scores: tuple[str, ...] = ()


def load_config(crew: str, overrides: dict[str, Any] | None = None, path: Path = CONFIG_PATH) -> DriftConfig:
    """The crew's drift settings: file defaults, the crew's section, then ``overrides`` (e.g. DAG params)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if crew not in (data.get("crews") or {}):
        raise ValueError(f"{path} has no drift features for crew {crew!r}")
    merged = {**(data.get("defaults") or {}), **data["crews"][crew]}
    thresholds = dict(merged.pop("thresholds", {}) or {})
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key in {f.name for f in fields(Thresholds)}:
            thresholds[key] = value
        else:
            merged[key] = value
    known = {f.name for f in fields(DriftConfig)}
    unknown = sorted(set(merged) - known)
    if unknown:
        raise ValueError(f"unknown drift setting(s) for {crew}: {', '.join(unknown)}")
    for name, spec in (merged.get("categorical") or {}).items():
        if set(spec) not in ({"counts"}, {"flag"}):
            raise ValueError(f"categorical feature {name!r} needs exactly one of 'counts' or 'flag', "
                             f"got {sorted(spec)}")
    return DriftConfig(**{**merged, "thresholds": Thresholds.from_dict(thresholds),
                          "numeric": tuple(merged.get("numeric") or ()),
                          "scores": tuple(merged.get("scores") or ())})


def _categories(run: dict[str, Any], spec: dict[str, Any]) -> Counter:
    metrics = run["metrics"]
    if "flag" in spec:
        value = metrics.get(spec["flag"])
        return Counter() if value is None else Counter({"yes" if value >= 0.5 else "no": 1})
    return Counter({label: int(metrics.get(metric, 0)) for label, metric in spec["counts"].items()})


def _window(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Who produced a window: run count, time span, prompt versions (the registry version each run was served,
    or its YAML files' version), where the prompts came from (``prompt_source``: registry, or yaml, which runs
    from before the registry served prompts count as), how many runs fell back to the YAML files
    (``prompt_fallback``), and models, with their counts."""
    if not runs:
        return {"runs": 0}
    return {
        "runs": len(runs), "from_ms": min(r["start_ms"] for r in runs),
        "to_ms": max(r["start_ms"] for r in runs),
        "prompt_versions": dict(Counter(r["tags"].get("prompt_version") or r["tags"].get("prompt_hash", "?")
                                        for r in runs)),
        "prompt_sources": dict(Counter(r["tags"].get("prompt_source", "yaml") for r in runs)),
        "prompt_fallbacks": sum(bool(r["tags"].get("prompt_fallback")) for r in runs),
        "models": dict(Counter(r["tags"].get("model", "?") for r in runs)),
    }


def _fallback_note(runs: list[dict[str, Any]]) -> list[str]:
    """A change line when recent runs were served the YAML files because the registry could not serve."""
    reasons = Counter(r["tags"]["prompt_fallback"] for r in runs if r["tags"].get("prompt_fallback"))
    if not reasons:
        return []
    reason, _ = reasons.most_common(1)[0]
    return [f"{sum(reasons.values())} of {len(runs)} recent runs fell back to the YAML prompt files "
            f"(most often: {reason})"]


@dataclass
class DriftReport:
    crew: str
    windows: dict[str, Any]
    features: list[FeatureDrift]
    scores: list[dict[str, Any]]
    changes: list[str]
    samples: dict[str, tuple[Any, Any]] = field(repr=False)

    @property
    def drifted(self) -> list[str]:
        return [f.name for f in self.features if f.drifted] + [s["name"] for s in self.scores if s["drifted"]]

    def reasons(self) -> list[str]:
        return ([f"{f.name}: {f.note}" for f in self.features if f.drifted]
                + [f"{s['name']}: {s['note']}" for s in self.scores if s["drifted"]])

    def to_dict(self) -> dict[str, Any]:
        return {"crew": self.crew, "windows": self.windows, "drifted": self.drifted,
                "reasons": self.reasons(), "changes": self.changes,
                "features": [f.to_dict() for f in self.features], "scores": self.scores}


def _score_drift(name: str, evaluations: list[dict[str, Any]], cfg: DriftConfig) -> dict[str, Any]:
    values = [e["metrics"][name] for e in evaluations if name in e["metrics"]]
    if len(values) < 2:
        return {"name": name, "recent": values[0] if values else None, "baseline_mean": None, "drop": None,
                "drifted": None, "note": f"too few evaluation runs: {len(values)}, needs 2"}
    recent, before = values[0], values[1: 1 + cfg.baseline_evaluations]
    mean = sum(before) / len(before)
    drop = mean - recent
    drifted = drop > cfg.max_score_drop
    note = f"fell {drop:.3f} (from {mean:.3f} to {recent:.3f}) > {cfg.max_score_drop:g}" if drifted else ""
    return {"name": name, "recent": recent, "baseline_mean": mean, "drop": drop, "drifted": drifted,
            "note": note}


def measure_drift(crew: str, runs: list[dict[str, Any]], evaluations: list[dict[str, Any]],
                  cfg: DriftConfig) -> DriftReport:
    """Compare the newest ``cfg.recent_runs`` of ``runs`` (newest first) with the ``cfg.baseline_runs``
    before."""
    recent, baseline = runs[: cfg.recent_runs], runs[cfg.recent_runs: cfg.recent_runs + cfg.baseline_runs]
    features, samples = [], {}
    for name in cfg.numeric:
        b = [r["metrics"].get(name) for r in baseline]
        r_ = [r["metrics"].get(name) for r in recent]
        features.append(compare_numeric(name, b, r_, cfg.thresholds))
        samples[name] = (b, r_)
    for name, spec in cfg.categorical.items():
        b = sum((_categories(r, spec) for r in baseline), Counter())
        r_ = sum((_categories(r, spec) for r in recent), Counter())
        labels = spec["counts"] if "counts" in spec else {"yes": 1, "no": 0}
        b, r_ = {k: b.get(k, 0) for k in labels}, {k: r_.get(k, 0) for k in labels}
        drift = compare_categorical(name, b, r_, cfg.thresholds)
        if "counts" in spec:  # counts are per item (claims, issues); the window size is in runs
            drift.n_baseline, drift.n_recent = len(baseline), len(recent)
            note = short_window_note(len(baseline), len(recent), cfg.thresholds.min_runs)
            if note:
                drift.psi = drift.p_value = drift.drifted = None
                drift.note = note
        features.append(drift)
        samples[name] = (b, r_)
    windows = {"recent": _window(recent), "baseline": _window(baseline)}
    changes = [
        f"{key} changed: baseline {windows['baseline'][key]} -> recent {windows['recent'][key]}"
        for key in ("prompt_versions", "prompt_sources", "models")
        if recent and baseline and set(windows["recent"][key]) != set(windows["baseline"][key])
    ] + _fallback_note(recent)
    scores = [_score_drift(name, evaluations, cfg) for name in cfg.scores]
    return DriftReport(crew, windows, features, scores, changes, samples)


def write_plots(report: DriftReport, folder: Path) -> list[Path]:
    """One PNG per feature (baseline vs recent distribution) in ``folder``."""
    return [plot_feature(f, *report.samples[f.name], folder / f"{f.name}.png") for f in report.features]


def check_crew_drift(crew: str, overrides: dict[str, Any] | None = None,
                     context: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read the crew's runs from MLflow, measure drift, log the drift run with its plots; return the
    report."""
    import tempfile

    from crews.tracking.drift_writer import log_drift
    from crews.tracking.run_history import crew_runs

    cfg = load_config(crew, overrides)
    runs = crew_runs(crew, "production", cfg.recent_runs + cfg.baseline_runs)
    evaluations = crew_runs(crew, "evaluation", 1 + cfg.baseline_evaluations)
    report = measure_drift(crew, runs, evaluations, cfg)
    with tempfile.TemporaryDirectory(prefix=f"drift-{crew}-") as folder:
        plots = write_plots(report, Path(folder))
        result = report.to_dict()
        tags = {k: str(v) for k, v in (context or {}).items() if v is not None}
        result["mlflow_run_id"] = log_drift(crew, f"drift {crew} · {len(runs)} runs", result, plots, tags)
        result["plots"] = [p.name for p in plots]
    return result
