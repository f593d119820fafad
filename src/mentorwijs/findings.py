"""What the estimates allow a reader to be told, by the inference hierarchy of the study.

The hierarchy was fixed before the results (study.md): the **primary** finding is the pooled
post-training effect on ``employed_1h``; the **key secondary** finding is the monthly effects
with their simultaneous 95% band; everything else is **supportive** (the RMST difference of the
baseline job, other outcomes, modifiers, sensitivity analyses). The supervisors' question has
its own primary contrast per construct: T1 versus T0, Holm-adjusted over the constructs.

Each finding gets one of three verdicts from its 95% interval (or Holm-adjusted p-value):

- ``effect``: the interval lies above 0 (benefit);
- ``possible_harm``: the interval lies below 0;
- ``no_clear_effect``: the interval covers 0. No effect is claimed, whatever the point estimate.

Wording follows from the verdicts (:func:`statements`): only the primary finding may say that
the training had an effect on work; a supportive finding is described as supporting, or not
supporting, the primary one and never replaces it; the monthly band is mentioned only to
locate an effect the primary analysis shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd

from mentorwijs.aggregates import AggregateTables, numeric
from mentorwijs.contracts import PRIMARY_METHOD, method_rows
from mentorwijs.errors import InputError
from mentorwijs.formatting import as_float
from mentorwijs.messages import Messages

EFFECT, NO_CLEAR_EFFECT, POSSIBLE_HARM = "effect", "no_clear_effect", "possible_harm"
VERDICTS = (EFFECT, NO_CLEAR_EFFECT, POSSIBLE_HARM)
PRIMARY_OUTCOME = "employed_1h"
CONSTRUCTS = ("knowledge", "self_efficacy", "intention", "behaviour")


def interval_verdict(ci_low: Any, ci_high: Any) -> str:
    """``effect`` when the 95% interval lies above 0, ``possible_harm`` below 0, else ``no_clear_effect``.

    A missing or suppressed bound gives ``no_clear_effect``: nothing can be claimed from it.
    """
    low, high = as_float(ci_low), as_float(ci_high)
    if low is None or high is None:
        return NO_CLEAR_EFFECT
    if low > 0:
        return EFFECT
    if high < 0:
        return POSSIBLE_HARM
    return NO_CLEAR_EFFECT


@dataclass(frozen=True)
class Finding:
    """One finding: where it stands in the hierarchy, its verdict and the numbers behind it."""

    topic: str
    role: str
    verdict: str
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


def _one_row(df: pd.DataFrame, table: str, **where: Any) -> pd.Series:
    rows = df
    for column, value in where.items():
        rows = rows[rows[column].astype(str) == str(value)]
    if len(rows) != 1:
        described = ", ".join(f"{k} = {v}" for k, v in where.items())
        raise InputError(
            f"table {table!r} has {len(rows)} rows with {described}; the documents need exactly one",
            file=f"{table}.csv", hint="the table must hold one row per key (reports/tables/README.md)",
        )
    return rows.iloc[0]


def employment_finding(did_pooled: pd.DataFrame, did_by_month: pd.DataFrame | None = None,
                       outcome: str = PRIMARY_OUTCOME, method: str = PRIMARY_METHOD) -> Finding:
    """The primary finding: the pooled effect on ``outcome`` over the follow-up, by the DiD
    estimator ``method`` (``effects.primary_method``; ``details['method']`` names it).

    ``details['band_months']`` lists the follow-up months whose simultaneous band lies wholly
    on the side of the primary verdict (key secondary; empty when the primary shows nothing).
    """
    did_pooled, did_by_month = method_rows(did_pooled, method), method_rows(did_by_month, method)
    row = _one_row(did_pooled, "did_pooled", outcome=outcome)
    verdict = interval_verdict(row["ci_low"], row["ci_high"])
    months: list[int] = []
    if (did_by_month is not None and verdict != NO_CLEAR_EFFECT
            and {"band_low", "band_high"} <= set(did_by_month.columns)):
        rows = did_by_month[did_by_month["outcome"].astype(str) == outcome]
        low, high, month = numeric(rows, "band_low"), numeric(rows, "band_high"), numeric(rows, "month")
        side = low > 0 if verdict == EFFECT else high < 0
        months = sorted(int(mo) for mo in month[side & (month >= 1)])
    return Finding("employment", "primary", verdict, as_float(row["estimate"]), as_float(row["ci_low"]),
                   as_float(row["ci_high"]),
                   {"outcome": outcome, "months": str(row.get("months", "")), "band_months": months, "method": method})


def retention_finding(rmst: pd.DataFrame, outcome: str = "job", horizon: int | None = None,
                      method: str = PRIMARY_METHOD) -> Finding:
    """Supportive: the difference in restricted mean time in the baseline job (months), by the
    estimator ``method`` (``effects.primary_method``; ``details['method']`` names it)."""
    rmst = method_rows(rmst, method)
    rows = rmst[rmst["outcome"].astype(str) == outcome]
    if horizon is None and len(rows):
        horizon = int(numeric(rows, "horizon").max())
    row = _one_row(rmst, "rmst", outcome=outcome, horizon=horizon)
    return Finding("retention", "supportive", interval_verdict(row["ci_low"], row["ci_high"]),
                   as_float(row["difference"]), as_float(row["ci_low"]), as_float(row["ci_high"]),
                   {"outcome": outcome, "horizon": horizon, "rmst_treated": as_float(row["rmst_treated"]),
                    "rmst_control": as_float(row["rmst_control"]), "method": method})


def supervisor_findings(supervisor_effects: pd.DataFrame, supervisor_means: pd.DataFrame | None = None, *,
                        wave: str = "T1", alpha: float = 0.05) -> Finding:
    """The supervisors' primary contrasts (``wave`` versus T0), Holm-adjusted, per construct.

    A construct improved when its Holm-adjusted p-value is below ``alpha`` and its change is
    positive, declined when below ``alpha`` and negative, and is unchanged otherwise. The
    overall verdict is ``possible_harm`` when any construct declined, ``effect`` when any
    improved, else ``no_clear_effect``. ``details['baseline']`` holds the T0 means (for a
    ceiling remark).
    """
    rows = supervisor_effects[supervisor_effects["wave"].astype(str) == wave]
    present = [c for c in CONSTRUCTS if c in set(rows["construct"])] + sorted(set(rows["construct"]) - set(CONSTRUCTS))
    improved, declined, unchanged, changes = [], [], [], {}
    for construct in present:
        row = _one_row(rows, "supervisor_effects", construct=construct)
        estimate, p_holm = as_float(row["estimate"]), as_float(row["p_holm"])
        changes[construct] = estimate
        if estimate is not None and p_holm is not None and p_holm < alpha:
            (improved if estimate > 0 else declined).append(construct)
        else:
            unchanged.append(construct)
    verdict = POSSIBLE_HARM if declined else EFFECT if improved else NO_CLEAR_EFFECT
    baseline = {}
    if supervisor_means is not None:
        t0 = supervisor_means[supervisor_means["wave"].astype(str) == "T0"]
        baseline = {str(r.construct): as_float(r.mean) for r in t0.itertuples(index=False)}
    return Finding("supervisors", "primary", verdict, details={
        "wave": wave, "improved": improved, "declined": declined, "unchanged": unchanged, "changes": changes,
        "baseline": baseline,
    })


@dataclass(frozen=True)
class KeyFindings:
    employment: Finding
    retention: Finding
    supervisors: Finding


def key_findings(tables: AggregateTables, *, alpha: float = 0.05, method: str = PRIMARY_METHOD) -> KeyFindings:
    """The three findings the factsheet and the report's summary speak of (``method``: the
    estimator of the employment and retention findings, ``effects.primary_method``)."""
    return KeyFindings(
        employment=employment_finding(tables.get("did_pooled"), tables.get("did_by_month"), method=method),
        retention=retention_finding(tables.get("rmst"), method=method),
        supervisors=supervisor_findings(tables.get("supervisor_effects"), tables.get("supervisor_means"), alpha=alpha),
    )


@dataclass(frozen=True)
class Statement:
    """A finding in words: a short heading, a headline number and the sentence(s)."""

    key: str
    title: str
    headline: str
    text: str
    verdict: str


def _join(items: list[str], m: Messages) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + m.t("findings.and") + items[-1]


def _month_ranges(months: list[int], m: Messages) -> str:
    ranges, start = [], None
    for i, month in enumerate(months):
        if start is None:
            start = month
        if i + 1 == len(months) or months[i + 1] != month + 1:
            ranges.append(m.num(start, 0) if start == month else f"{m.num(start, 0)}\u2013{m.num(month, 0)}")
            start = None
    return _join(ranges, m)


#: Constructs at or above this mean at T0 (1-5 scale) are called high at the start.
CEILING = 4.0


def followup_months(months: str) -> int | None:
    """The last month of a pooled range such as ``1-12`` (None when the text holds no number)."""
    numbers = re.findall(r"\d+", str(months))
    return int(numbers[-1]) if numbers else None


def ci_decimals(low: float | None, high: float | None, decimals: int = 1, *, scale: float = 1.0, most: int = 3) -> int:
    """Decimals for an interval such that no bound that differs from 0 is shown as 0.

    An interval from -0.87 to -0.04 printed with one decimal reads "-0.9 to 0.0" and seems to
    touch 0 while the verdict says it lies below 0; one more decimal removes the contradiction.
    """
    for digits in range(decimals, most + 1):
        if all(b is None or b == 0 or round(abs(b) * scale, digits) > 0 for b in (low, high)):
            return digits
    return most


def statements(findings: KeyFindings, m: Messages) -> list[Statement]:
    """The key findings in the reader's language, worded by the inference hierarchy."""
    out = []
    e = findings.employment
    values = {
        "followup": m.num(followup_months(e.details.get("months", "")), 0),
        "points": m.points(abs(e.estimate) if e.estimate is not None else None, 1),
        "signed_points": m.points(e.estimate, 1, sign=True),
        "ci": m.ci(e.ci_low, e.ci_high, ci_decimals(e.ci_low, e.ci_high, 1, scale=100), scale=100),
    }
    text = m.t(f"findings.employment.{e.verdict}", **values)
    if e.details.get("band_months"):
        text += " " + m.t(f"findings.employment.band_{e.verdict}",
                          months=_month_ranges(list(e.details["band_months"]), m))
    if e.details.get("method"):
        text += " " + m.t("findings.employment.method", method=m.label("did_method", e.details["method"]))
    out.append(Statement("employment", m.t("findings.employment.title"), m.t("findings.employment.headline", **values),
                         text, e.verdict))

    r = findings.retention
    values = {
        "months": m.num(abs(r.estimate) if r.estimate is not None else None, 1),
        "signed_months": m.num(r.estimate, 1, sign=True),
        "ci": m.ci(r.ci_low, r.ci_high, ci_decimals(r.ci_low, r.ci_high, 1)),
        "horizon": m.num(r.details.get("horizon"), 0),
        "treated": m.num(r.details.get("rmst_treated"), 1),
        "control": m.num(r.details.get("rmst_control"), 1),
    }
    text = m.t(f"findings.retention.{r.verdict}", **values)
    relation = "agrees" if r.verdict == e.verdict else "differs"
    text += " " + m.t(f"findings.support.{relation}_{e.verdict}")
    out.append(Statement("retention", m.t("findings.retention.title"), m.t("findings.retention.headline", **values),
                         text, r.verdict))

    s = findings.supervisors
    d = s.details
    changes = d["changes"]
    improved = [f"{m.label('construct_lower', c)} ({m.num(changes[c], 2, sign=True)})" for c in d["improved"]]
    declined = [f"{m.label('construct_lower', c)} ({m.num(changes[c], 2, sign=True)})" for c in d["declined"]]
    parts = []
    if improved:
        parts.append(m.t("findings.supervisors.improved", constructs=_join(improved, m)))
    if declined:
        parts.append(m.t("findings.supervisors.declined", constructs=_join(declined, m)))
    if d["unchanged"]:
        names = [m.label("construct_lower", c) for c in d["unchanged"]]
        key = ("findings.supervisors.unchanged_all" if not improved and not declined
               else "findings.supervisors.unchanged")
        parts.append(m.t(key, constructs=_join(names, m)))
        high = [c for c in d["unchanged"] if (d["baseline"].get(c) or 0) >= CEILING]
        if high:
            parts.append(m.t("findings.supervisors.ceiling",
                             constructs=_join([m.label("construct_lower", c) for c in high], m),
                             mean=m.num(min(d["baseline"][c] for c in high), 1)))
    headline = m.t(f"findings.supervisors.headline_{s.verdict}", n=m.num(len(d["improved"]), 0),
                   total=m.num(len(changes), 0))
    out.append(Statement("supervisors", m.t("findings.supervisors.title"), headline, " ".join(parts), s.verdict))
    return out
