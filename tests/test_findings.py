"""Wording by the inference hierarchy: effect, no clear effect, possible harm.

The three fixture scenarios were written with known findings (tests/fixtures/tables/
make_tables.py): ``default`` shows an effect, ``null`` none, ``harmful`` harm to work.
"""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import FIXTURES
from mentorwijs.aggregates import read_aggregate_tables
from mentorwijs.findings import (
    EFFECT,
    NO_CLEAR_EFFECT,
    POSSIBLE_HARM,
    employment_finding,
    interval_verdict,
    key_findings,
    retention_finding,
    statements,
    supervisor_findings,
)
from mentorwijs.messages import load_messages

EXPECTED = {  # scenario -> (employment, retention, supervisors)
    "default": (EFFECT, EFFECT, EFFECT),
    "null": (NO_CLEAR_EFFECT, NO_CLEAR_EFFECT, NO_CLEAR_EFFECT),
    "harmful": (POSSIBLE_HARM, POSSIBLE_HARM, EFFECT),
}


@pytest.mark.parametrize(
    ("low", "high", "verdict"),
    [(0.01, 0.2, EFFECT), (-0.2, -0.01, POSSIBLE_HARM), (-0.05, 0.1, NO_CLEAR_EFFECT), (0.0, 0.1, NO_CLEAR_EFFECT),
     ("<10", 0.2, NO_CLEAR_EFFECT), ("", "", NO_CLEAR_EFFECT)],
)
def test_interval_verdict(low, high, verdict):
    assert interval_verdict(low, high) == verdict


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def scenario(request):
    return request.param, read_aggregate_tables(FIXTURES / "tables" / request.param)


def test_scenarios_give_their_known_verdicts(scenario):
    name, tables = scenario
    found = key_findings(tables)
    assert (found.employment.verdict, found.retention.verdict, found.supervisors.verdict) == EXPECTED[name]
    assert found.employment.role == "primary" and found.retention.role == "supportive"


@pytest.mark.parametrize("language", ["nl", "en"])
def test_null_scenario_claims_no_effect(language):
    m = load_messages(language)
    tables = read_aggregate_tables(FIXTURES / "tables" / "null")
    said = statements(key_findings(tables), m)
    assert all(s.verdict == NO_CLEAR_EFFECT for s in said)
    text = " ".join(s.text + " " + s.headline for s in said)
    claims = {"nl": ["vaker betaald werk", "langer bij hun werkgever", "scoorden leidinggevenden hoger",
                     "ondersteunt de hoofduitkomst"],
              "en": ["more often in paid work", "months longer", "supervisors scored higher",
                     "supports the main outcome"]}
    for claim in claims[language]:
        assert claim not in text
    assert m.t("findings.support.agrees_no_clear_effect") in text
    assert {"nl": "niet aangetoond", "en": "has not been shown"}[language] in text


def test_default_scenario_states_the_effect_with_its_numbers():
    m = load_messages("nl")
    tables = read_aggregate_tables(FIXTURES / "tables" / "default")
    work = statements(key_findings(tables), m)[0]
    row = tables.get("did_pooled").query("outcome == 'employed_1h' and method == 'matched'").iloc[0]
    points = f"{float(row['estimate']) * 100:.1f}".replace(".", ",")
    assert points in work.text and "procentpunt meer" in work.text
    assert work.text.endswith("Methode: gematchte verschil-in-verschillenanalyse.")  # the primary method is named
    assert "tot" in work.text and work.headline == f"+{points} procentpunt"


def test_the_primary_method_decides_which_estimate_is_stated_and_is_named():
    tables = read_aggregate_tables(FIXTURES / "tables" / "default")
    pooled = tables.get("did_pooled").query("outcome == 'employed_1h'").set_index("method")
    for method, name in (("matched", "matched difference-in-differences"),
                         ("adjusted", "regression-adjusted matched difference-in-differences")):
        found = key_findings(tables, method=method).employment
        assert found.estimate == pytest.approx(float(pooled.loc[method, "estimate"]))
        assert found.details["method"] == method
        work = statements(key_findings(tables, method=method), load_messages("en"))[0]
        assert work.text.endswith(f"Method: {name}.")


def test_the_primary_method_decides_which_rmst_difference_supports_the_finding():
    tables = read_aggregate_tables(FIXTURES / "tables" / "default")
    rmst = tables.get("rmst").query("outcome == 'job'").set_index("method")
    assert sorted(rmst.index) == ["adjusted", "matched"]
    assert float(rmst.loc["adjusted", "difference"]) != pytest.approx(float(rmst.loc["matched", "difference"]))
    for method in ("matched", "adjusted"):
        found = key_findings(tables, method=method).retention
        assert (found.estimate, found.ci_low, found.ci_high) == pytest.approx(
            tuple(float(rmst.loc[method, c]) for c in ("difference", "ci_low", "ci_high")))
        assert found.details["rmst_control"] == pytest.approx(float(rmst.loc[method, "rmst_control"]))
        assert found.details["method"] == method
    # a table written before the column existed is read whole
    assert retention_finding(_rmst(0.1, 0.9), method="adjusted").estimate == pytest.approx(0.5)


def test_harm_is_named_as_possible_harm():
    m = load_messages("en")
    said = statements(key_findings(read_aggregate_tables(FIXTURES / "tables" / "harmful")), m)
    assert "possible harm" in said[0].text and said[0].verdict == POSSIBLE_HARM
    assert said[1].text.endswith(m.t("findings.support.agrees_possible_harm"))


def _pooled(low, high):
    return pd.DataFrame({"outcome": ["employed_1h"], "months": ["1-12"], "estimate": [str((low + high) / 2)],
                         "ci_low": [str(low)], "ci_high": [str(high)]})


def _rmst(low, high):
    return pd.DataFrame({"outcome": ["job"], "horizon": ["12"], "rmst_treated": ["10.4"], "rmst_control": ["9.8"],
                         "difference": [str((low + high) / 2)], "ci_low": [str(low)], "ci_high": [str(high)]})


def _supervisors(p_holm):
    rows = [{"construct": c, "wave": "T1", "estimate": "0.4", "ci_low": "0.2", "ci_high": "0.6", "p_holm": str(p_holm)}
            for c in ("knowledge", "self_efficacy", "intention", "behaviour")]
    return pd.DataFrame(rows)


def test_a_supportive_result_never_upgrades_a_null_primary():
    m = load_messages("en")
    from mentorwijs.findings import KeyFindings

    found = KeyFindings(employment_finding(_pooled(-0.02, 0.08)), retention_finding(_rmst(0.1, 0.9)),
                        supervisor_findings(_supervisors(0.5)))
    work, retention, supervisors = statements(found, m)
    assert work.verdict == NO_CLEAR_EFFECT and retention.verdict == EFFECT
    assert retention.text.endswith(m.t("findings.support.differs_no_clear_effect"))
    assert supervisors.verdict == NO_CLEAR_EFFECT and "no clear change" in supervisors.text


def test_band_months_only_locate_an_effect_the_primary_shows():
    by_month = pd.DataFrame({"outcome": ["employed_1h"] * 4, "month": ["-1", "5", "6", "9"],
                             "band_low": ["0.01", "0.01", "0.02", "-0.01"], "band_high": ["0.2", "0.2", "0.2", "0.2"]})
    assert employment_finding(_pooled(0.01, 0.1), by_month).details["band_months"] == [5, 6]
    assert employment_finding(_pooled(-0.01, 0.1), by_month).details["band_months"] == []


def test_supervisor_contrast_uses_holm_adjusted_p_and_names_the_ceiling():
    effects = _supervisors(0.2)
    effects.loc[effects["construct"].isin(["knowledge", "self_efficacy"]), "p_holm"] = "0.001"
    means = pd.DataFrame({"construct": ["knowledge", "self_efficacy", "intention", "behaviour"], "wave": ["T0"] * 4,
                          "mean": ["3.4", "3.6", "4.3", "4.1"]})
    found = supervisor_findings(effects, means)
    assert found.details["improved"] == ["knowledge", "self_efficacy"]
    assert found.details["unchanged"] == ["intention", "behaviour"]
    from mentorwijs.findings import KeyFindings

    text = statements(KeyFindings(employment_finding(_pooled(0.01, 0.1)), retention_finding(_rmst(0.1, 0.9)), found),
                      load_messages("en"))[2].text
    assert "knowledge (+0.40) and self-efficacy (+0.40)" in text
    assert "already high" in text and "4.1" in text


def test_duplicate_rows_are_an_input_error():
    from mentorwijs.errors import InputError

    with pytest.raises(InputError, match="exactly one"):
        employment_finding(pd.concat([_pooled(0.01, 0.1)] * 2))


def test_an_interval_beside_zero_is_never_printed_as_touching_it():
    from mentorwijs.findings import ci_decimals

    assert ci_decimals(-0.87, -0.044) == 2  # "-0.9 to 0.0" would contradict the verdict
    assert ci_decimals(0.2, 1.0) == 1
    assert ci_decimals(0.0001, 0.2, scale=100) == 2
    said = statements(key_findings(read_aggregate_tables(FIXTURES / "tables" / "harmful")), load_messages("en"))
    assert "to \u22120.04)" in said[1].text
