"""Write ``supervisors_data.csv``: supervisors nested in training groups, 4 waves, MAR drop-out.

The committed CSV is the input of ``supervisors.R`` (lme4) and of the tests that compare the
project's mixed model with lme4's output. Run from the repository root:

    python tests/reference/make_supervisors_data.py

Data-generating model (scores on the 1..5 scale of the questionnaire):
score = wave mean + group effect + supervisor effect + residual, with normal effects of SD
``sd_group``, ``sd_supervisor`` and ``sd_residual``. Drop-out is monotone and missing at random:
after answering wave k a supervisor skips every later wave with probability
``logistic(dropout_intercept + dropout_slope * (score_k - 3.5))``, which depends only on the
observed score of wave k (a negative slope: low scorers leave more often).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SEED = 20190501


def simulate_supervisor_waves(
    *,
    n_groups: int,
    group_sizes: tuple[int, int],
    wave_means: tuple[float, ...],
    sd_group: float,
    sd_supervisor: float,
    sd_residual: float,
    dropout_intercept: float,
    dropout_slope: float,
    seed: int,
    dropout_from: int = 0,
    decimals: int = 3,
    sd_group_slope: float = 0.0,
    online_groups: tuple[int, ...] = (),
    online_change: float = 0.0,
) -> pd.DataFrame:
    """One row per observed supervisor x wave: ``training_group, supervisor, wave, score``.

    Drop-out can happen after wave ``dropout_from`` and every later wave. With
    ``sd_group_slope`` > 0 every group also gets its own change after the reference wave
    (normal, SD ``sd_group_slope``, independent of the group's level), added to every later
    wave; the groups numbered in ``online_groups`` get a column ``mode`` = ``online`` (the others
    ``on_site``) and ``online_change`` added to every later wave. Without these options the
    random numbers drawn, and so the data, are those of the earlier fixtures. Also returns, in
    ``DataFrame.attrs['complete']``, the scores every supervisor would have had without
    drop-out (for checks of bias against the truth).
    """
    rng = np.random.default_rng(seed)
    rows = []
    full = []
    number = 0
    for g in range(1, n_groups + 1):
        group = f"G{g:02d}"
        u_group = rng.normal(0.0, sd_group)
        slope = rng.normal(0.0, sd_group_slope) if sd_group_slope > 0 else 0.0
        online = g in online_groups
        slope += online_change if online else 0.0
        size = int(rng.integers(group_sizes[0], group_sizes[1] + 1))
        for _ in range(size):
            number += 1
            supervisor = f"S{number:04d}"
            u_sup = rng.normal(0.0, sd_supervisor)
            scores = [
                round(m + u_group + (slope if k > 0 else 0.0) + u_sup + rng.normal(0.0, sd_residual), decimals)
                for k, m in enumerate(wave_means)
            ]
            uniforms = rng.random(len(wave_means))
            stays = True
            for k, score in enumerate(scores):
                mode = ("online" if online else "on_site",) if online_groups else ()
                full.append((group, supervisor, f"T{k}", score, *mode))
                if stays:
                    rows.append((group, supervisor, f"T{k}", score, *mode))
                    p_leave = 1.0 / (1.0 + math.exp(-(dropout_intercept + dropout_slope * (score - 3.5))))
                    stays = k < dropout_from or uniforms[k] >= p_leave
    columns = ["training_group", "supervisor", "wave", "score", *(["mode"] if online_groups else [])]
    data = pd.DataFrame(rows, columns=columns)
    data.attrs["complete"] = pd.DataFrame(full, columns=columns)
    return data


def fixture() -> pd.DataFrame:
    """The committed fixture: 12 groups of 5..9 supervisors, 4 waves."""
    return simulate_supervisor_waves(
        n_groups=12,
        group_sizes=(5, 9),
        wave_means=(3.2, 3.6, 3.55, 3.5),
        sd_group=0.3,
        sd_supervisor=0.4,
        sd_residual=0.35,
        dropout_intercept=-1.8,
        dropout_slope=-1.5,
        seed=SEED,
    )


def boundary_fixture() -> pd.DataFrame:
    """No training-group effect at all (sd_group 0): lme4 estimates its variance at 0."""
    return simulate_supervisor_waves(
        n_groups=10,
        group_sizes=(5, 9),
        wave_means=(3.2, 3.6, 3.55, 3.5),
        sd_group=0.0,
        sd_supervisor=0.4,
        sd_residual=0.35,
        dropout_intercept=-1.8,
        dropout_slope=-1.5,
        seed=SEED + 2,
    )


def slope_fixture() -> pd.DataFrame:
    """Training groups differ in level and in change (SD 0.2 after T0); 4 of 16 groups online,
    changing 0.15 less. The input of the group-slope model's lme4/lmerTest reference."""
    return simulate_supervisor_waves(
        n_groups=16,
        group_sizes=(5, 9),
        wave_means=(3.2, 3.6, 3.55, 3.5),
        sd_group=0.25,
        sd_supervisor=0.4,
        sd_residual=0.35,
        dropout_intercept=-1.8,
        dropout_slope=-1.5,
        seed=SEED + 4,
        sd_group_slope=0.2,
        online_groups=(3, 7, 11, 15),
        online_change=-0.15,
    )


def singular_fixture() -> pd.DataFrame:
    """Groups differ in level only (no group slope in truth): lme4 estimates the group slope
    perfectly correlated with the group intercept (a singular 2 x 2 covariance, the usual
    boundary of a random slope). The seed is the first after ``SEED + 5`` whose fit is singular."""
    return simulate_supervisor_waves(
        n_groups=12,
        group_sizes=(5, 9),
        wave_means=(3.2, 3.6, 3.55, 3.5),
        sd_group=0.3,
        sd_supervisor=0.4,
        sd_residual=0.35,
        dropout_intercept=-1.8,
        dropout_slope=-1.5,
        seed=SEED + 6,
    )


FIXTURES = {
    "supervisors_data.csv": fixture,
    "supervisors_boundary_data.csv": boundary_fixture,
    "supervisors_slope_data.csv": slope_fixture,
    "supervisors_singular_data.csv": singular_fixture,
}


if __name__ == "__main__":
    for name, make in FIXTURES.items():
        data = make()
        data.to_csv(HERE / name, index=False, lineterminator="\n")
        counts = data.wave.value_counts().sort_index().to_dict()
        print(f"{name}: {len(data)} rows, {data.supervisor.nunique()} supervisors, waves: {counts}")
