"""Weighted Kaplan-Meier with the infinitesimal-jackknife variance and log-log intervals, and the
classical (unweighted) log-rank test for textbook checks."""


from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse, stats

from mentorwijs.effects._common import (
    codes,
)
from mentorwijs.effects.survival.data import GROUPS, _survival_data
from mentorwijs.errors import InputError


@dataclass(frozen=True)
class KaplanMeier:
    """A weighted Kaplan-Meier curve on the whole-month grid 0..``times[-1]``.

    ``survival[k]`` is S(times[k]) (right-continuous: after the events of that month);
    ``influence`` has one row per cluster of ``clusters``: the sum over the cluster's units of
    w_i * dS(t)/dw_i (R's ``influence.surv``), so the robust variance is the column sum of squares.
    """

    times: np.ndarray
    survival: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_risk_weighted: np.ndarray
    n_event_weighted: np.ndarray
    influence: np.ndarray
    clusters: np.ndarray
    greenwood_var: np.ndarray

    @property
    def se(self) -> np.ndarray:
        return np.sqrt((self.influence ** 2).sum(axis=0))


def km_estimate(time: np.ndarray, event: np.ndarray, w: np.ndarray, cluster: np.ndarray,
                *, last: int | None = None) -> KaplanMeier:
    """Weighted Kaplan-Meier on the integer grid 0..``last`` with its IJ influence per cluster.

    ``time`` whole numbers >= 0, ``event`` 0/1, ``w`` weights > 0, ``cluster`` labels.
    IF_i(S(t)) = -S(t) w_i [ event_i 1(T_i <= t) / (n - d)(T_i) - sum_{s <= min(t, T_i)} d_s / (n_s (n_s - d_s)) ]
    with n_s, d_s the weighted numbers at risk and of events (the derivative of the product-limit
    estimator with respect to unit i's weight, times the weight).
    """
    time = np.asarray(time, dtype=np.int64)
    event = np.asarray(event, dtype=np.int64)
    w = np.asarray(w, dtype=float)
    last = int(time.max()) if last is None else int(last)
    T = last + 1
    tc = np.minimum(time, T)  # times beyond the grid only count as at risk
    at_risk_w = np.cumsum(np.bincount(tc, weights=w, minlength=T + 1)[::-1])[::-1][:T]
    at_risk_n = np.cumsum(np.bincount(tc, minlength=T + 1)[::-1])[::-1][:T]
    ev = event.astype(bool) & (time <= last)
    d_w = np.bincount(time[ev], weights=w[ev], minlength=T)[:T]
    d_n = np.bincount(time[ev], minlength=T)[:T]
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk_w > 0, d_w / at_risk_w, 0.0)
        surv = np.cumprod(1.0 - hazard)
        remaining = at_risk_w - d_w
        step = np.where((d_w > 0) & (remaining > 0), d_w / (at_risk_w * remaining), 0.0)
        inv_remaining = np.where(remaining > 0, 1.0 / remaining, 0.0)
    cum = np.cumsum(step)
    greenwood = surv ** 2 * cum
    grid = np.arange(T)
    # unit x time influence, then summed per cluster
    own = np.minimum(time, last)
    A = cum[np.minimum(grid[None, :], own[:, None])]
    D = (ev[:, None] & (time[:, None] <= grid[None, :])) * inv_remaining[own][:, None]
    unit_if = -surv[None, :] * w[:, None] * (D - A)
    unit_if[:, surv <= 0] = 0.0
    g, clusters = codes(cluster)
    G = len(clusters)
    M = sparse.csr_matrix((np.ones(len(g)), (g, np.arange(len(g)))), shape=(G, len(g)))
    influence = np.asarray(M @ unit_if)
    return KaplanMeier(
        times=grid,
        survival=surv,
        n_risk=at_risk_n.astype(np.int64),
        n_event=d_n.astype(np.int64),
        n_risk_weighted=at_risk_w,
        n_event_weighted=d_w,
        influence=influence,
        clusters=clusters,
        greenwood_var=greenwood,
    )


def loglog_interval(surv: np.ndarray, se: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Log-log interval for S from the SE of S (R ``conf.type = "log-log"``); [1, 1] where S = 1."""
    z = stats.norm.ppf(0.5 + level / 2)
    surv = np.asarray(surv, dtype=float)
    inner = (surv > 0) & (surv < 1)
    s = np.where(inner, surv, 0.5)
    ll = np.log(-np.log(s))
    se_ll = np.asarray(se) / (s * np.abs(np.log(s)))
    low = np.where(inner, np.exp(-np.exp(ll + z * se_ll)), np.nan)
    high = np.where(inner, np.exp(-np.exp(ll - z * se_ll)), np.nan)
    low = np.where(surv >= 1, 1.0, low)
    high = np.where(surv >= 1, 1.0, high)
    return low, high


def kaplan_meier(
    survival: pd.DataFrame,
    outcome: str,
    *,
    weight: str = "weight",
    cluster: str = "person",
    level: float = 0.95,
    variance: str = "robust",
) -> pd.DataFrame:
    """Kaplan-Meier curves by group (``treated``, ``control``) on the whole-month grid.

    One row per outcome x group x month 0..(last time in the group): ``n_risk`` units at risk at
    the start of the month and ``n_event`` events in it (unweighted counts: what disclosure
    rules look at), ``survival`` the weighted product-limit estimate S(t) (share still in the
    job after month t), ``se`` its SE and ``ci_low``/``ci_high`` the log-log ``level`` interval.
    ``variance="robust"`` (default): infinitesimal jackknife clustered on ``cluster``, as R
    ``survfit(robust=TRUE)``; ``"greenwood"``: Greenwood's formula (only valid unweighted and
    unclustered; for checks against textbooks).
    """
    if variance not in ("robust", "greenwood"):
        raise InputError(f"unknown Kaplan-Meier variance {variance!r}", hint="use robust or greenwood")
    data, _ = _survival_data(survival, outcome, weight, cluster)
    parts = []
    for value, name in GROUPS:
        sub = data[data["treated"] == value]
        if sub.empty:
            continue
        km = km_estimate(sub["time"].to_numpy(), sub["event"].to_numpy(), sub["w"].to_numpy(),
                         sub["cluster"].to_numpy())
        se = km.se if variance == "robust" else np.sqrt(km.greenwood_var)
        low, high = loglog_interval(km.survival, se, level)
        parts.append(
            pd.DataFrame(
                {
                    "outcome": outcome,
                    "group": name,
                    "time": km.times.astype(np.int64),
                    "n_risk": km.n_risk,
                    "n_event": km.n_event,
                    "survival": km.survival,
                    "se": se,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
        )
    return pd.concat(parts, ignore_index=True).sort_values(["outcome", "group", "time"]).reset_index(drop=True)


def logrank_test(time: np.ndarray, event: np.ndarray, group: np.ndarray) -> tuple[float, float]:
    """Classical two-group log-rank chi-square (hypergeometric variance) and its p-value.

    Unweighted and unclustered: the textbook test, kept to check against published examples.
    With matching weights and repeated persons use the robust score test of :func:`cox_models`.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(bool)
    group = np.asarray(group).astype(bool)
    o_minus_e, var = 0.0, 0.0
    for t in np.unique(time[event]):
        at_risk = time >= t
        n = at_risk.sum()
        n1 = (at_risk & group).sum()
        d = (event & (time == t)).sum()
        d1 = (event & (time == t) & group).sum()
        o_minus_e += d1 - d * n1 / n
        if n > 1:
            var += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    chi2 = o_minus_e ** 2 / var
    return float(chi2), float(stats.chi2.sf(chi2, 1))
