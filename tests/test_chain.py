"""The chain validation's machinery: what a replication writes and reads, its rows, chain.csv.

- `simulate(register_only=True)` writes a subset of a full study's files with the same bytes, and
  the hand-over made from it (`run_questionnaires(handover_only=True)`) is the full part's;
- `estimator_rows` takes one row per estimate and method from the result tables, with the truth
  from truth.json (hand-made tables and truth, values checked by hand);
- `summarise` gives bias, its Monte Carlo SE, coverage and power as computed by hand, and
  `clopper_pearson` R's `binom.test` intervals (tests/reference/clopper_pearson.R);
- the validation workflow plans one job per scenario, scale and seed (a Snakemake dry run).

The run through a real SLURM cluster is tests/test_chain_slurm.py.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import REFERENCE, ROOT
from mentorwijs.chain import clopper_pearson, estimator_rows, replication_config, summarise
from mentorwijs.errors import InputError
from support.synthetic_study import config_of, make_repository

CODEBOOKS = ROOT / "data" / "codebooks"


# ---------------------------------------------------------------------------------------------
# what a replication simulates and hands over


@pytest.fixture(scope="module")
def two_studies(tmp_path_factory):
    """The same synthetic study (seed 3, a small candidate pool) in full and register-only."""
    from mentorwijs.simulate import simulate

    roots = {}
    for name, register_only in (("full", False), ("register_only", True)):
        root = make_repository(tmp_path_factory.mktemp(name), pool_scale=0.05)
        config = config_of(root)
        synthetic = config["synthetic"]
        simulate(root / synthetic["out"], seed=3, scale=1, pool_scale=0.05, codebooks=root / "data" / "codebooks",
                 targets=synthetic["targets"], effect=synthetic["effect"], regions=config["regions"]["pairs"],
                 anchors=config["anchors"], register_only=register_only)
        roots[name] = root
    return roots


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_register_only_writes_the_register_files_and_the_handovers_sources_with_the_full_runs_bytes(two_studies):
    import json

    full = _files(two_studies["full"] / "data" / "raw" / "synthetic")
    part = _files(two_studies["register_only"] / "data" / "raw" / "synthetic")
    left_out = sorted(set(full) - set(part))
    assert sorted(set(part) - set(full)) == ["truth_trainees.csv"]
    # only the supervisors' surveys and the employees' follow-up are left out
    assert left_out == ["castor/Mentorwijs_T0_export.csv", "castor/Mentorwijs_T1_export.csv",
                        "castor/Mentorwijs_T2_export.csv", "castor/Mentorwijs_T3_export.csv",
                        "qualtrics/Mentorwijs_werknemers_vervolg.csv"]
    for name in part:
        if name not in ("truth.json", "truth_trainees.csv"):
            assert part[name] == full[name], name
    truth_full, truth_part = json.loads(full["truth.json"]), json.loads(part["truth.json"])
    assert truth_part["meta"].pop("register_only") is True
    assert "register_only" not in truth_full["meta"]
    for key in ("meta", "effects", "survival", "subgroups", "parameters"):
        assert truth_part[key] == truth_full[key], key
    # each trainee's realised effect: their mean over the matched set is truth.json's pooled ATT
    trainees = pd.read_csv(two_studies["register_only"] / "data" / "raw" / "synthetic" / "truth_trainees.csv")
    matched = trainees[trainees["matched_set"] == 1]
    assert len(matched) == truth_part["effects"]["employed_1h"]["matched"]["n"]
    for outcome in ("employed_1h", "employed_12h", "employed_3m"):
        assert matched[f"effect_{outcome}"].mean() == pytest.approx(truth_part["effects"][outcome]["matched"]["pooled"],
                                                                     abs=1e-8)
    assert trainees["rin"].str.fullmatch(r"R\d{9}|[A-Z]\d{9}").all()


def test_the_handover_from_a_register_only_study_is_the_full_questionnaire_parts(two_studies):
    from mentorwijs.ingest import run_questionnaires
    from mentorwijs.pseudonymise import DEMO_KEY

    full, part = two_studies["full"], two_studies["register_only"]
    run_questionnaires(config_of(full), full, key=DEMO_KEY, progress=lambda line: None)
    run_questionnaires(config_of(part), part, key=DEMO_KEY, progress=lambda line: None, handover_only=True)
    for name in ("data/processed/trainees.parquet", "data/interim/flow/trainees.csv",
                 "data/interim/exclusions/trainees.csv"):
        assert (part / name).read_bytes() == (full / name).read_bytes(), name
    # nothing of the supervisors' part was made
    assert not (part / "data" / "processed" / "supervisors_long.parquet").exists()


def test_subgroup_truths_are_the_mean_effects_of_the_analysiss_matched_trainees_per_level(two_studies):
    """The register part and effects on the register-only study; each modifier's levels split the
    matched trainees, so their truths average (weighted by the level's matched trainees) to the
    mean realised effect over every matched trainee."""
    from mentorwijs.chain import demo_key, subgroup_truth
    from mentorwijs.effects.modifiers import modifier_levels
    from mentorwijs.effects.tables import analysis_inputs, main_sample
    from mentorwijs.register.steps import run_register
    from mentorwijs.tables import read_parquet

    from mentorwijs.ingest import run_questionnaires
    from mentorwijs.pseudonymise import DEMO_KEY

    root = two_studies["register_only"]
    config = config_of(root)
    if not (root / "data" / "processed" / "trainees.parquet").exists():  # the hand-over, when run on its own
        run_questionnaires(config, root, key=DEMO_KEY, progress=lambda line: None, handover_only=True)
    with demo_key():
        run_register(config, root=root, skip=("export",))
    raw = root / "data" / "raw" / "synthetic"
    truths = subgroup_truth(root, raw / "truth_trainees.csv", config)
    table = pd.read_csv(root / "data" / "processed" / "results" / "modifiers.csv", dtype={"level": str})
    assert set(truths) == set(zip(table["modifier"], table["level"]))
    # the mean over every matched trainee (pseudonym -> RINPERSOON through the register part's person table)
    processed = root / "data" / "processed"
    matched = read_parquet(processed / "matched.parquet")
    _, units = analysis_inputs(matched[["unit"]], main_sample(read_parquet(processed / "survival.parquet")), matched,
                               join=())
    trainees = units[units["treated"] == 1]
    persons = read_parquet(root / "data" / "interim" / "register" / "persons.parquet").set_index("person")["rin"]
    effects = pd.read_csv(raw / "truth_trainees.csv", dtype={"rin": str}).set_index("rin")["effect_employed_1h"]
    overall = trainees["person"].map(persons).map(effects)
    assert overall.notna().all()
    for spec in config["effects"]["modifiers"]:
        name, level = modifier_levels(trainees, spec)
        counts = level.value_counts()
        weighted = sum(n * truths[(name, lev)] for lev, n in counts.items())
        assert weighted / counts.sum() == pytest.approx(overall.mean(), abs=1e-12), name


def test_a_replications_config_sets_scale_seed_and_the_null_effect_and_leaves_the_rest():
    from mentorwijs.config import load_config

    config = load_config(ROOT / "config.yaml")
    null = replication_config(config, scenario="null", scale=8, seed=17, pool_scale=2, codebooks=CODEBOOKS)
    effect = replication_config(config, scenario="effect", scale=8, seed=17, pool_scale=2, codebooks=CODEBOOKS)
    assert null["synthetic"]["effect"]["log_hr_peak"] == 0
    assert effect["synthetic"]["effect"] == config["synthetic"]["effect"]
    assert (null["study"]["seed"], null["synthetic"]["scale"], null["synthetic"]["pool_scale"]) == (17, 8.0, 2.0)
    assert all(Path(s["codebook"]).is_absolute() and Path(s["codebook"]).is_file() for s in null["sources"].values())
    for section in ("register", "matching", "candidates", "anchors", "effects"):
        assert null[section] == config[section]
    assert config["synthetic"]["effect"]["log_hr_peak"] != 0  # the caller's config is not changed


# ---------------------------------------------------------------------------------------------
# rows from result tables


def _truth(log_hr_peak: float) -> dict:
    months = [-1, 0, 1, 2]
    effects = {o: {"matched": {"months": months, "att": [0, 0, 0.1, 0.3], "expected_att": [0, 0, 0.2, 0.4]}}
               for o in ("employed_1h",)}
    survival = {"job": {"matched": {"rmst_difference": 0.5, "rmst_horizon": 12, "average_hazard_ratio": 0.5}}}
    subgroups = {"temporary_contract": {"0": {"att_employed_1h_pooled": 0.1}, "1": {"att_employed_1h_pooled": 0.25}}}
    return {"effects": effects, "survival": survival, "subgroups": subgroups,
            "parameters": {"register": {"effect": {"log_hr_peak": log_hr_peak}}}}


def _results(folder: Path, *, with_method: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pooled = pd.DataFrame({"outcome": ["employed_1h"], "months": ["1..2"], "estimate": [0.25], "se": [0.1],
                           "ci_low": [0.05], "ci_high": [0.45], "df_resid": [40]})
    if with_method:
        adjusted = pooled.assign(estimate=0.7, ci_low=0.5, ci_high=0.9, df_resid=np.nan)
        pooled = pd.concat([pooled.assign(method="matched"), adjusted.assign(method="adjusted", df=30)])
    pooled.to_csv(folder / "did_pooled.csv", index=False)
    pd.DataFrame({"outcome": "employed_1h", "month": [-1, 0, 1, 2], "estimate": [0.0, 0.0, 0.2, 0.5],
                  "se": [0.1, 0.0, 0.1, 0.1], "ci_low": [-0.2, 0.0, 0.0, 0.3], "ci_high": [0.2, 0.0, 0.4, 0.7],
                  "band_low": [np.nan, np.nan, -0.1, 0.2], "band_high": [np.nan, np.nan, 0.5, 0.8],
                  "df_resid": 40}).to_csv(folder / "did_by_month.csv", index=False)
    pd.DataFrame({"outcome": ["job"], "horizon": [12], "difference": [0.4], "se": [0.3], "ci_low": [-0.2],
                  "ci_high": [1.0]}).to_csv(folder / "rmst.csv", index=False)
    pd.DataFrame({"outcome": "job", "model": ["primary", "primary", "adjusted", "cloglog"],
                  "term": ["treated", "robust score test", "treated", "treated"], "coef": [-0.5, np.nan, -0.4, -0.6],
                  "se": [0.2, np.nan, 0.2, 0.25], "ci_low": [math.exp(-0.9), np.nan, math.exp(-0.8), math.exp(-1.1)],
                  "ci_high": [math.exp(-0.1), np.nan, math.exp(0.0), math.exp(-0.1)]}).to_csv(folder / "survival.csv",
                                                                                              index=False)
    pd.DataFrame({"outcome": "employed_1h", "modifier": "temporary_contract", "level": ["0", "1"],
                  "reference_level": "0", "estimate": [0.1, 0.3], "se": 0.05, "ci_low": [0.0, 0.2],
                  "ci_high": [0.2, 0.4], "interaction": [np.nan, 0.2], "interaction_se": [np.nan, 0.07],
                  "interaction_ci_low": [np.nan, 0.06], "interaction_ci_high": [np.nan, 0.34],
                  "df_resid": 30}).to_csv(folder / "modifiers.csv", index=False)
    return folder


CONFIG = {"effects": {"rmst_horizon": 12,
                      "modifiers": [{"name": "temporary_contract", "column": "temporary_contract"}]},
          "anchors": {"reference_month": 0}}


def _one(rows: pd.DataFrame, **where) -> pd.Series:
    mask = np.ones(len(rows), dtype=bool)
    for k, v in where.items():
        mask &= (rows[k] == v).to_numpy()
    assert mask.sum() == 1, (where, rows[mask])
    return rows[mask].iloc[0]


def test_rows_take_one_row_per_method_and_method_matched_without_a_method_column(tmp_path):
    plain = estimator_rows(_results(tmp_path / "plain", with_method=False), _truth(-2.5), CONFIG)
    both = estimator_rows(_results(tmp_path / "both", with_method=True), _truth(-2.5), CONFIG)
    assert set(plain.loc[plain["estimator"] == "did_pooled", "method"]) == {"matched"}
    assert sorted(both.loc[both["estimator"] == "did_pooled", "method"]) == ["adjusted", "matched"]
    adjusted = _one(both, estimator="did_pooled", method="adjusted")
    # truth: the expected ATT averaged over the pooled months 1..2; the table's own df column wins
    assert adjusted["truth"] == pytest.approx(0.3) and adjusted["truth_realised"] == pytest.approx(0.2)
    assert (adjusted["df"], adjusted["covers"], adjusted["rejects"]) == (30, 0, 1)
    matched = _one(both, estimator="did_pooled", method="matched")
    assert (matched["df"], matched["covers"], matched["rejects"]) == (40, 1, 1)


def test_rows_compare_each_estimate_with_its_truth(tmp_path):
    rows = estimator_rows(_results(tmp_path, with_method=False), _truth(-2.5), CONFIG)
    month = _one(rows, estimator="did_month", month=2)
    assert (month["truth"], month["truth_realised"], month["covers"], month["rejects"]) == (0.4, 0.3, 1, 1)
    pre = _one(rows, estimator="did_month", month=-1)
    assert (pre["truth"], pre["covers"], pre["rejects"]) == (0, 1, 0)
    assert sorted(rows.loc[rows["estimator"] == "did_month", "month"]) == [-1, 1, 2]  # not the reference month
    # the band spans months 1..2: it covers the expected curve (0.2 in [-0.1, 0.5], 0.4 in [0.2, 0.8])
    # and excludes 0 in month 2
    band = _one(rows, estimator="did_band")
    assert (band["term"], band["covers"], band["rejects"]) == ("months 1..2", 1, 1)
    rmst = _one(rows, estimator="rmst_difference")
    assert (rmst["truth"], rmst["covers"], rmst["rejects"]) == (0.5, 1, 0)
    cox = _one(rows, estimator="cox_log_hr", method="matched")
    assert cox["truth"] == pytest.approx(math.log(0.5))
    assert (cox["ci_low"], cox["ci_high"]) == (pytest.approx(-0.9), pytest.approx(-0.1))
    assert (cox["covers"], cox["rejects"]) == (1, 1)
    adjusted = _one(rows, estimator="cox_log_hr", method="adjusted")  # [-0.8, 0]: holds log 0.5 and 0
    assert (adjusted["covers"], adjusted["rejects"]) == (1, 0)
    assert _one(rows, estimator="cloglog_log_hr")["estimate"] == -0.6
    assert np.isnan(_one(rows, estimator="modifier_interaction")["truth"])  # no subgroup truth given
    subgroups = {("temporary_contract", "0"): 0.1, ("temporary_contract", "1"): 0.25}
    rows = estimator_rows(tmp_path, _truth(-2.5), CONFIG, subgroups=subgroups)
    interaction = _one(rows, estimator="modifier_interaction")
    assert interaction["truth"] == pytest.approx(0.15) and interaction["covers"] == 1
    assert _one(rows, estimator="modifier_effect", term="temporary_contract=1")["truth"] == 0.25


def test_under_the_null_every_truth_is_zero(tmp_path):
    rows = estimator_rows(_results(tmp_path, with_method=False), _truth(0), CONFIG)
    modifiers = rows[rows["estimator"].str.startswith("modifier")]
    assert (modifiers["truth"] == 0).all()


# ---------------------------------------------------------------------------------------------
# chain.csv


def test_clopper_pearson_limits_are_rs_binom_test_intervals():
    reference = pd.read_csv(REFERENCE / "clopper_pearson_R_output.csv")
    reference = (reference[reference["quantity"].isin(["low", "high"])]
                 .astype({"successes": int, "n": int, "value": float}))
    assert len(reference) == 12
    for (successes, n), part in reference.groupby(["successes", "n"]):
        low, high = clopper_pearson(successes, n)
        expected = part.set_index("quantity")["value"]
        assert low == pytest.approx(expected["low"], abs=1e-12)
        assert high == pytest.approx(expected["high"], abs=1e-12)


def _rows(estimates, lows, highs, truth=0.2, estimator="did_pooled"):
    n = len(estimates)
    return pd.DataFrame({
        "scenario": "effect", "scale": 1.0, "seed": range(1, n + 1), "estimator": estimator, "method": "matched",
        "outcome": "employed_1h", "term": "months 1..12", "month": np.nan, "estimate": estimates, "se": 0.1,
        "ci_low": lows, "ci_high": highs, "df": 40, "truth": truth, "truth_realised": truth,
        "covers": [float(lo <= truth <= hi) for lo, hi in zip(lows, highs)],
        "rejects": [float(not lo <= 0 <= hi) for lo, hi in zip(lows, highs)], "truth_source": "x"})


def test_summary_gives_bias_its_mc_se_coverage_and_power_as_by_hand():
    rows = _rows([0.1, 0.3, 0.2, 0.4, np.nan], [-0.1, 0.25, 0.0, 0.3, np.nan], [0.3, 0.5, 0.4, 0.6, np.nan])
    row = summarise(rows).iloc[0]
    # errors -0.1, 0.1, 0, 0.2: mean 0.05, SD sqrt(0.05 / 3); the failed replication is counted apart
    assert (row["replications"], row["failed"]) == (4, 1)
    assert row["bias"] == pytest.approx(0.05)
    assert row["bias_mc_se"] == pytest.approx(math.sqrt(0.05 / 3) / 2)
    assert row["empirical_se"] == pytest.approx(np.std([0.1, 0.3, 0.2, 0.4], ddof=1))
    assert row["mean_se"] == pytest.approx(0.1)
    # covered in replications 1, 3 (not 2: 0.25 > 0.2; not 4); zero excluded in 2 and 4
    assert row["coverage"] == 0.5 and row["power"] == 0.5
    assert (row["coverage_low"], row["coverage_high"]) == pytest.approx(clopper_pearson(2, 4))
    # 2 of 4 (Clopper-Pearson 0.068-0.932) already rules out 0.95
    assert row["coverage_high"] < 0.95 and row["verdict"] == "coverage below nominal"
    three_of_four = summarise(rows.assign(covers=[1.0, 1.0, 1.0, 0.0, np.nan])).iloc[0]
    assert three_of_four["verdict"] == "coverage consistent with nominal"


def test_summary_of_a_band_counts_coverage_and_rejections_only():
    rows = _rows([np.nan] * 3, [np.nan] * 3, [np.nan] * 3, estimator="did_band").assign(covers=[1.0, 1.0, 0.0],
                                                                                    rejects=[0.0, 1.0, 1.0])
    row = summarise(rows).iloc[0]
    assert (row["replications"], row["coverage"], row["power"]) == (3, pytest.approx(2 / 3), pytest.approx(2 / 3))
    assert np.isnan(row["bias"]) and np.isnan(row["mean_se"])


def test_summary_says_when_coverage_is_above_nominal_or_there_is_no_truth():
    rows = _rows([0.2] * 100, [0.0] * 100, [0.4] * 100)  # always covers 0.2
    row = summarise(rows).iloc[0]
    assert row["coverage"] == 1 and row["coverage_low"] > 0.95
    assert row["verdict"] == "coverage above nominal"
    row = summarise(rows.assign(truth=np.nan, covers=np.nan)).iloc[0]
    assert row["verdict"] == "no truth: power only" and row["power"] == 0  # 0 lies inside every interval


# ---------------------------------------------------------------------------------------------
# the workflow and the command


def test_the_validation_workflow_plans_one_job_per_scenario_scale_and_seed_with_replications_per_scale(tmp_path):
    command = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "workflow" / "validation" / "Snakefile"),
               "--directory", str(ROOT), "-n", "--quiet", "rules", "--config", "replications=3,2", "scales=1,8",
               "scenarios=effect,null", f"work={tmp_path / 'work'}", f"out={tmp_path / 'chain.csv'}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "src")})
    assert done.returncode == 0, done.stderr[-3000:]
    counts = {line.split()[0]: int(line.split()[1]) for line in done.stdout.splitlines()
              if line.strip() and line.split()[0].startswith("chain_") and line.split()[-1].isdigit()}
    # 2 scenarios x (3 replications at scale 1 + 2 at scale 8)
    assert counts == {"chain_replication": 10, "chain_aggregate": 1, "chain_all": 1}, done.stdout


def test_validate_chain_passes_its_options_to_the_workflow(tmp_path):
    from mentorwijs.cli import _chain_command, build_parser

    args = build_parser().parse_args(["validate", "--chain", "--replications", "5,2", "--scale", "1,8", "--scenarios",
                                      "null", "--cores", "3", "--", "--dry-run"])
    command = _chain_command(args, ROOT)
    assert command[1:3] == ["-m", "snakemake"]
    config = command[command.index("--config") + 1: command.index("--cores")]
    assert config == ["study_config=config.yaml", "replications=5,2", "scales=1,8", "scenarios=null"]
    assert command[-3:] == ["--cores", "3", "--dry-run"]
    for wrong in ("0", "five", "5,"):
        args = build_parser().parse_args(["validate", "--chain", "--replications", wrong])
        with pytest.raises(InputError, match="--replications"):
            _chain_command(args, ROOT)


def test_the_null_scenario_keeps_its_name_through_the_aggregation(tmp_path):
    """pandas reads the text "null" as missing by default; chain.csv must still say which
    scenario a row belongs to."""
    from mentorwijs.chain import aggregate

    rows = pd.DataFrame({"scenario": ["null", "null", "effect", "effect"], "scale": 1, "seed": [1, 2, 1, 2],
                         "estimator": "did_pooled", "method": "matched", "outcome": "employed_1h",
                         "term": "months 1..12", "month": pd.NA, "estimate": [0.01, -0.02, 0.05, 0.07],
                         "se": 0.03, "ci_low": [-0.05, -0.08, -0.01, 0.01], "ci_high": [0.07, 0.04, 0.11, 0.13],
                         "df": 60.0, "truth": [0.0, 0.0, 0.06, 0.06], "truth_realised": [0.0, 0.0, 0.05, 0.06],
                         "covers": [1, 1, 1, 1], "rejects": [0, 0, 0, 1], "truth_source": "x"})
    paths = []
    for (scenario, seed), part in rows.groupby(["scenario", "seed"]):
        path = tmp_path / f"{scenario}_{seed}.csv"
        part.to_csv(path, index=False)
        paths.append(path)
    table = aggregate(paths, tmp_path / "chain.csv")
    assert sorted(table["scenario"]) == ["effect", "null"]
    assert "null" in (tmp_path / "chain.csv").read_text(encoding="utf-8")


def test_more_replications_after_an_aggregation_run_only_the_missing_ones(tmp_path):
    """chain.csv exists and is newer than the finished rows: asking for more replications must
    plan the missing ones (Snakemake 9 alone plans nothing here; the command forces the aggregation)."""
    import os
    import time

    from mentorwijs.cli import _validation_command

    work, out = tmp_path / "work", tmp_path / "chain.csv"
    for seed in (1, 2):
        for name in ("rows", "seconds"):
            path = work / name / "effect" / "scale1" / f"{seed}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x\n")
    out.write_text("aggregated\n")
    later = time.time() + 60
    os.utime(out, (later, later))
    settings = {"study_config": "config.yaml", "replications": 3, "scales": 1, "scenarios": "effect",
                "work": work.as_posix(), "out": out.as_posix()}
    command = _validation_command(ROOT, settings, cores="1", profile=None, extra=["-n", "--quiet", "rules"])
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert done.returncode == 0, done.stderr[-3000:]
    counts = {line.split()[0]: int(line.split()[1]) for line in done.stdout.splitlines()
              if line.strip() and line.split()[0].startswith("chain_") and line.split()[-1].isdigit()}
    assert counts == {"chain_replication": 1, "chain_aggregate": 1, "chain_all": 1}, done.stdout
