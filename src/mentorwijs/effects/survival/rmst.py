"""Restricted mean survival time at a horizon from the weighted Kaplan-Meier curves: per group, the
difference treated - control with its IJ variance summed over persons, and the SD of the
restricted time."""


from __future__ import annotations

import numpy as np
import pandas as pd

from mentorwijs.effects._common import (
    codes,
    join_warnings,
    z_summary,
)
from mentorwijs.effects.survival.data import GROUPS, _survival_data
from mentorwijs.effects.survival.km import KaplanMeier, km_estimate
from mentorwijs.errors import InputError


def _rmst_group(sub: pd.DataFrame, horizon: int,
                clusters: np.ndarray) -> tuple[float, np.ndarray, KaplanMeier, list[str]]:
    notes = []
    km = km_estimate(sub["time"].to_numpy(), sub["event"].to_numpy(), sub["w"].to_numpy(), sub["cluster"].to_numpy(),
                     last=max(horizon - 1, int(sub["time"].max())))
    if int(sub["time"].max()) < horizon - 1:
        notes.append(f"follow-up ends before the horizon {horizon}: the last survival value is carried forward")
    # RMST = integral_0^h S(u) du; S is constant on [t, t+1) for whole-month times
    rmst_value = float(km.survival[:horizon].sum())
    infl = km.influence[:, :horizon].sum(axis=1)
    full = np.zeros(len(clusters))
    full[np.searchsorted(clusters, km.clusters)] = infl
    return rmst_value, full, km, notes


def rmst(
    survival: pd.DataFrame,
    outcome: str,
    horizon: int = 12,
    *,
    weight: str = "weight",
    cluster: str = "person",
    level: float = 0.95,
) -> pd.DataFrame:
    """Restricted mean survival time at ``horizon`` months by group and their difference.

    ``rmst_treated`` / ``rmst_control``: the area under the weighted Kaplan-Meier curve from 0 to
    ``horizon`` (months the baseline job, or paid work, lasted on average within the horizon);
    ``difference`` = treated - control (months gained). Variance: the influence of each unit,
    IF_i = sum_t IF_i(S(t)) over the months before the horizon, summed within a person, squared
    and summed over persons (validation.md). The difference uses the per-person difference of
    influences, which equals var_treated + var_control because no person is in both groups.
    CI and p are normal-theory.
    """
    if int(horizon) < 1:
        raise InputError(f"the RMST horizon must be at least 1 month, got {horizon}", hint="set effects.rmst_horizon")
    data, notes = _survival_data(survival, outcome, weight, cluster)
    _, clusters = codes(data["cluster"])
    values, infl, n = {}, {}, {}
    for value, name in GROUPS:
        sub = data[data["treated"] == value]
        if sub.empty:
            raise InputError(f"the survival table has no {name} units", column="treated")
        values[name], infl[name], _, more = _rmst_group(sub, int(horizon), clusters)
        notes += more
        n[name] = len(sub)
    diff = values["treated"] - values["control"]
    var_t = float(infl["treated"] @ infl["treated"])
    var_c = float(infl["control"] @ infl["control"])
    d_if = infl["treated"] - infl["control"]
    se = float(np.sqrt(d_if @ d_if))
    low, high, p = z_summary(diff, se, level)
    return pd.DataFrame(
        {
            "outcome": [outcome],
            "horizon": [int(horizon)],
            "rmst_treated": [values["treated"]],
            "rmst_control": [values["control"]],
            "se_treated": [np.sqrt(var_t)],
            "se_control": [np.sqrt(var_c)],
            "difference": [diff],
            "se": [se],
            "ci_low": [float(low)],
            "ci_high": [float(high)],
            "p": [float(p)],
            "n_treated": [n["treated"]],
            "n_control": [n["control"]],
            "converged": [1],
            "warnings": [join_warnings(notes)],
        }
    )


def restricted_time_sd(survival: pd.DataFrame, outcome: str, horizon: int, *, group: int = 0,
                       weight: str = "weight") -> float:
    """SD of the restricted survival time min(T, horizon) in one group, from its Kaplan-Meier curve.

    E[min(T,h)^2] = integral_0^h 2u S(u) du = sum_{t<h} (2t + 1) S(t) on the whole-month grid.
    Used to turn an RMST difference into a standardised difference (E-value).
    """
    data, _ = _survival_data(survival, outcome, weight, "person")
    sub = data[data["treated"] == group]
    km = km_estimate(sub["time"].to_numpy(), sub["event"].to_numpy(), sub["w"].to_numpy(), sub["cluster"].to_numpy(),
                     last=max(horizon - 1, int(sub["time"].max())))
    s = km.survival[:horizon]
    t = np.arange(horizon)
    mean = s.sum()
    second = ((2 * t + 1) * s).sum()
    return float(np.sqrt(max(second - mean ** 2, 0.0)))
