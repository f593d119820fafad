"""How strong would unmeasured confounding have to be? E-values and bias-to-null.

Trainees were chosen by their supervisors and matched on register data only, so the report
says how much hidden bias would explain the estimates away:

- E-value (VanderWeele and Ding 2017): the minimum strength of association, on the risk-ratio
  scale, that an unmeasured confounder would need with both training and outcome to move the
  estimate (``evalue_estimate``) or its confidence limit nearest the null (``evalue_ci``; 1 if
  the interval already includes the null) to the null. For a risk ratio RR >= 1:
  RR + sqrt(RR (RR - 1)); for RR < 1 apply it to 1/RR.
- Hazard ratio: converted to an approximate risk ratio first. If the outcome is common (more
  than 15% with an event by the horizon in the control group) with
  RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)); otherwise RR = HR (rare-outcome approximation).
- RMST difference (a difference in months): converted to a standardised difference
  d = difference / SD, SD the standard deviation of the restricted time min(T, h) in the control
  group, and then to an approximate risk ratio RR = exp(0.91 d) (VanderWeele and Ding's
  conversion for continuous outcomes).
- Pooled difference-in-differences (a difference in probability): the additive bias that would
  nullify it is the estimate itself (``bias_to_null_estimate``), and to make the interval
  include 0 it is the CI bound nearest 0 (``bias_to_null_ci``; 0 if the interval includes 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mentorwijs.contracts import column_names

COMMON_OUTCOME = 0.15


def evalue_rr(rr: float) -> float:
    """E-value of a risk ratio (>= 1; NaN for a missing or non-positive ratio)."""
    if not np.isfinite(rr) or rr <= 0:
        return float("nan")
    rr = 1 / rr if rr < 1 else rr
    return float(rr + np.sqrt(rr * (rr - 1)))


def evalue_interval(rr: float, low: float, high: float) -> tuple[float, float]:
    """E-values of a ratio and of its CI limit nearest 1 (1 when the CI includes 1)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return evalue_rr(rr), float("nan")
    if low <= 1 <= high:
        return evalue_rr(rr), 1.0
    nearest = low if rr > 1 else high
    return evalue_rr(rr), evalue_rr(nearest)


def hr_to_rr(hr: float, common: bool) -> float:
    """Approximate risk ratio of a hazard ratio (VanderWeele 2020 for common outcomes)."""
    if not common:
        return float(hr)
    return float((1 - 0.5 ** np.sqrt(hr)) / (1 - 0.5 ** np.sqrt(1 / hr)))


def smd_to_rr(d: float) -> float:
    """Approximate risk ratio of a standardised mean difference: exp(0.91 d)."""
    return float(np.exp(0.91 * d))


def bias_to_null(estimate: float, low: float, high: float) -> tuple[float, float]:
    """Additive bias that would move the estimate, and the CI limit nearest 0, to 0."""
    nearest = 0.0 if low <= 0 <= high else (low if estimate > 0 else high)
    return float(estimate), float(nearest)


def confounding_table(
    *,
    pooled: pd.Series | None = None,
    rmst_row: pd.Series | None = None,
    rmst_sd: float | None = None,
    cox_row: pd.Series | None = None,
    control_event_share: float | None = None,
) -> pd.DataFrame:
    """One row per headline estimate with its E-values or bias-to-null.

    ``pooled``: a :func:`did_pooled` row; ``rmst_row``: an :func:`rmst` row with ``rmst_sd`` the
    control group's SD of the restricted time (:func:`restricted_time_sd`); ``cox_row``: the
    primary ``treated`` row of :func:`cox_models`, with ``control_event_share`` = 1 - S(h) of the
    control group (decides the rare/common conversion). Columns (the ``confounding`` contract):
    ``estimand, outcome, estimate, ci_low, ci_high, approximate_rr, rr_ci_low, rr_ci_high,
    evalue_estimate, evalue_ci, bias_to_null_estimate, bias_to_null_ci, outcome_sd`` (the RMST
    row's SD of the restricted time), ``n_treated, n_control`` (the units behind the source row,
    where it has them) and ``conversion`` (in words; numbers are in the number columns).
    """
    rows = []

    def units(row: pd.Series) -> dict:
        return {k: row[k] for k in ("n_treated", "n_control") if k in row.index}

    if pooled is not None:
        b_est, b_ci = bias_to_null(pooled["estimate"], pooled["ci_low"], pooled["ci_high"])
        rows.append({"estimand": "pooled difference-in-differences", "outcome": pooled["outcome"],
                     "estimate": pooled["estimate"], "ci_low": pooled["ci_low"], "ci_high": pooled["ci_high"],
                     "bias_to_null_estimate": b_est, "bias_to_null_ci": b_ci, **units(pooled),
                     "conversion": "additive bias in the probability of employment"})
    if rmst_row is not None:
        if rmst_sd is None or not rmst_sd > 0:
            raise ValueError("rmst_sd (> 0) is needed to convert the RMST difference")
        rr = [smd_to_rr(rmst_row[k] / rmst_sd) for k in ("difference", "ci_low", "ci_high")]
        e_est, e_ci = evalue_interval(*rr)
        b_est, b_ci = bias_to_null(rmst_row["difference"], rmst_row["ci_low"], rmst_row["ci_high"])
        rows.append({"estimand": f"RMST difference at {int(rmst_row['horizon'])} months",
                     "outcome": rmst_row["outcome"], "estimate": rmst_row["difference"], "ci_low": rmst_row["ci_low"],
                     "ci_high": rmst_row["ci_high"], "approximate_rr": rr[0], "rr_ci_low": rr[1], "rr_ci_high": rr[2],
                     "evalue_estimate": e_est, "evalue_ci": e_ci,
                     "bias_to_null_estimate": b_est, "bias_to_null_ci": b_ci, "outcome_sd": float(rmst_sd),
                     **units(rmst_row),
                     "conversion": "RR = exp(0.91 * difference / SD), SD = outcome_sd of the restricted time"})
    if cox_row is not None:
        common = control_event_share is None or control_event_share > COMMON_OUTCOME
        rr = [hr_to_rr(cox_row[k], common) for k in ("hr", "ci_low", "ci_high")]
        e_est, e_ci = evalue_interval(*rr)
        rule = ("common outcome: RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))" if common
                else "rare outcome: RR = HR")
        rows.append({"estimand": "hazard ratio (Cox)", "outcome": cox_row["outcome"], "estimate": cox_row["hr"],
                     "ci_low": cox_row["ci_low"], "ci_high": cox_row["ci_high"], "approximate_rr": rr[0],
                     "rr_ci_low": rr[1], "rr_ci_high": rr[2], "evalue_estimate": e_est, "evalue_ci": e_ci,
                     **units(cox_row), "conversion": rule})
    table = pd.DataFrame(rows, columns=column_names("confounding"))
    for column in ("n_treated", "n_control"):
        table[column] = table[column].astype("Int64")
    return table
