"""The register simulator's calibrated constants, shared by the simulator
(:mod:`mentorwijs.simulate.register`) and the truth it writes (:mod:`mentorwijs.simulate.register_truth`).

The values are the calibration documented next to each one; changing any of them changes the
simulated files. Kept apart so that the truth can name them without importing the simulator.
"""

from __future__ import annotations

#: the register window (config.yaml ``register.window``)
WINDOW = ("2017-01", "2022-12")

# --- the pool --------------------------------------------------------------------------------
#: target-group people per control region at pool_scale 1. With it the default matching
#: (config.yaml, k = 31, seed 3) finds 1,528 distinct controls for 73 trainees (published 1,526).
#: The count grows slowly with the pool and moves by about 5 % between draws of nearly the same
#: size (x 1.15: 1,400; x 1.25: 1,431 at k = 27), so k, not the pool, was set to reach it
BASE_POOL_PER_REGION = 3712
#: people failing one eligibility criterion, as shares of the pool
FAILING_SHARES = {"no_marker": 0.04, "over_pension_age": 0.03, "outside_regions": 0.05, "mover": 0.03}
NON_R_SHARE = 0.005
# --- selection into training and effect modification ----------------------------------------
#: histories drawn per trainee and round; a trainee without a valid one gets another round.
#: Valid histories with a sheltered (WSW) job are rare in the population model (the route closed
#: to newcomers in 2015), so the draw needs enough of them for the supervisors of sheltered
#: workplaces (30 %) to find their employees in sheltered jobs
CANDIDATES_PER_TRAINEE = 100
MAX_ROUNDS = 60
#: log weight of a history per unit of each matching variable (:func:`selection_weight`);
#: relative_wage is the hourly wage over the covariate window / the adult minimum wage
SELECTION = {"sheltered": 2.0, "temporary": 1.0, "welfare_benefit": 0.2, "disability_benefit": 0.2,
             "relative_wage": -3.0}
#: the planted off-support trainee: out of work from month -20, then a sheltered job on a
#: fixed-term contract from month -4 paid this share of the minimum wage (no candidate holds such a
#: job, and it has worked 2 of the 12 covariate months)
OFF_SUPPORT_MONTHS = (-20, -4)
OFF_SUPPORT_WAGE_FACTOR = 0.1
#: its employer unit is the register's only one in its SBI section, with size class 00 (a payroll
#: entity without working persons): no candidate shares the category
OFF_SUPPORT_EMPLOYER = {"sbi": "35110", "gksbs": "00"}
#: weight of a history whose job does not agree with the supervisor's organisation (:func:`selection_weight`)
SUPERVISOR_AGREEMENT = {"sheltered": 0.02, "org_size": 0.5, "sector": 0.5}
MODIFIERS = {
    "temporary_contract": 0.4, "welfare_benefit": 0.3, "disability_benefit": -0.3, "sup_small_caseload": 0.3,
    "sup_government": -0.4, "sup_sheltered": -0.5, "sup_org_size": -0.2,
}

#: calibration of the base exit hazards (temporary, permanent, sheltered) and of second jobs:
#: the realised rates in the pool (main jobs outside agriculture and the 2020 shock) meet the targets
EXIT_CALIBRATION = (0.855, 1.0, 1.0)
#: second-job starts per month at jobs_per_person_month 1.12; job changes within a month add
#: about SECOND_JOB_TRANSITIONS jobs per employed person-month by themselves
SECOND_JOB_START = 0.011
SECOND_JOB_TRANSITIONS = 0.03
