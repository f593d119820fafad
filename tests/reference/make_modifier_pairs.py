"""Write ``tests/reference/modifier_pairs_data.csv``: modifier pairs on the reference panel.

Run from the repository root (deterministic; the same bytes every time):

    python tests/reference/make_modifier_pairs.py

The file has the columns of ``data/processed/modifier_pairs.parquet`` (``modifier, level,
treated_unit, control_unit, weight``) for one binary modifier, ``temporary_contract`` of the
units in ``effects_data.csv``: each trainee unit is matched again among the control units of its
cohort with the same value (two to five controls drawn without replacement, weight 1/k each), so
controls serve several trainees, and a control person whose units differ in the modifier is a
control in both levels. ``modifiers_cr2.R`` reads it with ``effects_data.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261207
HERE = Path(__file__).resolve().parent


def build(seed: int = SEED) -> pd.DataFrame:
    data = pd.read_csv(HERE / "effects_data.csv")
    units = data[data["part"] == "survival"].sort_values("unit")
    units = units.assign(level=units["temporary_contract"].astype(int).astype(str))
    rng = np.random.default_rng(seed)
    rows = []
    for unit in units[units["treated"] == 1].itertuples(index=False):
        pool = units[(units["treated"] == 0) & (units["cohort"] == unit.cohort) & (units["level"] == unit.level)]
        k = int(rng.integers(2, 6))
        for control in sorted(rng.choice(pool["unit"].to_numpy(), size=k, replace=False)):
            rows.append(("temporary_contract", unit.level, unit.unit, control, round(1.0 / k, 6)))
    return pd.DataFrame(rows, columns=["modifier", "level", "treated_unit", "control_unit", "weight"])


def main() -> None:
    build().to_csv(HERE / "modifier_pairs_data.csv", index=False, lineterminator="\n", float_format="%.6f")


if __name__ == "__main__":
    main()
