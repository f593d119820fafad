"""Write ``tests/reference/effects_data.csv``: the small data set behind the R references.

Run from the repository root (deterministic; the same bytes every time):

    python tests/reference/make_effects_data.py

The data imitate the matched analysis tables at a small size: three cohorts, 60 trainee units
weighing 1, about 200 control units drawn with replacement (a control serving several trainees
gets the sum of 1/k over them, k being the number of controls of that trainee), control persons
that appear in several cohorts as several units, tied whole-month times with events at time 0,
and person-months after an exit (``observed = 0``). One file holds two parts told apart by
``part``: ``panel`` (units x months -6..6) and ``survival`` (one row per unit with covariates).
``effects.R`` reads it and writes ``effects_R_output.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20230118
HERE = Path(__file__).resolve().parent
COHORTS = ["2019-09", "2020-01", "2020-06"]
TRAINEES_PER_COHORT = 20
CONTROL_PERSONS = 160
MONTHS = np.arange(-6, 7)


def build(seed: int = SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # Control persons and the cohorts they are candidates in (one to three cohorts each).
    candidates = []
    for p in range(CONTROL_PERSONS):
        n_cohorts = rng.choice([1, 2, 3], p=[0.30, 0.40, 0.30])
        for c in sorted(rng.choice(len(COHORTS), size=n_cohorts, replace=False)):
            candidates.append((f"C{p:03d}", COHORTS[c]))
    candidates = pd.DataFrame(candidates, columns=["person", "cohort"])
    candidates["unit"] = candidates["person"] + "_" + candidates["cohort"]

    units = []
    for c, cohort in enumerate(COHORTS):
        pool = candidates.loc[candidates["cohort"] == cohort, "unit"].to_numpy()
        weights: dict[str, float] = {}
        for t in range(TRAINEES_PER_COHORT):
            person = f"T{c}{t:02d}"
            units.append((f"{person}_{cohort}", person, cohort, 1, 1.0))
            k = int(rng.integers(3, 9))
            for unit in rng.choice(pool, size=k, replace=False):
                weights[unit] = weights.get(unit, 0.0) + 1.0 / k
        for unit in sorted(weights):
            person = unit.split("_")[0]
            units.append((unit, person, cohort, 0, round(weights[unit], 6)))
    units = pd.DataFrame(units, columns=["unit", "person", "cohort", "treated", "weight"])
    n = len(units)

    # Person-level traits shared by all units of a person (this is what clustering is about).
    persons = units["person"].unique()
    trait = dict(zip(persons, rng.normal(0.0, 1.0, size=len(persons))))
    frailty = dict(zip(persons, np.exp(rng.normal(0.0, 0.5, size=len(persons)))))
    z = units["person"].map(trait).to_numpy()
    fr = units["person"].map(frailty).to_numpy()
    treated = units["treated"].to_numpy()
    units["age"] = np.clip(np.round(40 + 10 * rng.normal(size=n) + 3 * z), 19, 66).astype(int)
    units["temporary_contract"] = (rng.random(n) < 0.3 + 0.1 * treated).astype(int)
    units["sector"] = rng.choice(["private", "nonprofit", "government"], size=n, p=[0.5, 0.3, 0.2])

    # Panel: employment with persistence, an effect on trainees after month 0, and exits.
    base = 0.55 + 0.12 * np.tanh(z)
    effect = np.where(MONTHS >= 1, 0.08, 0.0)
    rows = []
    exit_month = np.where(rng.random(n) < 0.08, rng.integers(-2, 7, size=n), 99)
    for i in range(n):
        latent = rng.normal(size=len(MONTHS))
        for m in range(1, len(MONTHS)):
            latent[m] = 0.7 * latent[m - 1] + np.sqrt(1 - 0.49) * latent[m]
        u = 0.5 * (1 + np.tanh(latent * 0.8))
        p1 = base[i] + effect * treated[i] - 0.01 * (MONTHS + 6)
        e1 = (u < p1).astype(int)
        e12 = ((u < p1 - 0.15) & (e1 == 1)).astype(int)
        obs = (MONTHS < exit_month[i]).astype(int)
        for m, month in enumerate(MONTHS):
            rows.append((i, int(month), int(e1[m]), int(e12[m]), int(obs[m])))
    panel = pd.DataFrame(rows, columns=["i", "month", "employed_1h", "employed_12h", "observed"])
    panel = (units.iloc[panel["i"].to_numpy()][["unit", "person", "cohort", "treated", "weight"]]
             .reset_index(drop=True).join(panel.drop(columns="i")))
    panel["part"] = "panel"

    # Survival: discrete monthly hazards 0..12, events at time 0 possible, ties everywhere.
    hr = np.where(treated == 1, 0.6, 1.0) * np.where(units["temporary_contract"] == 1, 1.8, 1.0) * fr
    surv_rows = []
    for i in range(n):
        times = {}
        for outcome, h0 in (("job", 0.045), ("work", 0.03)):
            censor = int(rng.choice([12, 12, 12, int(rng.integers(3, 12))]))
            t_event = None
            for month in range(0, 13):
                if rng.random() < 1 - np.exp(-h0 * hr[i] * (1.6 if month == 0 else 1.0)):
                    t_event = month
                    break
            if t_event is not None and t_event <= censor:
                times[outcome] = (t_event, 1)
            else:
                times[outcome] = (censor, 0)
        if times["work"][1] == 1 and times["job"][1] == 0 and times["work"][0] <= times["job"][0]:
            times["job"] = (times["work"][0], 1)  # losing all paid work also ends the baseline job
        surv_rows.append((times["job"][0], times["job"][1], times["work"][0], times["work"][1]))
    survival = units.join(pd.DataFrame(surv_rows, columns=["time_job", "event_job", "time_work", "event_work"]))
    survival["part"] = "survival"

    columns = [
        "part", "unit", "person", "cohort", "treated", "weight", "month", "employed_1h", "employed_12h",
        "observed", "time_job", "event_job", "time_work", "event_work", "age", "temporary_contract", "sector",
    ]
    data = pd.concat([panel, survival], ignore_index=True)[columns]
    for col in ["month", "employed_1h", "employed_12h", "observed", "time_job", "event_job", "time_work",
                "event_work", "age", "temporary_contract"]:
        data[col] = data[col].astype("Int64")
    return data.sort_values(["part", "unit", "month"], na_position="first").reset_index(drop=True)


def main() -> None:
    data = build()
    data.to_csv(HERE / "effects_data.csv", index=False, lineterminator="\n", float_format="%.6f")


if __name__ == "__main__":
    main()
