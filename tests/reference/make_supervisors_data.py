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
) -> pd.DataFrame:
    """One row per observed supervisor x wave: ``training_group, supervisor, wave, score``.

    Drop-out can happen after wave ``dropout_from`` and every later wave. Also returns, in ``DataFrame.attrs['complete']``, the scores every supervisor would have had
    without drop-out (for checks of bias against the truth).
    """
    rng = np.random.default_rng(seed)
    rows = []
    full = []
    number = 0
    for g in range(1, n_groups + 1):
        group = f"G{g:02d}"
        u_group = rng.normal(0.0, sd_group)
        size = int(rng.integers(group_sizes[0], group_sizes[1] + 1))
        for _ in range(size):
            number += 1
            supervisor = f"S{number:04d}"
            u_sup = rng.normal(0.0, sd_supervisor)
            scores = [round(m + u_group + u_sup + rng.normal(0.0, sd_residual), decimals) for m in wave_means]
            uniforms = rng.random(len(wave_means))
            stays = True
            for k, score in enumerate(scores):
                full.append((group, supervisor, f"T{k}", score))
                if stays:
                    rows.append((group, supervisor, f"T{k}", score))
                    p_leave = 1.0 / (1.0 + math.exp(-(dropout_intercept + dropout_slope * (score - 3.5))))
                    stays = k < dropout_from or uniforms[k] >= p_leave
    columns = ["training_group", "supervisor", "wave", "score"]
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


if __name__ == "__main__":
    for name, data in (("supervisors_data.csv", fixture()), ("supervisors_boundary_data.csv", boundary_fixture())):
        data.to_csv(HERE / name, index=False, lineterminator="\n")
        counts = data.wave.value_counts().sort_index().to_dict()
        print(f"{name}: {len(data)} rows, {data.supervisor.nunique()} supervisors, waves: {counts}")
