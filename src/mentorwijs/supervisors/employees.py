"""The employees' questionnaire: who they are (baseline) and what they noticed (follow-up).

Shares are of those answering the item (``n``), counts are the numerators; for the
multi-select disability question the denominator is the respondents who answered it (at least
one option given), so the shares may add up to more than 100%. Rows (key ``measure, wave,
category``):

- ``occupation``: one row per occupation code (1..6);
- ``disability``: one row per type (1..5);
- ``work_ability``: category ``4-5`` (good or excellent);
- ``work_ability_demands``: mean and SD of the sum of ``demands_physical`` and
  ``demands_mental`` (work ability against job demands, 2..10) among those answering both;
- ``job_satisfaction``: category ``4-5`` (satisfied or very satisfied);
- at the follow-up wave, ``perceived_change_communication`` and ``perceived_change_attitude``:
  the employee's own perception of a change in the supervisor (1 much worse .. 3 no change ..
  5 much better), categories ``1-2`` (worse), ``3`` (no change), ``4-5`` (better) and a row
  with their mean and SD. They are self-reported perceptions of those who answered the
  follow-up, with their own n, not a measured effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mentorwijs.supervisors._common import mean_sd, require_columns, require_range, require_unique, sort_rows
from mentorwijs.supervisors.process import PROCESS_COLUMNS, _row

#: Occupation codes of the employees' questionnaire (docs/canonical-names.md).
OCCUPATIONS = {
    1: "agriculture or landscaping",
    2: "industrial",
    3: "services",
    4: "transport",
    5: "administrative",
    6: "specialised",
}
#: Disability types of the multi-select question, one 0/1 column ``disability_<code>`` each.
DISABILITIES = {
    1: "physical",
    2: "low education or learning delay",
    3: "mild intellectual",
    4: "psychological",
    5: "unknown",
}
#: Follow-up perception items and the measure names they are reported under.
PERCEPTIONS = {"change_communication": "perceived_change_communication", "change_attitude": "perceived_change_attitude"}
PERCEPTION_GROUPS = (("1-2", "worse", (1, 2)), ("3", "no change", (3,)), ("4-5", "better", (4, 5)))


def _share_row(measure, wave, category, label, values, members):
    values = pd.to_numeric(values, errors="coerce").dropna()
    n = len(values)
    count = int(values.isin(members).sum())
    return _row(measure, wave, category, label, n, count, count / n if n else np.nan)


def employees_baseline(
    employees: pd.DataFrame,
    *,
    baseline_wave: str = "T0",
    followup_wave: str = "T2",
    high_levels: tuple[int, ...] = (4, 5),
    table: str = "employees",
) -> pd.DataFrame:
    """The employees' table (see the module docstring), sorted by its key.

    ``high_levels`` are the answers counted as good or excellent work ability and as
    satisfied or very satisfied (4 and 5 of five). Follow-up rows appear only when the data
    hold the follow-up wave.
    """
    require_columns(employees, ["person", "wave"], table=table)
    require_unique(employees, ["person", "wave"], table=table)
    employees = employees.reset_index(drop=True)
    base = employees.loc[employees["wave"] == baseline_wave]
    disability_columns = [f"disability_{code}" for code in DISABILITIES]
    require_columns(base,
                    ["occupation", *disability_columns, "work_ability", "demands_physical", "demands_mental",
                     "job_satisfaction"], table=table)
    require_range(employees, "occupation", min(OCCUPATIONS), max(OCCUPATIONS), table=table)
    for column in disability_columns:
        require_range(employees, column, 0, 1, table=table)
    for column in ("work_ability", "demands_physical", "demands_mental", "job_satisfaction"):
        require_range(employees, column, 1, 5, table=table)
    high = ("-".join(str(v) for v in (min(high_levels), max(high_levels))) if len(high_levels) > 1
            else str(high_levels[0]))

    rows = []
    occupation = pd.to_numeric(base["occupation"], errors="coerce").dropna()
    for code, label in OCCUPATIONS.items():
        count = int((occupation == code).sum())
        rows.append(_row("occupation", baseline_wave, str(code), label, len(occupation), count,
                         count / len(occupation) if len(occupation) else np.nan))
    answered = base[disability_columns].notna().any(axis=1)
    respondents = base.loc[answered, disability_columns].fillna(0)
    for code, label in DISABILITIES.items():
        count = int((respondents[f"disability_{code}"] == 1).sum())
        n = len(respondents)
        rows.append(_row("disability", baseline_wave, str(code), label, n, count, count / n if n else np.nan))
    rows.append(_share_row("work_ability", baseline_wave, high, "good or excellent", base["work_ability"], high_levels))
    demands = (pd.to_numeric(base["demands_physical"], errors="coerce")
               + pd.to_numeric(base["demands_mental"], errors="coerce"))
    n, mean, sd = mean_sd(demands)
    rows.append(_row("work_ability_demands", baseline_wave, n=n, mean=mean, sd=sd))
    rows.append(_share_row("job_satisfaction", baseline_wave, high, "satisfied or very satisfied",
                           base["job_satisfaction"], high_levels))

    follow = employees.loc[employees["wave"] == followup_wave]
    if len(follow):
        require_columns(follow, list(PERCEPTIONS), table=table)
        for item, measure in PERCEPTIONS.items():
            require_range(employees, item, 1, 5, table=table)
            for category, label, members in PERCEPTION_GROUPS:
                rows.append(_share_row(measure, followup_wave, category, label, follow[item], members))
            n, mean, sd = mean_sd(follow[item])
            rows.append(_row(measure, followup_wave, n=n, mean=mean, sd=sd))
    return sort_rows(pd.DataFrame(rows, columns=PROCESS_COLUMNS), ["measure", "wave", "category"])
