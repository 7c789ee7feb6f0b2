import numpy as np
import pytest

from crews.evaluation.drift import DriftConfig, load_config, measure_drift, write_plots
from crews.evaluation.drift_stats import Thresholds

CFG = DriftConfig(recent_runs=20, baseline_runs=60, thresholds=Thresholds(min_runs=10),
                  numeric=("total_tokens", "wall_time_s"),
                  categorical={"answered": {"flag": "found"},
                               "verdict_mix": {"counts": {"supported": "claims_supported",
                                                          "contradicted": "claims_contradicted"}}},
                  scores=("correct/mean",))


def _runs(n, seed, tokens=1000.0, found_rate=0.8, contradicted=1, prompt="1", model="m"):
    rng = np.random.default_rng(seed)
    return [{"run_id": f"{seed}-{i}", "start_ms": i, "tags": {"prompt_version": prompt, "model": model},
             "metrics": {"total_tokens": float(rng.normal(tokens, tokens * 0.1)),
                         "wall_time_s": float(rng.normal(30, 3)),
                         "found": float(rng.random() < found_rate), "claims_supported": 3.0,
                         "claims_contradicted": float(contradicted)}} for i in range(n)]


def _evals(*scores):
    return [{"run_id": str(i), "start_ms": i, "tags": {}, "metrics": {"correct/mean": s}}
            for i, s in enumerate(scores)]


def test_a_prompt_change_that_shifts_tokens_and_answers_is_flagged_and_attributed():
    runs = _runs(20, 1, tokens=2000, found_rate=0.2, contradicted=3, prompt="2") + _runs(60, 2)
    report = measure_drift("contract_qa", runs, _evals(0.5, 0.8, 0.82), CFG)
    assert set(report.drifted) == {"total_tokens", "answered", "verdict_mix", "correct/mean"}
    assert "prompt_versions changed: baseline {'1': 60} -> recent {'2': 20}" in report.changes
    assert any(r.startswith("total_tokens: PSI") for r in report.reasons())


def test_windows_name_where_the_prompts_came_from_and_the_yaml_fallbacks():
    recent = _runs(20, 3, prompt="3")
    for run in recent:
        run["tags"]["prompt_source"] = "registry"
    for run in recent[:4]:
        run["tags"] |= {"prompt_version": "2", "prompt_source": "yaml",
                        "prompt_fallback": "MLflow unreachable: ConnectError"}
    baseline = _runs(60, 4, prompt="2")  # from before the registry served prompts: no prompt_source tag
    report = measure_drift("fact_check", recent + baseline, _evals(0.8, 0.81), CFG)
    assert report.windows["recent"]["prompt_versions"] == {"2": 4, "3": 16}
    assert report.windows["recent"]["prompt_sources"] == {"yaml": 4, "registry": 16}
    assert (report.windows["recent"]["prompt_fallbacks"] == 4
            and report.windows["baseline"]["prompt_fallbacks"] == 0)
    assert ("prompt_sources changed: baseline {'yaml': 60} -> recent {'yaml': 4, 'registry': 16}"
            in report.changes)
    assert ("4 of 20 recent runs fell back to the YAML prompt files (most often: MLflow unreachable: "
            "ConnectError)" in report.changes)


def test_an_unchanged_window_stays_quiet():
    quiet = [measure_drift("contract_qa", _runs(20, seed) + _runs(60, seed + 100), _evals(0.8, 0.81), CFG)
             for seed in range(10)]
    assert sum(bool(r.drifted) for r in quiet) <= 1
    assert quiet[0].changes == []


def test_too_few_runs_say_so_instead_of_judging():
    report = measure_drift("contract_qa", _runs(12, 1, tokens=5000), [], CFG)
    assert report.drifted == [] and report.windows["baseline"] == {"runs": 0}
    assert all(f.drifted is None and "too few runs" in f.note for f in report.features)
    assert report.scores[0]["note"] == "too few evaluation runs: 0, needs 2"


def test_plots_are_written_for_every_feature(tmp_path):
    report = measure_drift("contract_qa", _runs(20, 1, tokens=2000) + _runs(60, 2), [], CFG)
    paths = write_plots(report, tmp_path)
    assert sorted(p.name for p in paths) == ["answered.png", "total_tokens.png", "verdict_mix.png",
                                             "wall_time_s.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)


def test_config_merges_defaults_crew_section_and_overrides(tmp_path):
    cfg = load_config("data_qa", {"recent_runs": 6, "min_runs": 5, "baseline_runs": None})
    assert (cfg.recent_runs, cfg.baseline_runs, cfg.thresholds.min_runs, cfg.thresholds.psi) == (6, 100, 5,
                                                                                                 0.2)
    assert "pass_rate" in cfg.categorical and "total_tokens" in cfg.numeric
    with pytest.raises(ValueError, match="recnt_runs"):
        load_config("data_qa", {"recnt_runs": 3})
    path = tmp_path / "drift.yaml"
    path.write_text("crews:\n  data_qa:\n    categorical: {x: {flag: a, counts: {}}}\n")
    with pytest.raises(ValueError, match="'x' needs exactly one of"):
        load_config("data_qa", path=path)
