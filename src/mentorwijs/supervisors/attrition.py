"""Who stayed and who dropped out: baseline characteristics per later wave.

For every wave after the reference wave, the supervisors who answered the reference wave are
split into those who answered that wave (``stayed``: a row with at least one construct score)
and those who did not (``dropped``, including anyone who skipped that wave but came back later).
Both groups are described by their baseline characteristics and reference-wave scores:
numeric variables by n, mean and SD (n - 1), categorical ones by the share of each category
among those answering. The standardised difference is stayed minus dropped over the pooled SD,
sqrt((sd_stayed^2 + sd_dropped^2) / 2), for shares with sd^2 = p (1 - p).
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import pandas as pd

from mentorwijs.contracts import column_names
from mentorwijs.supervisors._common import mean_sd, natural_key, require_columns, sort_rows, wave_number
from mentorwijs.supervisors.models import category_labels, check_supervisors_long

#: Columns of the attrition table, in order: its contract (mentorwijs.contracts).
ATTRITION_COLUMNS = column_names("attrition")


def standardised_difference(mean_a: float, sd_a: float, mean_b: float, sd_b: float) -> float:
    """(mean_a - mean_b) / sqrt((sd_a^2 + sd_b^2) / 2); 0 for equal means with no spread."""
    difference = mean_a - mean_b
    pooled = math.sqrt((sd_a**2 + sd_b**2) / 2) if math.isfinite(sd_a) and math.isfinite(sd_b) else math.nan
    if not math.isfinite(difference):
        return math.nan
    if pooled == 0:
        return 0.0 if difference == 0 else math.nan
    return difference / pooled


def attrition(
    long: pd.DataFrame,
    constructs: Sequence[str],
    *,
    covariates: Mapping[str, str],
    reference_wave: str = "T0",
) -> pd.DataFrame:
    """Baseline comparison of stayers and drop-outs per later wave (key ``wave, variable, category``).

    ``covariates`` maps baseline columns to ``numeric`` or ``categorical``; the reference-wave
    scores of ``constructs`` are added as numeric variables named ``<construct>_<reference wave>``.
    ``statistic`` says what ``value_*`` is: ``count`` (variable ``supervisors``: the number of
    supervisors in each group), ``mean`` (with ``sd_*``) or ``share`` (0..1 of those answering,
    ``n_*``).
    """
    waves = check_supervisors_long(long, constructs, reference_wave=reference_wave)
    require_columns(long, list(covariates), table="supervisors_long")
    answered = long.loc[long[list(constructs)].notna().any(axis=1)]
    baseline = answered.loc[answered["wave"] == reference_wave].set_index("supervisor")
    for construct in constructs:
        baseline[f"{construct}_{reference_wave}"] = baseline[construct]
    variables = {**dict(covariates), **{f"{c}_{reference_wave}": "numeric" for c in constructs}}
    rows = []
    for wave in waves:
        if wave_number(wave) <= wave_number(reference_wave):
            continue
        present = set(answered.loc[answered["wave"] == wave, "supervisor"])
        stayed = baseline.loc[baseline.index.isin(present)]
        dropped = baseline.loc[~baseline.index.isin(present)]
        rows.append(
            {"wave": wave, "variable": "supervisors", "category": "", "statistic": "count",
             "n_stayed": len(stayed), "value_stayed": float(len(stayed)), "sd_stayed": math.nan,
             "n_dropped": len(dropped), "value_dropped": float(len(dropped)), "sd_dropped": math.nan,
             "std_diff": math.nan}
        )
        for variable, kind in variables.items():
            if kind == "numeric":
                n_s, m_s, sd_s = mean_sd(stayed[variable])
                n_d, m_d, sd_d = mean_sd(dropped[variable])
                rows.append(
                    {"wave": wave, "variable": variable, "category": "", "statistic": "mean",
                     "n_stayed": n_s, "value_stayed": m_s, "sd_stayed": sd_s,
                     "n_dropped": n_d, "value_dropped": m_d, "sd_dropped": sd_d,
                     "std_diff": standardised_difference(m_s, sd_s, m_d, sd_d)}
                )
                continue
            labels_s = category_labels(stayed[variable]).dropna()
            labels_d = category_labels(dropped[variable]).dropna()
            levels = sorted(set(category_labels(baseline[variable]).dropna()), key=natural_key)
            for level in levels:
                p_s = float((labels_s == level).mean()) if len(labels_s) else math.nan
                p_d = float((labels_d == level).mean()) if len(labels_d) else math.nan
                sd_s = math.sqrt(p_s * (1 - p_s)) if math.isfinite(p_s) else math.nan
                sd_d = math.sqrt(p_d * (1 - p_d)) if math.isfinite(p_d) else math.nan
                rows.append(
                    {"wave": wave, "variable": variable, "category": level, "statistic": "share",
                     "n_stayed": len(labels_s), "value_stayed": p_s, "sd_stayed": math.nan,
                     "n_dropped": len(labels_d), "value_dropped": p_d, "sd_dropped": math.nan,
                     "std_diff": standardised_difference(p_s, sd_s, p_d, sd_d)}
                )
    return sort_rows(pd.DataFrame(rows, columns=ATTRITION_COLUMNS), ["wave", "variable", "category"])

