"""Process evaluation: dose delivered, dose received, extra time, satisfaction, context.

Every number is counted from the data; nothing is typed in. Shares are of those answering
the item at that wave (missing answers are left out of the denominator, which is ``n``);
means and SDs (n - 1) are of the non-missing answers. Which waves carry an item is read from
the data, so a new wave flows through. Rows (key ``measure, wave, category``):

- ``dose_delivered`` (no wave): trainings per delivery mode (``count``) and their share of all
  trainings (``n``); ``meetings_delivered``: mean and SD of the meetings given per training.
- ``dose_received``: meetings attended, one row per number 1..the most meetings a training
  gave (zero counts included), share of the supervisors answering.
- ``extra_time``: category ``1`` (guidance takes more time: yes), share of those answering;
  ``extra_hours``: mean and SD of the extra hours a week among those answering yes.
- every ``satisfaction_*`` and ``context_*`` item: mean, SD and n per wave.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from mentorwijs.contracts import column_names
from mentorwijs.errors import InputError
from mentorwijs.supervisors._common import (
    mean_sd,
    natural_key,
    require_columns,
    require_range,
    require_unique,
    sort_rows,
    sorted_waves,
)

#: Columns of the process and employees_baseline tables, in order: their contracts (mentorwijs.contracts).
PROCESS_COLUMNS = column_names("process")

#: Items summarised by mean and SD: every column whose name starts with one of these.
ITEM_PREFIXES = ("satisfaction_", "context_")

#: Valid range of the five-point items and of the extra hours a week.
ITEM_RANGE = (1, 5)
HOURS_RANGE = (0, 168)


def _row(measure, wave="", category="", label="", n=0, count=np.nan, share=np.nan, mean=np.nan, sd=np.nan):
    return {"measure": measure, "wave": wave, "category": category, "label": label, "n": int(n),
            "count": count, "share": share, "mean": mean, "sd": sd}


def check_schedule(schedule: pd.DataFrame, *, table: str = "schedule") -> pd.DataFrame:
    """Check the training schedule (one row per training group) and return it."""
    require_columns(schedule, ["training_group", "mode", "meetings_delivered"], table=table)
    require_unique(schedule, ["training_group"], table=table)
    missing = schedule["mode"].isna()
    if missing.any():
        raise InputError(
            "the delivery mode is missing",
            file=table,
            row=int(np.flatnonzero(missing.to_numpy())[0]) + 1,
            column="mode",
            hint="every training is on_site or online",
        )
    require_range(schedule, "meetings_delivered", 0, 1000, table=table)
    return schedule


def dose_delivered(schedule: pd.DataFrame) -> pd.DataFrame:
    """Trainings per delivery mode (count, share of all trainings) and meetings delivered."""
    check_schedule(schedule)
    n = len(schedule)
    rows = []
    counts = schedule["mode"].astype(str).value_counts()
    for mode in sorted(counts.index, key=natural_key):
        rows.append(_row("dose_delivered", category=mode, label=mode, n=n, count=int(counts[mode]),
                         share=counts[mode] / n))
    n_meet, mean, sd = mean_sd(schedule["meetings_delivered"])
    rows.append(_row("meetings_delivered", n=n_meet, mean=mean, sd=sd))
    return pd.DataFrame(rows, columns=PROCESS_COLUMNS)


def _answered_waves(supervisors: pd.DataFrame, column: str) -> list[str]:
    return sorted_waves(supervisors.loc[supervisors[column].notna(), "wave"], table="supervisors")


def dose_received(supervisors: pd.DataFrame, *, max_meetings: int) -> pd.DataFrame:
    """Meetings attended per wave: count and share of those answering, categories 1..max_meetings."""
    require_range(supervisors, "meetings_attended", 1, max_meetings, table="supervisors")
    rows = []
    for wave in _answered_waves(supervisors, "meetings_attended"):
        answers = supervisors.loc[(supervisors["wave"] == wave)
                                  & supervisors["meetings_attended"].notna(), "meetings_attended"]
        n = len(answers)
        for meetings in range(1, max_meetings + 1):
            count = int((answers == meetings).sum())
            rows.append(_row("dose_received", wave, str(meetings),
                             f"{meetings} meeting" + ("s" if meetings != 1 else ""), n, count, count / n))
    return pd.DataFrame(rows, columns=PROCESS_COLUMNS)


def extra_time(supervisors: pd.DataFrame) -> pd.DataFrame:
    """Share answering that guidance takes more time, and the extra hours a week among them."""
    require_range(supervisors, "extra_time", 0, 1, table="supervisors")
    bad = supervisors["extra_time"].notna() & ~supervisors["extra_time"].isin([0, 1])
    if bad.any():
        raise InputError(
            f"value {supervisors['extra_time'][bad].iloc[0]!r} is not 0 or 1",
            file="supervisors",
            row=int(np.flatnonzero(bad.to_numpy())[0]) + 1,
            column="extra_time",
            hint="extra_time is 1 (yes) or 0 (no)",
        )
    require_range(supervisors, "extra_hours", *HOURS_RANGE, table="supervisors")
    rows = []
    for wave in _answered_waves(supervisors, "extra_time"):
        at = supervisors.loc[(supervisors["wave"] == wave) & supervisors["extra_time"].notna()]
        yes = at["extra_time"] == 1
        n, count = len(at), int(yes.sum())
        rows.append(_row("extra_time", wave, "1", "yes", n, count, count / n))
        n_h, mean, sd = mean_sd(at.loc[yes, "extra_hours"])
        rows.append(_row("extra_hours", wave, n=n_h, mean=mean, sd=sd))
    return pd.DataFrame(rows, columns=PROCESS_COLUMNS)


def item_summaries(supervisors: pd.DataFrame, items: Sequence[str]) -> pd.DataFrame:
    """Mean, SD and n of five-point items per wave in which they were answered."""
    rows = []
    for item in items:
        require_range(supervisors, item, *ITEM_RANGE, table="supervisors")
        for wave in _answered_waves(supervisors, item):
            n, mean, sd = mean_sd(supervisors.loc[supervisors["wave"] == wave, item])
            rows.append(_row(item, wave, n=n, mean=mean, sd=sd))
    return pd.DataFrame(rows, columns=PROCESS_COLUMNS)


def process_table(supervisors: pd.DataFrame, schedule: pd.DataFrame) -> pd.DataFrame:
    """The process-evaluation table (see the module docstring), sorted by its key.

    ``supervisors``: the interim survey table (one row per supervisor per wave);
    ``schedule``: one row per training group. The meetings-attended categories run from 1 to
    the most meetings any training delivered.
    """
    require_columns(supervisors, ["supervisor", "wave", "meetings_attended", "extra_time", "extra_hours"],
                    table="supervisors")
    require_unique(supervisors, ["supervisor", "wave"], table="supervisors")
    supervisors = supervisors.reset_index(drop=True)
    check_schedule(schedule)
    items = sorted(c for c in supervisors.columns if c.startswith(ITEM_PREFIXES))
    max_meetings = (int(np.nanmax(pd.to_numeric(schedule["meetings_delivered"], errors="coerce"))) if len(schedule)
                    else 0)
    parts = [
        dose_delivered(schedule),
        dose_received(supervisors, max_meetings=max_meetings),
        extra_time(supervisors),
        item_summaries(supervisors, items),
    ]
    table = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    return sort_rows(table[PROCESS_COLUMNS], ["measure", "wave", "category"])
