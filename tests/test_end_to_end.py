"""The whole workflow on the built-in synthetic study: the one slow end-to-end run.

`snakemake all` runs once (the session fixture `synthetic_run`, in a time zone, locale and hash
seed other than those of the committed list of output digests); the published study's numbers
(study.md) must come out of the raw exports, nothing personal may reach a reader, and every
output must have the bytes of tests/fixtures/default_outputs.sha256. Expected numbers are the
publication's, not this code's output.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT
from support.notebook_runner import run_notebook
from support.pdfbytes import page_count
from support.synthetic_run import run_snakemake

sys.path.insert(0, str(ROOT / "tools"))
import output_digests  # noqa: E402

pytestmark = pytest.mark.slow

DIGESTS = ROOT / "tests" / "fixtures" / "default_outputs.sha256"

# study.md, "Flow of participants"
PUBLISHED_FLOW = {
    ("supervisors", "invited"): 164,
    ("supervisors", "completed_T0"): 127,
    ("supervisors", "completed_T1"): 95,
    ("supervisors", "completed_T2"): 91,
    ("supervisors", "completed_T3"): 87,
    ("employees", "completed_questionnaire"): 118,
    ("employees", "excluded_refused_linkage"): 32,
    ("employees", "sent_to_cbs"): 86,
    ("employees", "excluded_not_found_in_register"): 8,
    ("employees", "found_in_register"): 78,
    ("employees", "excluded_without_paid_work_at_baseline"): 4,
    ("employees", "eligible"): 74,
    ("employees", "excluded_off_common_support"): 1,
    ("employees", "matched"): 73,
}
PUBLISHED_CONTROLS = 1526


def _table(root: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(root / "reports" / "tables" / f"{name}.csv", dtype=str, keep_default_na=False)


def _number(text: str) -> float:
    return float(text) if text not in ("", "<10") else float("nan")


def test_the_published_flow_comes_out_of_the_raw_exports(synthetic_run):
    flow = _table(synthetic_run, "flow")
    counts = {(r.population, r.step): int(r.n) for r in flow.itertuples(index=False)}
    for key, n in PUBLISHED_FLOW.items():
        assert counts.get(key) == n, f"{key}: {counts.get(key)} against the published {n}"
    # The published 1,526 control persons came from matching exact on region pair and cohort
    # only. Exact cells on the binary covariates (matching.exact) hold fewer controls within the
    # caliper (docs/register.md), so the default study keeps fewer: at least 10 per trainee and
    # no more than the published count allows.
    controls = counts[("controls", "matched_control_persons")]
    assert 10 * PUBLISHED_FLOW[("employees", "matched")] <= controls <= 1.10 * PUBLISHED_CONTROLS, controls
    breakdown = (counts[("employees", "of_which_matched_in_full_exact_cell")]
                 + counts[("employees", "of_which_matched_after_coarsening")])
    assert breakdown == counts[("employees", "matched")]


def test_published_process_and_employee_figures_are_reproduced(synthetic_run):
    process = _table(synthetic_run, "process")
    row = {(r.measure, r.wave, r.category): r for r in process.itertuples(index=False)}
    # dose received at T1: 69/17/7/0/1 of 94 answering
    assert [int(row[("dose_received", "T1", str(k))].count) for k in (5, 4, 3, 2, 1)] == [69, 17, 7, 0, 1]
    assert {int(row[("dose_received", "T1", str(k))].n) for k in range(1, 6)} == {94}
    # guidance takes more time: 24/95, 28/91, 23/87; extra hours a week 6.6 (8.3), 5.5 (4.8), 4.7 (3.9)
    for wave, (yes, n, mean, sd) in {"T1": (24, 95, 6.6, 8.3), "T2": (28, 91, 5.5, 4.8),
                                     "T3": (23, 87, 4.7, 3.9)}.items():
        extra = row[("extra_time", wave, "1")]
        assert (int(extra.count), int(extra.n)) == (yes, n)
        hours = row[("extra_hours", wave, "")]
        assert (round(float(hours.mean), 1), round(float(hours.sd), 1)) == (mean, sd)
    # satisfaction 1-5: general 4.4 (0.6), meetings 4.4 (0.5), trainers 4.7 (0.9), content, methods, structure 4.4 (0.9)
    published = {"general": (4.4, 0.6), "meetings": (4.4, 0.5), "trainers": (4.7, 0.9), "content": (4.4, 0.9),
                 "methods": (4.4, 0.9), "structure": (4.4, 0.9)}
    for item, (mean, sd) in published.items():
        r = row[(f"satisfaction_{item}", "T1", "")]
        assert (round(float(r.mean), 1), round(float(r.sd), 1)) == (mean, sd), item
    # dose delivered: 14 of 19 trainings on site
    assert int(row[("dose_delivered", "", "on_site")].count) == 14

    employees = _table(synthetic_run, "employees_baseline")
    e = {(r.measure, r.category): r for r in employees.itertuples(index=False)}
    occupation = [round(100 * float(e[("occupation", str(k))].share)) for k in range(1, 7)]
    assert occupation == [41, 26, 17, 6, 6, 4]
    disability = [round(100 * float(e[("disability", str(k))].share)) for k in range(1, 6)]
    assert disability == [35, 25, 22, 18, 19]
    assert round(100 * float(e[("work_ability", "4-5")].share)) == 62
    assert round(100 * float(e[("job_satisfaction", "4-5")].share)) == 81
    demands = e[("work_ability_demands", "")]
    assert (round(float(demands.mean), 1), round(float(demands.sd), 1)) == (6.0, 0.9)


def test_matching_balances_every_published_covariate(synthetic_run):
    balance = _table(synthetic_run, "balance")
    after = balance["smd_after"].map(_number).dropna()
    assert len(after) >= 10 and (after.abs() < 0.1).all(), balance[["covariate", "smd_after"]]
    # the pairwise interactions of the binary covariates and the prognostic score are there too
    assert "prognostic_score" in set(balance["covariate"])
    assert "benefit_sickness_disability:sheltered" in set(balance["covariate"])


def test_every_modifier_control_lies_in_its_level_and_the_table_reads_only_those_pairs(synthetic_run):
    from mentorwijs.effects.modifiers import modifier_levels
    from mentorwijs.effects.settings import EffectSettings

    processed = synthetic_run / "data" / "processed"
    pairs = pd.read_parquet(processed / "modifier_pairs.parquet")
    survival = pd.read_parquet(processed / "survival.parquet")
    config = yaml.safe_load((synthetic_run / "config.yaml").read_text(encoding="utf-8"))
    specs = config["effects"]["modifiers"]
    register = [s for s in specs if not str(s.get("column", s["name"])).startswith("sup_")]
    assert register and set(pairs["modifier"]) == {s["name"] for s in specs}
    # the panel and survival tables hold every unit of the pairs; the main sample is marked
    units = set(survival["unit"])
    assert set(pairs["treated_unit"]) <= units and set(pairs["control_unit"].dropna()) <= units
    for spec in register:
        name, level = modifier_levels(survival, spec)
        mine = pairs[(pairs["modifier"] == name) & pairs["control_unit"].notna()]
        assert len(mine) > 0
        own = mine["control_unit"].map(level)
        assert (own == mine["level"]).all(), (name, mine.loc[own != mine["level"]].head())
        assert (mine["treated_unit"].map(level) == mine["level"]).all(), name
    # the modifiers table is what the pairs give: recompute it from the pairs alone
    from mentorwijs.effects.modifiers import modifiers

    settings = EffectSettings.from_config(config).as_params()
    panel = pd.read_parquet(processed / "panel.parquet")
    again = modifiers(panel, pairs, [s["name"] for s in specs], outcome=settings["primary_outcome"],
                      reference_month=settings["reference_month"], followup_months=settings["followup_months"],
                      min_trainees=settings["min_subgroup_trainees"], level=settings["level"])
    written = pd.read_csv(processed / "results" / "modifiers.csv")
    written = written[written["method"] == "matched"]  # the adjusted rows need the covariate table
    for column in ("estimate", "se", "df", "se_cr1", "interaction", "interaction_se", "interaction_df"):
        expected = again.sort_values(["modifier", "level"])[column].to_numpy(dtype=float)
        np.testing.assert_allclose(written.sort_values(["modifier", "level"])[column].to_numpy(dtype=float), expected,
                                   rtol=1e-7, equal_nan=True)


def test_the_supervisors_published_pattern_holds(synthetic_run):
    effects = _table(synthetic_run, "supervisor_effects")
    t1 = effects[effects["wave"] == "T1"].set_index("construct")
    for construct in ("knowledge", "self_efficacy"):  # improved significantly
        assert float(t1.loc[construct, "ci_low"]) > 0, construct
    assert set(effects["converged"]) == {"1"}


def test_every_table_document_and_figure_a_reader_gets_is_there(synthetic_run):
    tables = {p.stem for p in (synthetic_run / "reports" / "tables").glob("*.csv")}
    expected = {"flow", "exclusions", "data_quality", "reliability", "balance", "ps_overlap", "trajectories",
                "did_by_month", "did_pooled", "placebo", "survival", "km", "rmst", "ph_test", "modifiers",
                "sensitivity", "supervisor_effects", "supervisor_means", "attrition", "process", "employees_baseline"}
    assert expected <= tables, expected - tables
    for name in ("report", "factsheet"):
        assert (synthetic_run / "reports" / f"{name}.html").stat().st_size > 0
    assert page_count((synthetic_run / "reports" / "factsheet.pdf").read_bytes()) == 2
    provenance = json.loads((synthetic_run / "reports" / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["seed"] == provenance["config"]["study"]["seed"]


@pytest.mark.parametrize("notebook", ["employment_effects.ipynb", "supervisors.ipynb"])
def test_the_notebooks_reproduce_the_report_tables_from_the_contract_files(synthetic_run, notebook):
    run_notebook(ROOT / "notebooks" / notebook, synthetic_run)


def test_nothing_personal_reaches_interim_processed_export_or_reports(synthetic_run):
    raw = synthetic_run / "data" / "raw" / "synthetic"
    employees = pd.read_csv(raw / "qualtrics" / "Mentorwijs_werknemers.csv", dtype=str, skiprows=[1, 2]).fillna("")
    invitations = pd.read_csv(raw / "study" / "uitnodigingen.csv", sep=";", encoding="cp1252", dtype=str).fillna("")
    tokens = set()
    for column in ("bsn", "achternaam", "email", "postcode", "IPAddress", "RecipientEmail", "ExternalReference",
                   "opmerking"):
        tokens |= {v for v in employees[column] if len(v) >= 6}
    for column in ("naam", "email"):
        tokens |= {v for v in invitations[column] if len(v) >= 6}
    tokens |= {v for v in employees["geboortedatum"] if v}
    assert len(tokens) > 300
    from support.pdfbytes import inflate
    from support.scan import any_of

    pattern = any_of(tokens)
    assert all(pattern.fullmatch(t.encode("utf-8")) for t in tokens)  # it finds every token

    for folder in ("data/interim", "data/processed", "export", "reports"):
        for path in sorted((synthetic_run / folder).rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                if path.suffix == ".pdf":
                    data = inflate(data)
                found = pattern.search(data)
                assert found is None, f"{path.relative_to(synthetic_run)} holds {found.group(0)!r}"


def test_a_rerun_schedules_nothing_and_every_output_has_the_committed_bytes(synthetic_run):
    """The run (in its own folder, time zone, locale and hash seed: conftest.synthetic_run) wrote
    exactly the files of the committed list, byte for byte. The list was made by
    `python tools/output_digests.py RUN --write tests/fixtures/default_outputs.sha256` on a run
    in another folder under TZ=UTC, LC_ALL=C.UTF-8, PYTHONHASHSEED=1; a change that is meant to
    change outputs rewrites it and says why in its commit. A machine with other PDF libraries
    compares all but the PDFs; a run with other numerical kernels (not x86-64 with AVX2) only the
    list of files (tools/output_digests.check)."""
    dry = run_snakemake(synthetic_run, "all", "-n")
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr, dry.stdout[-2000:]

    expected, made_with = output_digests.parse(DIGESTS.read_text(encoding="utf-8"))
    problems, notes = output_digests.check(expected, made_with, synthetic_run)
    for note in notes:  # PDFs: Pango and HarfBuzz; everything else: the numerical kernels (docs/register.md)
        warnings.warn(note, stacklevel=1)
    assert problems == [], "\n".join(problems)
    assert len(expected) > 150 and any(path.endswith("report.pdf") for path in expected)
