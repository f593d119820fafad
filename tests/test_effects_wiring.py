"""The effects wiring end to end: a simulated matched study through every effect table, the
export's disclosure check, the copy into reports/tables and the figures.

The study is :func:`mentorwijs.effects.montecarlo.simulate_matched_study` (in memory, known
truth) with the columns the register part adds: ``employed_12h`` and ``employed_3m`` in the
panel (``employed_3m`` built from ``employed_1h`` of the month and the two before, so it is not
defined at the panel's first month, the placebo reference month), the ``work`` outcome in the
survival table, and a matched table with ``pscore``, ``employer`` and covariates.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import FIXTURES
from mentorwijs.aggregates import numeric, publish_tables, read_aggregate_tables
from mentorwijs.contracts import CONTRACTS, DOMINANCE_COLUMN, EFFECT_TABLES, QUESTIONNAIRE_TABLES, REGISTER_TABLES
from mentorwijs.disclosure import check_table, export_tables, read_exported_table
from mentorwijs.effects.did import did_pooled
from mentorwijs.effects.modifiers import inherited_pairs, modifier_levels
from mentorwijs.effects.montecarlo import Scenario, simulate_matched_study
from mentorwijs.effects.survival import rmst, rmst_adjusted
from mentorwijs.effects.settings import EffectSettings
from mentorwijs.effects.tables import effect_tables, effects_step
from mentorwijs.errors import ConfigError, InputError
from mentorwijs.figures import FIGURE_NAMES, draw_figures
from mentorwijs.messages import load_messages
from mentorwijs.tables import write_parquet

from test_disclosure import POLICY

SCENARIO = Scenario(n_trainees=60, controls_per_trainee=12, pool_persons=2500, n_cohorts=4)
EFFECTS = {
    "outcomes": ["employed_1h", "employed_12h", "employed_3m"], "primary_outcome": "employed_1h",
    "survival_outcomes": ["job", "work"], "primary_survival_outcome": "job", "rmst_horizon": 12, "level": 0.95,
    "band": {"draws": 2000, "seed_offset": 1}, "ph_split_month": 6,
    "adjusted_covariates": ["age", "temporary_contract"], "primary_method": "matched",
    "modifiers": [{"name": "temporary_contract", "column": "temporary_contract"},
                  {"name": "older", "column": "age", "below": 40}],
    "min_subgroup_trainees": 10,
    "sensitivity": ["primary", "unweighted", "odds_weights", "person_fe", "cohort_month_fe", "cluster=employer",
                    "cloglog"],
}
ANCHORS = {"reference_month": -3, "followup_months": 12, "placebo_reference_month": -24,
           "placebo_post_months": [-23, -15]}


def effect_settings(effects, anchors, seed, register=None) -> EffectSettings:
    """The settings of a configuration with these ``effects`` and ``anchors`` sections and seed
    (and no dominance rule unless ``register`` names one)."""
    return EffectSettings.from_config({"effects": effects, "anchors": anchors, "study": {"seed": seed},
                                       "disclosure": {"register": register or {"min_units": 10}}})


def matched_study(seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """panel, survival, pairs, matched of a simulated study, with the register part's columns."""
    rng = np.random.default_rng(seed)
    study = simulate_matched_study(SCENARIO, rng)
    panel = study.panel.sort_values(["unit", "month"], kind="mergesort").reset_index(drop=True)
    employed = panel["employed_1h"]
    before = [panel.groupby("unit")["employed_1h"].shift(k) for k in (1, 2)]
    panel["employed_3m"] = (((employed == 1) & (before[0] == 1) & (before[1] == 1)).astype("Int64")
                            .where(before[1].notna()))
    panel["employed_12h"] = (employed * (rng.random(len(panel)) < 0.8)).astype("int64")
    panel["hours"] = np.where(employed == 1, 80.0, 0.0)  # not used by the effects; part of the panel's contract
    panel["job_held"] = employed
    survival = study.survival.drop(columns="temporary_contract")
    survival["time_work"], survival["event_work"] = survival["time_job"], survival["event_job"]
    matched = study.survival[["unit", "person", "cohort", "treated", "weight"]].copy()
    matched["pscore"] = np.clip(rng.beta(2, 20, len(matched)), 0.001, 0.999)
    matched["employer"] = [f"werkgever{i:03d}" for i in rng.integers(0, 80, len(matched))]
    matched["temporary_contract"] = study.survival["temporary_contract"].to_numpy()
    matched["age"] = np.round(rng.normal(42, 11, len(matched)), 1)
    return panel, survival, study.pairs, matched


def modifier_pairs_of(study) -> pd.DataFrame:
    """Modifier pairs of the study's modifiers, the controls inheriting the trainee's level (the
    re-matching is the register part's: test_matching.py)."""
    _, _, pairs, matched = study
    parts = []
    for spec in EFFECTS["modifiers"]:
        name, level = modifier_levels(matched, spec)
        parts.append(inherited_pairs(pairs, name, level[(matched.set_index("unit")["treated"] == 1).to_numpy()]))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def study():
    return matched_study()


@pytest.fixture(scope="module")
def tables(study):
    return effect_tables(*study, modifier_pairs=modifier_pairs_of(study),
                         settings=effect_settings(EFFECTS, ANCHORS, 20190501))


def test_every_effect_table_has_exactly_its_contract_columns(tables):
    assert list(tables) == list(EFFECT_TABLES)
    for name, table in tables.items():
        contract = CONTRACTS[name]
        expected = list(contract.column_names) + ([DOMINANCE_COLUMN] if contract.dominance else [])
        assert list(table.columns) == expected, name
        assert len(table) > 0 and not table.duplicated(list(contract.keys)).any(), name
        keys = table[list(contract.keys)].astype(str).apply(tuple, axis=1).tolist()
        resorted = table.sort_values(list(contract.keys), kind="mergesort", na_position="last")
        assert keys == resorted[list(contract.keys)].astype(str).apply(tuple, axis=1).tolist(), name


def test_the_numbers_are_those_of_the_panel(study, tables):
    panel, survival, _, _ = study
    # a trajectory cell is the weighted share of the observed person-months (computed here directly)
    row = tables["trajectories"].query("outcome == 'employed_1h' and group == 'control' and month == 6").iloc[0]
    cell = panel[(panel["treated"] == 0) & (panel["month"] == 6) & (panel["observed"] == 1)]
    assert row["share"] == pytest.approx(np.average(cell["employed_1h"], weights=cell["weight"]), rel=1e-12)
    assert (row["n"], row["n_employed"]) == (len(cell), int(cell["employed_1h"].sum()))
    assert row[DOMINANCE_COLUMN] == pytest.approx(cell["weight"].max() / cell["weight"].sum())
    # the pooled effect is the mean of the monthly effects over the follow-up
    for method in ("matched", "adjusted"):
        by_month = tables["did_by_month"].query("outcome == 'employed_1h' and method == @method and 1 <= month <= 12")
        pooled = tables["did_pooled"].query("method == @method").set_index("outcome").loc["employed_1h"]
        assert pooled["estimate"] == pytest.approx(by_month["estimate"].mean(), rel=1e-12)
        assert (pooled["n_clusters"], pooled["df_resid"]) == (panel["person"].nunique(), panel["person"].nunique() - 1)
        assert 1 < pooled["df"] < pooled["n_clusters"]  # Satterthwaite df: fewer than G - 1
    pooled = tables["did_pooled"].query("method == 'matched'").set_index("outcome").loc["employed_1h"]
    assert (pooled["estimate"]
            == pytest.approx(did_pooled(panel, "employed_1h", -3, followup_months=12).iloc[0]["estimate"]))
    # the adjusted rows take the covariates per unit from the survival table (here joined from matched)
    adjusted = tables["did_pooled"].query("method == 'adjusted'").set_index("outcome").loc["employed_1h"]
    units = survival[["unit"]].merge(study[3][["unit", "age", "temporary_contract"]], on="unit")
    expected = did_pooled(panel, "employed_1h", -3, followup_months=12, covariates=units).iloc[0]
    assert (adjusted["estimate"], adjusted["se"], adjusted["df"]) == pytest.approx(
        (expected["estimate"], expected["se"], expected["df"]), rel=1e-12)
    # the RMST table holds both estimators per survival outcome, the adjusted one with the same covariates
    with_covariates = survival.merge(study[3][["unit", "age", "temporary_contract"]], on="unit")
    for outcome in ("job", "work"):
        rows = tables["rmst"].query("outcome == @outcome").set_index("method")
        assert sorted(rows.index) == ["adjusted", "matched"]
        plain = rmst(survival, outcome, 12).iloc[0]
        adjusted = rmst_adjusted(with_covariates, outcome, 12, ["age", "temporary_contract"]).iloc[0]
        for method, expected in (("matched", plain), ("adjusted", adjusted)):
            assert rows.loc[method, ["difference", "se", "rmst_control"]].astype(float).tolist() == pytest.approx(
                [expected["difference"], expected["se"], expected["rmst_control"]], rel=1e-12), (outcome, method)
        assert rows.loc["adjusted", "difference"] != pytest.approx(rows.loc["matched", "difference"], rel=1e-6)
        assert (rows.loc["adjusted", ["n_treated", "n_control"]].tolist()
                == rows.loc["matched", ["n_treated", "n_control"]].tolist())
    # the survival tables count the survival table's units and events
    cox = tables["survival"].query("outcome == 'job' and model == 'primary' and term == 'treated'").iloc[0]
    assert (cox["n_treated"], cox["n_event"]) == (int(survival["treated"].sum()), int(survival["event_job"].sum()))
    # the sensitivity analysis clustered on the employer uses the employer joined from matched
    employer = tables["sensitivity"].query("analysis == 'cluster=employer'")
    assert (employer["n_clusters"] == study[3]["employer"].nunique()).all()


def test_the_placebo_says_where_an_outcome_is_not_defined(tables):
    placebo = tables["placebo"]
    three = placebo[placebo["outcome"] == "employed_3m"]
    assert (three["converged"] == 0).all() and three["estimate"].isna().all()
    assert three.iloc[0]["converged"] == 0 and np.isnan(three.iloc[0]["estimate"])
    assert "placebo not estimable" in three.iloc[0]["warnings"] and "-24" in three.iloc[0]["warnings"]
    assert sorted(three["method"]) == ["adjusted", "matched"] and len(three) == 2
    one = placebo[placebo["outcome"] == "employed_1h"]
    assert sorted(one["term"].unique()) == ["month", "pooled"] and len(one) == 20
    assert (one.groupby("method").size() == 10).all()
    assert np.isfinite(one["estimate"]).all()


def test_every_table_passes_the_disclosure_check_and_reaches_the_documents(study, tmp_path):
    panel, survival, pairs, matched = study
    processed = tmp_path / "data" / "processed"
    for name, frame in (("panel", panel), ("survival", survival), ("pairs", pairs), ("matched", matched),
                        ("modifier_pairs", modifier_pairs_of(study))):
        if "cohort" in frame.columns:  # the files carry the cohort as its calendar month (docs/files.md)
            frame = frame.assign(cohort=[f"2020-{c + 1:02d}" for c in frame["cohort"]])
        write_parquet(frame, processed / f"{name}.parquet")
    results = processed / "results"
    effects_step(panel=processed / "panel.parquet", survival=processed / "survival.parquet",
                 pairs=processed / "pairs.parquet", matched=processed / "matched.parquet",
                 modifier_pairs=processed / "modifier_pairs.parquet", out_folder=results,
                 settings=effect_settings(EFFECTS, ANCHORS, 20190501))
    for name in set(REGISTER_TABLES) - set(EFFECT_TABLES):  # the matching's and flow tables: committed fixtures
        shutil.copy(FIXTURES / "results" / f"{name}.csv", results / f"{name}.csv")
    exported = export_tables(results, tmp_path / "export", POLICY, kinds=list(REGISTER_TABLES))
    assert sorted(exported.files) == sorted([f"tables/{n}.csv" for n in REGISTER_TABLES]
                                            + ["README.md", "output_check_log.csv", "SHA256SUMS"])
    for name in REGISTER_TABLES:
        shown = read_exported_table(tmp_path / "export" / "tables" / f"{name}.csv")
        assert list(shown.columns) == list(CONTRACTS[name].column_names), name  # no check-only column leaves
    reports = tmp_path / "reports" / "tables"
    published = [n for n in REGISTER_TABLES if n != "exclusions"]
    publish_tables({n: tmp_path / "export" / "tables" / f"{n}.csv" for n in published},
                   {n: reports / f"{n}.csv" for n in published})
    shutil.copy(tmp_path / "export" / "tables" / "exclusions.csv", reports / "exclusions.csv")
    for name in QUESTIONNAIRE_TABLES:  # the questionnaire part's tables: the report fixtures
        shutil.copy(FIXTURES / "tables" / "default" / f"{name}.csv", reports / f"{name}.csv")
    documents = read_aggregate_tables(reports)
    assert documents.missing == ()
    pooled = documents.get("did_pooled").query("method == 'matched'").set_index("outcome")
    written = pd.read_csv(results / "did_pooled.csv").query("method == 'matched'").set_index("outcome")
    assert numeric(pooled, "estimate")["employed_1h"] == pytest.approx(written.loc["employed_1h", "estimate"], rel=1e-7)
    records = draw_figures(documents, tmp_path / "figures", load_messages("en"), reference_month=-3)
    assert [r.name for r in records] == list(FIGURE_NAMES)


def test_the_kaplan_meier_curves_are_coarsened_where_few_trainees_leave(tables):
    km, log = check_table(tables["km"], "km", POLICY)
    assert (log["rule"] == "km_events").any()  # few treated events a month: steps are carried forward
    events = pd.to_numeric(km.loc[km["n_event"] != "<10", "n_event"])
    assert ((events == 0) | (events >= 10)).all()


def test_a_unit_missing_from_matched_is_an_input_error(study):
    panel, survival, pairs, matched = study
    with pytest.raises(InputError, match="without a row in the matched table"):
        effect_tables(panel, survival, pairs, matched.iloc[1:], settings=effect_settings(EFFECTS, ANCHORS, 1))


def test_the_primary_method_setting_is_checked_and_passed_on(study):
    settings = effect_settings({**EFFECTS, "primary_method": "adjusted"}, ANCHORS, 20190501)
    assert settings.primary_method == "adjusted"
    assert effect_settings(EFFECTS, ANCHORS, 20190501).primary_method == "matched"
    with pytest.raises(ConfigError, match="key effects.primary_method is required"):  # the schema has no default
        effect_settings({k: v for k, v in EFFECTS.items() if k != "primary_method"}, ANCHORS, 20190501)
    with pytest.raises(InputError, match="unknown primary method"):
        effect_tables(*study, settings=effect_settings({**EFFECTS, "primary_method": "weighted"}, ANCHORS, 20190501))
    with pytest.raises(InputError, match="adjusted_covariates is empty"):
        effect_tables(*study, settings=effect_settings({**EFFECTS, "primary_method": "adjusted",
                                                        "adjusted_covariates": []}, ANCHORS, 20190501))


def test_the_adjusted_primary_method_reaches_the_e_values_of_the_did_and_the_rmst(study, tables):
    """With effects.primary_method: adjusted the E-values convert the adjusted pooled DiD and the
    adjusted RMST difference; the matched default converts the matched ones."""
    adjusted = effect_tables(*study, settings=effect_settings({**EFFECTS, "primary_method": "adjusted", "modifiers": [],
                                                               "sensitivity": []}, ANCHORS, 20190501))
    for result, method in ((tables, "matched"), (adjusted, "adjusted")):
        confounding = result["confounding"].set_index("estimand")
        pooled = result["did_pooled"].query("outcome == 'employed_1h' and method == @method").iloc[0]
        restricted = result["rmst"].query("outcome == 'job' and method == @method").iloc[0]
        assert (confounding.loc["pooled difference-in-differences", "estimate"]
                == pytest.approx(pooled["estimate"], rel=1e-12))
        assert (confounding.loc["RMST difference at 12 months", "estimate"]
                == pytest.approx(restricted["difference"], rel=1e-12))
        assert (confounding.loc["RMST difference at 12 months", "ci_low"]
                == pytest.approx(restricted["ci_low"], rel=1e-12))
    # the two settings write the same estimates: only the choice differs
    pd.testing.assert_frame_equal(adjusted["rmst"], tables["rmst"])


def test_the_modifiers_table_holds_both_estimators_with_cr2(tables):
    """Each modifier level appears once per DiD estimator; a level with an estimate has a
    Satterthwaite df and a CR1 SE, an interaction row its own df."""
    mod = tables["modifiers"]
    assert sorted(mod["method"].unique()) == ["adjusted", "matched"]
    per_method = mod.groupby("method")[["modifier", "level"]].apply(lambda d: sorted(map(tuple, d.to_numpy())))
    assert per_method["matched"] == per_method["adjusted"]
    shown = mod[mod["estimate"].notna()]
    assert (shown["df"] > 0).all() and (shown["se_cr1"] > 0).all()
    inter = mod[mod["interaction"].notna()]
    assert len(inter) and (inter["interaction_df"] > 0).all()
    adjusted, matched = (mod.loc[mod["method"] == m, "estimate"].to_numpy(dtype=float) for m in ("adjusted", "matched"))
    assert not np.allclose(adjusted, matched, equal_nan=True)  # the adjustment changes the estimates
