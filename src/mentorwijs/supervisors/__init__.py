"""The supervisors' outcomes: mixed models of change, sensitivity, attrition, process
evaluation and the employees' questionnaire tables.

Modules: :mod:`~mentorwijs.supervisors.mixed` (fitting a ``MixedLM`` to its optimum over
several optimizers), :mod:`~mentorwijs.supervisors.satterthwaite` (lme4's REML deviance: the
finished optimum and lmerTest's Satterthwaite df), :mod:`~mentorwijs.supervisors.models` (change
per construct and wave, sensitivity analyses), :mod:`~mentorwijs.supervisors.attrition`,
:mod:`~mentorwijs.supervisors.process`, :mod:`~mentorwijs.supervisors.employees`, and
:mod:`~mentorwijs.supervisors.analyses` (all tables at once, and their CSV writer).
"""

from mentorwijs.supervisors.analyses import TABLES, format_table, supervisor_analyses, write_tables
from mentorwijs.supervisors.attrition import attrition, standardised_difference
from mentorwijs.supervisors.employees import employees_baseline
from mentorwijs.supervisors.mixed import (
    DEFAULT_OPTIMIZERS,
    MixedFit,
    boundary_components,
    fit_mixed_model,
    fixed_effects_covariance,
)
from mentorwijs.supervisors.models import (
    check_supervisors_long,
    complete_cases,
    mixed_contrasts,
    supervisor_effects,
    supervisor_sensitivity,
)
from mentorwijs.supervisors.process import dose_delivered, dose_received, extra_time, item_summaries, process_table

__all__ = [
    "DEFAULT_OPTIMIZERS", "MixedFit", "TABLES", "attrition", "boundary_components", "check_supervisors_long",
    "complete_cases", "dose_delivered", "dose_received", "employees_baseline", "extra_time", "fit_mixed_model",
    "fixed_effects_covariance", "format_table", "item_summaries", "mixed_contrasts", "process_table",
    "standardised_difference", "supervisor_analyses", "supervisor_effects", "supervisor_sensitivity", "write_tables",
]
