"""The power planner (`mentorwijs power`): sizes, the power table, the command's wiring.

The replications themselves are the chain validation's (tests/test_chain.py covers them); here
the workflow run is replaced by a summary written from rows whose rejections are known, so the
power and its Clopper-Pearson limits are checked against counts (and clopper_pearson against R's
binom.test in tests/test_chain.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT
from mentorwijs import cli
from mentorwijs import power as pw
from mentorwijs.chain import clopper_pearson, summarise
from mentorwijs.errors import InputError


def test_the_study_plans_73_matched_trainees_and_a_scale_gives_trainees_times_that():
    # study.md, flow of participants: 73 trainees matched (the synthetic flow reproduces it at scale 1)
    assert pw.study_trainees() == 73
    assert [pw.scale_for_trainees(n) for n in (73, 146, 292, 584)] == [1, 2, 4, 8]
    assert pw.scale_for_trainees(150) == 2.0548
    for n in (73, 146, 150, 292, 300, 584, 600):
        assert pw.planned_trainees(pw.scale_for_trainees(n)) == n


@pytest.mark.parametrize("text", ["0", "1", "73,x", "73,", "-5", "2.5"])
def test_a_number_of_trainees_that_is_not_a_whole_number_of_at_least_2_is_refused(text):
    with pytest.raises(InputError, match="trainees"):
        [pw.scale_for_trainees(n) for n in pw.parse_counts(text, what="trainees", minimum=2)]


def test_replications_are_one_number_for_all_sizes_or_one_per_size():
    assert pw.replication_counts("20", 3) == [20, 20, 20]
    assert pw.replication_counts([200, 40], 2) == [200, 40]
    assert pw.replication_counts(40, 2) == [40, 40]
    with pytest.raises(InputError, match="2 replication counts for 3"):
        pw.replication_counts("20,10", 3)


def _rows(scale: float, n: int, rejections: dict[tuple[str, str, str], int]) -> pd.DataFrame:
    """n replications at ``scale``; per (estimator, outcome, method) the first k reject 0."""
    out = []
    for (estimator, outcome, method), k in rejections.items():
        for seed in range(1, n + 1):
            rejects = int(seed <= k)
            out.append({"scenario": "effect", "scale": scale, "seed": seed, "estimator": estimator, "method": method,
                        "outcome": outcome, "term": "months 1..12" if estimator == "did_pooled" else "horizon 12",
                        "month": np.nan, "estimate": 0.05 + 0.01 * seed, "se": 0.03,
                        "ci_low": 0.01 if rejects else -0.01, "ci_high": 0.1, "df": 60.0, "truth": 0.04,
                        "truth_realised": 0.04, "covers": 1, "rejects": rejects, "truth_source": "x"})
    return pd.DataFrame(out)


REJECTIONS = {1.0: (10, {("did_pooled", "employed_1h", "matched"): 3, ("did_pooled", "employed_1h", "adjusted"): 9,
                         ("did_pooled", "employed_20h", "matched"): 9, ("rmst_difference", "job", "matched"): 4,
                         ("rmst_difference", "work", "matched"): 9}),
              2.0: (8, {("did_pooled", "employed_1h", "matched"): 5, ("did_pooled", "employed_1h", "adjusted"): 1,
                        ("did_pooled", "employed_20h", "matched"): 1, ("rmst_difference", "job", "matched"): 8,
                        ("rmst_difference", "work", "matched"): 1})}


def _summary() -> pd.DataFrame:
    rows = pd.concat([_rows(scale, n, rejections) for scale, (n, rejections) in REJECTIONS.items()], ignore_index=True)
    null = _rows(1.0, 10, {("did_pooled", "employed_1h", "matched"): 1}).assign(scenario="null")
    return summarise(pd.concat([rows, null], ignore_index=True))


def test_the_power_table_holds_the_primary_effect_and_the_rmst_difference_of_the_primary_method_per_size():
    table = pw.power_table(_summary(), scales=[1, 2], method="matched", outcome="employed_1h", survival_outcome="job")
    assert list(table.columns) == list(pw.POWER_COLUMNS)
    got = {(r.estimator, r.trainees): (r.replications, r.power, r.power_low, r.power_high) for r in table.itertuples()}
    expected = {}
    for scale, trainees in ((1.0, 73), (2.0, 146)):
        n, rejections = REJECTIONS[scale]
        for estimator, outcome in (("did_pooled", "employed_1h"), ("rmst_difference", "job")):
            k = rejections[(estimator, outcome, "matched")]
            expected[(estimator, trainees)] = (n, k / n, *clopper_pearson(k, n))
    assert got.keys() == expected.keys()
    for key, values in expected.items():
        assert got[key] == pytest.approx(values, rel=1e-12), key
    assert set(table["outcome"]) == {"employed_1h", "job"} and set(table["method"]) == {"matched"}


def test_the_power_table_refuses_a_summary_without_the_estimand():
    with pytest.raises(InputError, match="no did_pooled rows of 'employed_9h'"):
        pw.power_table(_summary(), scales=[1], method="matched", outcome="employed_9h", survival_outcome="job")
    with pytest.raises(InputError, match="no did_pooled rows"):
        pw.power_table(_summary(), scales=[4], method="matched", outcome="employed_1h", survival_outcome="job")


def test_the_needed_number_of_trainees_is_the_smallest_size_that_reaches_the_target():
    table = pw.power_table(_summary(), scales=[1, 2], method="matched", outcome="employed_1h", survival_outcome="job")
    assert pw.trainees_for_power(table, "rmst_difference", 0.8) == 146  # 4/10, then 8/8
    assert pw.trainees_for_power(table, "did_pooled", 0.8) is None      # 3/10, 5/8


@pytest.fixture()
def repository(tmp_path):
    """A repository folder: config.yaml (work folder inside tmp), its schema, the validation Snakefile."""
    root = tmp_path / "repo"
    (root / "workflow" / "validation").mkdir(parents=True)
    shutil.copytree(ROOT / "workflow" / "schemas", root / "workflow" / "schemas")
    shutil.copy(ROOT / "workflow" / "validation" / "Snakefile", root / "workflow" / "validation" / "Snakefile")
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config["effects"]["validate"]["chain"]["work"] = "work"
    (root / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return root


def test_power_runs_the_chain_workflow_at_each_size_and_writes_the_table_and_the_figure(
    repository, monkeypatch, capsys
):
    ran = []

    def fake_run(command, root, what):  # the workflow's aggregate: the summary of the requested replications
        ran.append(list(command))
        config = dict(item.split("=", 1) for item in command[command.index("--config") + 1: command.index("--cores")])
        Path(config["out"]).parent.mkdir(parents=True, exist_ok=True)
        _summary().to_csv(config["out"], index=False)

    monkeypatch.setattr(cli, "_run_validation_workflow", fake_run)
    out, figure = repository / "docs" / "power.csv", repository / "docs" / "power.png"
    code = cli.main(["power", "--config", str(repository / "config.yaml"), "--trainees", "73,146", "--replications",
                     "10,8", "--cores", "2", "--out", str(out), "--figure", str(figure)])
    assert code == 0
    config = dict(item.split("=", 1) for item in ran[0][ran[0].index("--config") + 1: ran[0].index("--cores")])
    assert (config["scales"], config["replications"], config["scenarios"]) == ("1,2", "10,8", "effect")
    assert config["out"] == (repository / "work" / "power_chain.csv").resolve().as_posix()
    assert ran[0][ran[0].index("--cores") + 1] == "2" and "--forcerun" in ran[0]
    table = pd.read_csv(out)
    assert sorted(zip(table["estimator"], table["trainees"])) == [("did_pooled", 73), ("did_pooled", 146),
                                                                  ("rmst_difference", 73), ("rmst_difference", 146)]
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "rmst_difference: power 80% reached at 146 trainees" in printed
    assert "did_pooled: power 80% not reached" in printed


def test_power_refuses_repeated_sizes_and_mismatched_replications(repository, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_run_validation_workflow", lambda *a: pytest.fail("must not run"))
    assert cli.main(["power", "--config", str(repository / "config.yaml"), "--trainees", "73,73"]) != 0
    assert "repeat a size" in capsys.readouterr().err
    assert cli.main(["power", "--config", str(repository / "config.yaml"), "--trainees", "73,146",
                     "--replications", "1,2,3"]) != 0
    assert "3 replication counts for 2" in capsys.readouterr().err


POWER_ROWS = [{"trainees": 73, "scale": 1.0, "estimator": "did_pooled", "outcome": "employed_1h", "method": "matched",
               "replications": 200, "mean_truth": 0.0412, "power": 0.245, "power_low": 0.187, "power_high": 0.311},
              {"trainees": 73, "scale": 1.0, "estimator": "did_pooled", "outcome": "employed_1h", "method": "adjusted",
               "replications": 200, "mean_truth": 0.0412, "power": 0.5, "power_low": 0.4, "power_high": 0.6},
              {"trainees": 146, "scale": 2.0, "estimator": "did_pooled", "outcome": "employed_1h", "method": "matched",
               "replications": 40, "mean_truth": 0.0409, "power": 0.45, "power_low": 0.29, "power_high": 0.62}]


def test_the_report_states_the_power_of_a_study_of_its_own_size_on_the_primary_method():
    from mentorwijs.messages import load_messages
    from mentorwijs.report import power_paragraph

    en = power_paragraph(POWER_ROWS, "73", "matched", load_messages("en"))["text"]
    assert "synthetic studies with 73 matched trainees" in en
    assert "4.1 percentage points" in en and "in 25% of 200 studies (95% interval 19% to 31%)" in en
    nl = power_paragraph(POWER_ROWS, 146, "matched", load_messages("nl"))["text"]
    assert "met 146 gematchte getrainde werknemers" in nl and "in 45% van 40 studies" in nl


@pytest.mark.parametrize("trainees", [100, "<10", None, ""])
def test_the_report_says_nothing_of_power_for_a_size_the_planner_did_not_run(trainees):
    from mentorwijs.messages import load_messages
    from mentorwijs.report import power_paragraph

    assert power_paragraph(POWER_ROWS, trainees, "matched", load_messages("en")) is None
    assert power_paragraph((), 73, "matched", load_messages("en")) is None
