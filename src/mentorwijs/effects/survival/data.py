"""What every survival estimator reads: the survival table's columns and groups, the checked
inputs of one outcome, the covariates as a design matrix, the unit counts and the row layout of
the ``survival`` table."""


from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from mentorwijs.effects._common import (
    check_keys,
    indicator,
    require_columns,
    weights,
    whole_numbers,
)

SURVIVAL_COLUMNS = ("unit", "person", "cohort", "treated", "weight")


GROUPS = ((1, "treated"), (0, "control"))


def _survival_data(survival: pd.DataFrame, outcome: str, weight: str, cluster: str,
                   extra: Sequence[str] = ()) -> tuple[pd.DataFrame, list[str]]:
    time_col, event_col = f"time_{outcome}", f"event_{outcome}"
    require_columns(survival, [*SURVIVAL_COLUMNS, time_col, event_col, weight, cluster, *extra], "survival")
    check_keys(survival, ["unit", "person", "cohort", cluster], "survival")
    data = pd.DataFrame(
        {
            "time": whole_numbers(survival, time_col, "survival", minimum=0),
            "event": indicator(survival, event_col, "survival").astype(np.int64),
            "treated": indicator(survival, "treated", "survival").astype(np.int64),
            "w": weights(survival, weight, "survival"),
            "cluster": survival[cluster].to_numpy(),
            "person": survival["person"].to_numpy(),
            "cohort": survival["cohort"].to_numpy(),
        }
    )
    for column in extra:
        if column not in data:
            data[column] = survival[column].to_numpy()
    notes = []
    zero = data["w"].to_numpy() == 0
    if zero.any():
        notes.append(f"{int(zero.sum())} units with weight 0 left out")
        data = data[~zero].reset_index(drop=True)
    return data, notes


def design_matrix(df: pd.DataFrame, covariates: Sequence[str],
                  table: str = "survival") -> tuple[np.ndarray, list[str], np.ndarray]:
    """Numeric design matrix of covariates: numbers as they are, text/categories as indicators.

    A categorical covariate gets one 0/1 column per level except its first level in sorted order
    (the reference), named ``covariate=level``. Returns the matrix, the column names and a mask of
    complete rows (rows with a missing covariate are left out by the caller, and counted).
    """
    require_columns(df, covariates, table)
    columns, names = [], []
    complete = np.ones(len(df), dtype=bool)
    for cov in covariates:
        series = df[cov]
        complete &= series.notna().to_numpy()
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            columns.append(pd.to_numeric(series).to_numpy(dtype=float))
            names.append(cov)
        else:
            levels = sorted(series.dropna().astype(str).unique())
            for level in levels[1:]:
                columns.append((series.astype(str) == level).to_numpy(dtype=float))
                names.append(f"{cov}={level}")
    X = np.column_stack(columns) if columns else np.zeros((len(df), 0))
    X = np.where(complete[:, None], X, 0.0)
    return X, names, complete


def unit_counts(treated: np.ndarray, event: np.ndarray, cluster: np.ndarray) -> dict[str, int]:
    """Units and events per group and the clusters behind a survival estimate (unweighted):
    ``n_treated, n_control, n_event_treated, n_event_control, n_event, n_clusters``; ``df_resid``
    = n_clusters - 1 (the degrees of freedom of cluster-robust inference)."""
    treated = np.asarray(treated).astype(bool)
    event = np.asarray(event).astype(bool)
    n_clusters = int(pd.Series(np.asarray(cluster)).nunique())
    return {
        "n_treated": int(treated.sum()),
        "n_control": int((~treated).sum()),
        "n_event_treated": int((event & treated).sum()),
        "n_event_control": int((event & ~treated).sum()),
        "n_event": int(event.sum()),
        "n_clusters": n_clusters,
        "df_resid": n_clusters - 1,
    }


#: Columns of the ``survival`` table (its contract, mentorwijs.contracts).
SURVIVAL_TABLE_COLUMNS = ["outcome", "model", "term", "coef", "se", "hr", "ci_low", "ci_high", "p", "statistic",
                          "test_df", "n_treated", "n_control", "n_event_treated", "n_event_control", "n_event",
                          "n_clusters", "df_resid", "converged", "warnings"]


def stack_rows(parts: Sequence[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """Tables with the same columns one under the other (cells as objects while stacking, so an
    all-empty column of one part never decides a column's type), with numeric columns numeric."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=list(columns))
    stacked = pd.DataFrame([row for p in parts for row in p[list(columns)].astype(object).itertuples(index=False)],
                           columns=list(columns))
    return stacked.infer_objects()
