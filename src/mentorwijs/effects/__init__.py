"""Employment effects of the training: difference-in-differences, survival, modifiers, sensitivity.

Everything operates on the files of docs/files.md: the matched ``panel`` (units x months),
the ``survival`` table (one row per matched unit) and the matching ``pairs``. Units are persons
in a cohort; standard errors are always clustered on ``person`` unless a sensitivity analysis
names another cluster column.

- :mod:`~mentorwijs.effects.did`: monthly and pooled difference-in-differences, sup-t band,
  placebo, trajectories, fixed-effect variants;
- :mod:`~mentorwijs.effects.survival`: Kaplan-Meier, RMST, Cox (primary, adjusted, robust score
  test), proportional-hazards check, discrete-time cloglog;
- :mod:`~mentorwijs.effects.modifiers`: subgroup effects and interactions;
- :mod:`~mentorwijs.effects.sensitivity`: unweighted, odds weights, other clusters, fixed effects;
- :mod:`~mentorwijs.effects.confounding`: E-values and the bias that would nullify the effect;
- :mod:`~mentorwijs.effects.montecarlo`: simulation-based validation (``mentorwijs validate``).
"""

from mentorwijs.effects.confounding import (
    bias_to_null,
    confounding_table,
    evalue_interval,
    evalue_rr,
    hr_to_rr,
    smd_to_rr,
)
from mentorwijs.effects.did import (
    ContrastTest,
    DidFit,
    absorbed_wls,
    contrast_test,
    did_by_month,
    did_by_month_table,
    did_fit,
    did_pooled,
    did_pooled_table,
    placebo,
    pooled_estimate,
    supt_critical_value,
    trajectories,
)
from mentorwijs.effects.modifiers import (
    inherited_pairs,
    modifier_levels,
    modifiers,
    subgroup_estimate,
    subgroup_weights,
)
from mentorwijs.effects.sensitivity import odds_weights, sensitivity_analyses, unweighted
from mentorwijs.effects.survival import (
    CoxResult,
    cloglog_model,
    cox_fit,
    cox_model,
    cox_models,
    discrete_time_cloglog,
    kaplan_meier,
    km_estimate,
    logrank_test,
    person_period,
    ph_test,
    restricted_time_sd,
    rmst,
)

__all__ = [
    "CoxResult",
    "DidFit",
    "absorbed_wls",
    "bias_to_null",
    "cloglog_model",
    "confounding_table",
    "cox_fit",
    "cox_model",
    "cox_models",
    "ContrastTest",
    "contrast_test",
    "did_by_month",
    "did_by_month_table",
    "did_fit",
    "did_pooled",
    "did_pooled_table",
    "discrete_time_cloglog",
    "evalue_interval",
    "evalue_rr",
    "hr_to_rr",
    "kaplan_meier",
    "km_estimate",
    "logrank_test",
    "inherited_pairs",
    "modifier_levels",
    "modifiers",
    "odds_weights",
    "person_period",
    "ph_test",
    "placebo",
    "pooled_estimate",
    "restricted_time_sd",
    "rmst",
    "sensitivity_analyses",
    "smd_to_rr",
    "subgroup_estimate",
    "subgroup_weights",
    "supt_critical_value",
    "trajectories",
    "unweighted",
]
