"""The survival view: time from the end of the training to the end of the baseline job or of all work.

Outcomes ``job`` and ``work`` read the columns ``time_<outcome>`` and ``event_<outcome>`` of
the survival table (one row per matched unit; whole months from month 0; an event at time 0 is
allowed and stays in). Every variance here is robust and clustered on ``person`` and respects the
matching weights as weights, not as case counts:

- :func:`kaplan_meier`: weighted Kaplan-Meier with the infinitesimal-jackknife (IJ) variance,
  as R ``survfit(weights=, id=, cluster=, robust=TRUE)``; log-log intervals; unweighted numbers
  at risk;
- :func:`rmst`: restricted mean survival time at a horizon, its IJ variance summed over persons
  (validation.md), and the difference treated - control: the primary survival contrast;
- :func:`rmst_adjusted` / :func:`rmst_pseudo_values`: the covariate-adjusted RMST difference,
  WLS of per-group infinitesimal-jackknife pseudo-values on treated + covariates, CR1 on person;
- :func:`cox_fit` / :func:`cox_models`: the weighted Cox model (Efron ties, strata, robust
  variance clustered on person, as R ``coxph(weights=, cluster=)``), its robust score test (in
  place of a weighted log-rank test), and an adjusted model;
- :func:`ph_test`: proportional hazards checked as the treated effect in months 0..6 versus
  later months (time-varying coefficient, robust SE);
- :func:`discrete_time_cloglog`: the discrete-time complementary log-log model on person-months.

The Cox engine is written here because lifelines' cluster-robust variance differs from R with
tied times and takes O(n^2) time; this one is O(n log n) and equals R (tests/reference).

One module per estimator, everything importable from here: :mod:`.data` (the checked inputs,
the design matrix, the ``survival`` table's rows), :mod:`.km`, :mod:`.rmst`,
:mod:`.rmst_adjusted`, :mod:`.cox` (with the PH check) and :mod:`.discrete`.
"""

from __future__ import annotations

from mentorwijs.effects.survival.cox import CoxResult, cox_fit, cox_model, cox_models, ph_test
from mentorwijs.effects.survival.data import (
    GROUPS,
    SURVIVAL_COLUMNS,
    SURVIVAL_TABLE_COLUMNS,
    design_matrix,
    stack_rows,
    unit_counts,
)
from mentorwijs.effects.survival.discrete import cloglog_model, discrete_time_cloglog, person_period
from mentorwijs.effects.survival.km import KaplanMeier, kaplan_meier, km_estimate, logrank_test, loglog_interval
from mentorwijs.effects.survival.rmst import restricted_time_sd, rmst
from mentorwijs.effects.survival.rmst_adjusted import RMST_ADJUSTED_COLUMNS, rmst_adjusted, rmst_pseudo_values

__all__ = [
    "GROUPS", "RMST_ADJUSTED_COLUMNS", "SURVIVAL_COLUMNS", "SURVIVAL_TABLE_COLUMNS",
    "CoxResult", "KaplanMeier",
    "cloglog_model", "cox_fit", "cox_model", "cox_models", "design_matrix", "discrete_time_cloglog", "kaplan_meier",
    "km_estimate", "logrank_test", "loglog_interval", "person_period", "ph_test", "restricted_time_sd", "rmst",
    "rmst_adjusted", "rmst_pseudo_values", "stack_rows", "unit_counts",
]
