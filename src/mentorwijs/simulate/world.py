"""The register simulator's world: what the steps of :func:`mentorwijs.simulate.register.simulate_register`
share, in three frozen objects instead of long argument lists.

- :class:`World`: the fixed setting of the simulation (calendar, employment model, employer
  register, regions, the study's anchors, the true effect and the realism targets);
- :class:`TraineeHistories`: the trainees with a register history and their two potential
  job histories (untrained, trained);
- :class:`Population`: everyone written to the register files (the pool, then the trainees
  under training) with their jobs, pay statements and monthly positions.

Frozen means the fields cannot be rebound; the arrays inside are the simulator's own and are
not copied, so passing a world around draws no random number and changes no output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from mentorwijs.simulate.employment import Calendar, Jobs, ModelParameters, People
from mentorwijs.simulate.payroll import Statements
from mentorwijs.simulate.population import EmployerRegister
from mentorwijs.simulate.socioeconomic import MonthlyPosition


@dataclass(frozen=True)
class World:
    """The setting every step reads.

    ``calendar``: the simulated months (burn-in from 2012, payroll from 2016-12, to 2022-12);
    ``params``: the employment model (:func:`~mentorwijs.simulate.register.model_parameters`);
    ``employers``: the employer register (units, SBEID, SBI, size classes per year);
    ``pairs``: training region -> its control regions (config.yaml ``regions.pairs``);
    ``region_names``: every simulated labour-market region (training, control, other), and
    ``region_index`` its position by name; ``anchors``, ``effect`` and ``targets``: config.yaml's
    ``anchors``, ``synthetic.effect`` and ``synthetic.targets`` with the defaults filled in;
    ``pool_scale``: the multiplier of the candidate pool."""

    calendar: Calendar
    params: ModelParameters
    employers: EmployerRegister
    pairs: Mapping[str, list[str]]
    region_index: Mapping[str, int]
    region_names: tuple[str, ...]
    anchors: Mapping[str, Any]
    effect: Mapping[str, Any]
    targets: Mapping[str, Any]
    pool_scale: float


@dataclass(frozen=True)
class TraineeHistories:
    """The trainees with a register history (``frame``, one row each, with the matching variables,
    eligibility and individual effect), their persons (``people``), their job histories without
    and with the training (``untrained_jobs``, ``trained_jobs``; identical up to month 0), how many
    trainees have no register history at all (``n_absent``) and the expected outcomes over
    replicate futures (:func:`~mentorwijs.simulate.register_truth.expected_outcomes`)."""

    frame: pd.DataFrame
    people: People
    untrained_jobs: Jobs
    trained_jobs: Jobs
    n_absent: int
    expected: Mapping[str, Any]


@dataclass(frozen=True)
class Population:
    """Everyone written to the register files: ``people`` (the pool's ``n_pool`` persons first, then
    the trainees under training), ``role`` per person (pool, non_r, ..., trainee, trainee_non_r),
    all their ``jobs``, the pay ``statements`` and the monthly socio-economic ``position``."""

    people: People
    role: np.ndarray
    jobs: Jobs
    statements: Statements
    position: MonthlyPosition
    n_pool: int
