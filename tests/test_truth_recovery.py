"""The pipeline recovers the synthetic study's known truth (truth.json).

A large synthetic study (`SCALE` times the published numbers of groups, supervisors and
employees: 584 matched trainees against about 13,000 control units; measured: 592 eligible,
583 matched, every standardised difference after matching below 0.02) runs through the
questionnaire part and the register part with the shipped config, seed included.

Estimand. Difference-in-differences on the matched sample and the Kaplan-Meier contrast of
the matched units estimate the effect of the training on the trainees that were matched
(ATT). truth.json gives its realised value: the mean over those very trainees of their two
potential outcomes, simulated with common random numbers (`effects.<outcome>.matched.pooled`,
`survival.<outcome>.matched.rmst_difference`). Comparing with the realised rather than the
expected ATT removes the trainees' own outcome noise from the comparison; the estimates' SEs
(clustered on person) still include it, so |estimate - realised| < 3 SE is conservative.

Paired with a null study (the same seed and scale, `synthetic.effect.log_hr_peak: 0`), whose
controls and trainees' histories up to the end of the training are the same draws, the
difference of the two estimates removes the control side altogether: it is the realised effect
up to the few trainees treated differently (bounds below), a much sharper check than 3 SE.

The supervisors' mixed models are compared with the population change of the truth's latent
model (closed form) within 3 of their SEs: the model's SE is the sampling SE of that contrast.

Measured (seed 3, scale 8, on 2 shared cores): simulate 18-19 s, questionnaire part 11 s (once:
the null study gets the same hand-over), register part 23 s per study, the supervisors' mixed
models 20-33 s; the module about 2.5 minutes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from mentorwijs.codebook import load_codebook
from support.synthetic_study import (config_of, make_repository, raw_folder, run_questionnaire_part, run_register_part,
                             simulate_study)

pytestmark = pytest.mark.slow

#: 8 x the published study: 1,016 supervisors at T0 and 584 matched trainees, so 3 SE of the
#: pooled effect on employed_1h (about 0.038) is below the realised effect (0.042)
SCALE = 8
#: the default pool keeps 22 control units per trainee at this scale, and every covariate balanced
POOL_SCALE = 1
Z = 3.0
OUTCOMES = ("employed_1h", "employed_12h", "employed_3m")
SURVIVAL_OUTCOMES = ("job", "work")


#: what the questionnaire part hands over to the register part (taken into the CBS environment)
HANDOVER = ("data/processed/trainees.parquet", "data/interim/flow/supervisors_long.csv",
            "data/interim/flow/trainees.csv")
QUESTIONNAIRE_RAW = ("castor", "qualtrics", "study")


@pytest.fixture(scope="module")
def study(scale8_study) -> Path:
    """The study at SCALE and POOL_SCALE through both parts: conftest.scale8_study, built once per
    session and shared with test_register_stream."""
    synthetic = config_of(scale8_study)["synthetic"]
    assert (synthetic["scale"], synthetic["pool_scale"]) == (SCALE, POOL_SCALE)
    return scale8_study


@pytest.fixture(scope="module")
def null_study(study, tmp_path_factory) -> Path:
    """The same study without an effect. The effect touches only the trainees' register records,
    so the questionnaire exports are the same bytes and the register part gets the same hand-over.

    Its tests read the primary estimates (did_pooled, rmst) and the matched units only, so it runs
    without the sensitivity analyses and the effect modifiers (their re-matching included): the
    register part then takes about a third of its time. The effect study keeps the shipped
    config (its outputs are also compared byte for byte with committed digests)."""
    root = make_repository(tmp_path_factory.mktemp("null_study"), scale=SCALE, pool_scale=POOL_SCALE, log_hr_peak=0,
                           effects={"sensitivity": ["primary"], "modifiers": []})
    simulate_study(root)
    for folder in QUESTIONNAIRE_RAW:
        files = sorted(p.relative_to(raw_folder(study)) for p in (raw_folder(study) / folder).rglob("*") if p.is_file())
        assert files
        for name in files:
            assert (raw_folder(root) / name).read_bytes() == (raw_folder(study) / name).read_bytes(), name
    for name in HANDOVER:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(study / name, root / name)
    run_register_part(root)
    return root


def truth(root: Path) -> dict:
    import json

    return json.loads((raw_folder(root) / "truth.json").read_text(encoding="utf-8"))


def result(root: Path, table: str, key: str = "outcome") -> pd.DataFrame:
    """A result table by ``key``; the DiD tables' rows of the primary method (effects.primary_method)."""
    frame = pd.read_csv(root / "data" / "processed" / "results" / f"{table}.csv")
    if "method" in frame.columns:
        frame = frame[frame["method"] == config_of(root)["effects"].get("primary_method", "matched")]
    return frame.set_index(key)


def flow_count(root: Path, step: str) -> int:
    flow = result(root, "flow", "step")
    return int(flow.loc[step, "n"])


def test_the_matched_trainees_are_the_truths_matched_trainees(study):
    """The population of the estimand: the truth's eligible trainees, less those off support."""
    matched = truth(study)["effects"]["employed_1h"]["matched"]["n"]
    eligible = truth(study)["effects"]["employed_1h"]["eligible"]["n"]
    assert flow_count(study, "eligible") == eligible
    # the planted off-support trainees lie above every control's score: the pipeline drops them
    # and, at most rarely, one more (no control inside the caliper)
    assert matched - 0.02 * matched <= flow_count(study, "matched") <= matched


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_pooled_effect_is_within_3_se_of_the_realised_att(study, outcome):
    row = result(study, "did_pooled").loc[outcome]
    realised = truth(study)["effects"][outcome]["matched"]["pooled"]
    assert row["converged"] == 1
    assert abs(row["estimate"] - realised) < Z * row["se"], (row["estimate"], row["se"], realised)


@pytest.mark.parametrize("outcome", SURVIVAL_OUTCOMES)
def test_rmst_difference_is_within_3_se_of_the_realised_difference(study, outcome):
    row = result(study, "rmst").loc[outcome]
    realised = truth(study)["survival"][outcome]["matched"]
    assert row["horizon"] == realised["rmst_horizon"]
    assert abs(row["difference"] - realised["rmst_difference"]) < Z * row["se"], (
        row["difference"], row["se"], realised)


def test_the_null_study_shows_no_effect(null_study):
    """With log_hr_peak 0 the realised effect is exactly 0; the primary interval covers it and no
    estimate lies 3 SE away."""
    t = truth(null_study)
    assert all(t["effects"][o]["matched"]["pooled"] == 0 for o in OUTCOMES)
    assert all(t["survival"][o]["matched"]["rmst_difference"] == 0 for o in SURVIVAL_OUTCOMES)
    pooled = result(null_study, "did_pooled")
    primary = pooled.loc[config_of(null_study)["effects"]["primary_outcome"]]
    assert primary["ci_low"] <= 0 <= primary["ci_high"]
    assert (pooled.loc[list(OUTCOMES), "estimate"].abs() < Z * pooled.loc[list(OUTCOMES), "se"]).all(), pooled
    rmst = result(null_study, "rmst")
    assert (rmst.loc[list(SURVIVAL_OUTCOMES), "difference"].abs()
            < Z * rmst.loc[list(SURVIVAL_OUTCOMES), "se"]).all(), rmst


def test_effect_minus_null_estimate_is_the_realised_effect(study, null_study):
    """The two studies share the controls and the trainees' histories up to month 0 (the same
    draws), so the matching is the same and the difference of their estimates is the trainees'
    realised effect. It differs from the truth's only through trainees treated differently:
    k trainees of the truth's matched set the pipeline left out (off support) and u trainees
    with unobserved follow-up months (truth.json counts them as not employed in both worlds,
    the pipeline leaves those months out). Each can move the mean of the trainees' differences
    by at most its range over n: 2/n for a share (1 per month) and 2 * horizon / n for a
    restricted mean time."""
    a, b = truth(study), truth(null_study)
    for outcome in OUTCOMES:  # the same trainees' untreated futures in both studies
        assert a["effects"][outcome]["matched"]["mean_untrained"] == b["effects"][outcome]["matched"]["mean_untrained"]
    matched = pd.read_parquet(study / "data/processed/matched.parquet")
    pd.testing.assert_frame_equal(matched, pd.read_parquet(null_study / "data/processed/matched.parquet"))

    n = flow_count(study, "matched")
    k = a["effects"]["employed_1h"]["matched"]["n"] - n
    panel = pd.read_parquet(study / "data/processed/panel.parquet")
    followup = config_of(study)["anchors"]["followup_months"]
    post = panel[(panel["treated"] == 1) & (panel["month"] >= 1) & (panel["month"] <= followup)]
    u = post.loc[post["observed"] == 0, "unit"].nunique()
    effect, null = result(study, "did_pooled"), result(null_study, "did_pooled")
    for outcome in OUTCOMES:
        paired = effect.loc[outcome, "estimate"] - null.loc[outcome, "estimate"]
        realised = a["effects"][outcome]["matched"]["pooled"]
        assert abs(paired - realised) <= 2 * (k + u) / n, (outcome, paired, realised, k, u)

    survival = pd.read_parquet(study / "data/processed/survival.parquet")
    trainees = survival[survival["treated"] == 1]
    effect, null = result(study, "rmst"), result(null_study, "rmst")
    for outcome in SURVIVAL_OUTCOMES:
        censored = int(((trainees[f"event_{outcome}"] == 0) & (trainees[f"time_{outcome}"] < followup)).sum())
        paired = effect.loc[outcome, "difference"] - null.loc[outcome, "difference"]
        realised = a["survival"][outcome]["matched"]
        assert abs(paired - realised["rmst_difference"]) <= 2 * realised["rmst_horizon"] * (k + censored) / n, \
            (outcome, paired, realised["rmst_difference"], k, censored)


@pytest.fixture(scope="module")
def supervisor_effects_table(study) -> pd.DataFrame:
    from mentorwijs.supervisors import supervisor_effects

    settings = config_of(study)["supervisors"]
    long = pd.read_parquet(study / "data/processed/supervisors_long.parquet")
    effects, _ = supervisor_effects(long, settings["constructs"], reference_wave=settings["reference_wave"],
                                    primary_wave=settings["primary_wave"], optimizers=settings["optimizers"])
    return effects


def test_supervisor_contrasts_are_within_3_se_of_the_population_change(study, supervisor_effects_table):
    """Every wave against T0, per construct. The truth's sample means are of those who answered,
    and drop-out depends on the last scores (missing at random), so they are not the target;
    the model's is the population change."""
    settings = config_of(study)["supervisors"]
    change = truth(study)["supervisors"]["population_change_from_T0"]
    table = supervisor_effects_table.set_index(["construct", "wave"])
    expected = {(c, w) for c in settings["constructs"] for w in change[c]}
    assert set(table.index) == expected
    far = []
    for (construct, wave), row in table.iterrows():
        assert row["converged"] == 1
        if abs(row["estimate"] - change[construct][wave]) >= Z * row["se"]:
            far.append((construct, wave, row["estimate"], row["se"], change[construct][wave]))
    assert not far, far


# --- nothing is typed in: one raw answer changed moves the process table ------------------------
def _copy_questionnaire_study(source: Path, dest: Path) -> Path:
    make_repository(dest)
    raw, to = raw_folder(source), raw_folder(dest)
    for folder in QUESTIONNAIRE_RAW:
        shutil.copytree(raw / folder, to / folder)
    return dest


def _process(root: Path) -> pd.DataFrame:
    from mentorwijs.supervisors.process import process_table

    interim = root / "data" / "interim"
    table = process_table(pd.read_parquet(interim / "supervisors.parquet"),
                          pd.read_parquet(interim / "schedule.parquet"))
    return table.set_index(["measure", "wave", "category"])


def _change_one_answer(path: Path, column: str, old: str, new: str) -> str:
    """Change `column` from `old` to `new` in the first completed survey of a respondent with a
    single row in the file (so the row is kept); returns the respondent's id."""
    lines = path.read_text(encoding="utf-8").split("\n")
    header = lines[0].split(";")
    rows = [line.split(";") for line in lines[1:] if line]
    ids = [row[header.index("Castor Participant ID")] for row in rows]
    for number, row in enumerate(rows, start=1):
        record = dict(zip(header, row))
        if (record["Survey Progress"] == "100" and record["Survey Completed On"] and record[column] == old
                and ids.count(record["Castor Participant ID"]) == 1 and record["Castor Participant ID"].isdigit()):
            assert len(row) == len(header)
            row[header.index(column)] = new
            lines[number] = ";".join(row)
            path.write_text("\n".join(lines), encoding="utf-8")
            return record["Castor Participant ID"]
    raise AssertionError(f"no kept row answers {old} in {column}")


def test_one_raw_answer_moves_the_process_table(synthetic_run, tmp_path):
    before = _copy_questionnaire_study(synthetic_run, tmp_path / "before")
    after = _copy_questionnaire_study(synthetic_run, tmp_path / "after")
    config = config_of(after)
    t1 = after / config["sources"]["supervisors"]["waves"]["T1"]
    item = load_codebook(after / config["sources"]["supervisors"]["codebook"]).item("meetings_attended")
    _change_one_answer(t1, item.raw_name("T1"), "5", "2")
    run_questionnaire_part(before)
    run_questionnaire_part(after)
    old, new = _process(before), _process(after)

    # the untouched study reproduces the truth's dose received (the published 69/17/7/0/1 of 94)
    counts = truth(synthetic_run)["process"]["meetings_attended"]
    dose = old.loc["dose_received"].xs("T1", level="wave")
    assert {c: int(v) for c, v in dose["count"].items()} == {c: int(v) for c, v in counts["counts"].items()}
    assert (dose["n"] == counts["n"]).all()

    moved = (old["count"].fillna(-1) != new["count"].fillna(-1)) | (old["share"].fillna(-1) != new["share"].fillna(-1))
    assert sorted(moved[moved].index) == [("dose_received", "T1", "2"), ("dose_received", "T1", "5")]
    for category, step in (("5", -1), ("2", 1)):
        key = ("dose_received", "T1", category)
        assert new.loc[key, "count"] == old.loc[key, "count"] + step
        assert new.loc[key, "n"] == old.loc[key, "n"] == counts["n"]
        assert new.loc[key, "share"] == pytest.approx(new.loc[key, "count"] / counts["n"], abs=1e-12)
    pd.testing.assert_frame_equal(old.drop(index=moved[moved].index), new.drop(index=moved[moved].index))
