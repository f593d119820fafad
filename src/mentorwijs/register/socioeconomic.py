"""Spells of socio-economic position (SECMBUS) to monthly benefit flags.

A SECM spell (``AANVSECM`` .. ``EINDSECM``) gives a person's main source of income
(``SECM``) and flags of receipt (social assistance, sickness or disability benefit, ...).
A month counts for a flag when a spell with that flag covers at least one day of it. Code
lists are in ``register.codes.secm``; the receipt-flag variables in
``register.variables.socioeconomic``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from mentorwijs.flow import Exclusions
from mentorwijs.register.calendar import month_of_day
from mentorwijs.register.persons import read_spells
from mentorwijs.register.spec import code_in

SOURCE = "socioeconomic"

#: Monthly flags, in the order of the columns of :func:`benefit_months`.
FLAGS = (
    "main_unemployment_assistance",  # main income: unemployment benefit or social assistance
    "main_sickness_disability",  # main income: sickness or disability benefit
    "receives_social_assistance",  # receives social assistance (any amount)
    "receives_sickness_disability",  # receives a sickness or work-disability benefit (any amount)
)


def socioeconomic_columns(variables: Mapping) -> list[str]:
    sv = variables["socioeconomic"]
    return [variables["person_type"], variables["person"], sv["start"], sv["end"], sv["position"],
            sv["receives_social_assistance"], sv["receives_sickness_disability"]]


def benefit_months(
    raw: pa.Table,
    persons: pd.DataFrame,
    *,
    variables: Mapping,
    codes: Mapping,
    window: tuple[int, int],
    file: str | Path,
    max_bad_share: float,
    exclusions: Exclusions,
) -> pd.DataFrame:
    """Person-months with at least one benefit flag: ``pid, month`` + :data:`FLAGS` (int8).

    An empty end date is an open spell (to the end of the window).
    """
    v, sv = variables, variables["socioeconomic"]
    sp = read_spells(raw, person_type=v["person_type"], person=v["person"], start=sv["start"], end=sv["end"],
                     persons=persons, found_types=codes["person_found"], file=file, max_bad_share=max_bad_share,
                     exclusions=exclusions, source=SOURCE)
    pid, keep = sp.pid, sp.keep
    first_m, last_m = window
    ms = month_of_day(sp.start)
    me = np.where(sp.open_end, last_m, month_of_day(sp.end))
    reversed_ = keep & (me < ms)
    exclusions.add(SOURCE, "spell ends before it starts", int(reversed_.sum()))
    keep &= ~reversed_

    flags = np.stack(
        [
            code_in(raw[sv["position"]], codes["secm"]["unemployment_or_assistance"]),
            code_in(raw[sv["position"]], codes["secm"]["sickness_or_disability"]),
            code_in(raw[sv["receives_social_assistance"]], codes["receipt_yes"]),
            code_in(raw[sv["receives_sickness_disability"]], codes["receipt_yes"]),
        ],
        axis=1,
    ).astype(np.int8)
    keep &= flags.any(axis=1) & (me >= first_m) & (ms <= last_m)
    rows = np.flatnonzero(keep)
    lo = np.maximum(ms[rows], first_m)
    hi = np.minimum(me[rows], last_m)
    count = (hi - lo + 1).astype(np.int64)
    idx = np.repeat(rows, count)
    month = np.repeat(lo, count) + (np.arange(len(idx)) - np.repeat(np.cumsum(count) - count, count))
    frame = pd.DataFrame({"pid": pid[idx].astype(np.int32), "month": month.astype(np.int16)})
    for i, name in enumerate(FLAGS):
        frame[name] = flags[idx, i]
    frame = frame.groupby(["pid", "month"], sort=True, as_index=False).max()
    for name in FLAGS:
        frame[name] = frame[name].astype(np.int8)
    frame["pid"] = frame["pid"].astype(np.int32)
    frame["month"] = frame["month"].astype(np.int16)
    return frame
