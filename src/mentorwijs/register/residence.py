"""Where a person lives: residence spells -> address object -> municipality -> labour-market region.

The chain is year-specific: the address object's municipality in year *Y* comes from the
column ``gem<Y>`` of the address file (municipalities merge), and the municipality's
labour-market region from the rows of year *Y* of the municipality table. Where a year is
not delivered the nearest earlier year is used (else the nearest later one) and a warning
is logged. A person's residence on a day is the spell covering that day (the latest-starting
one if spells overlap); an empty or far-future end date is an open spell.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mentorwijs.errors import InputError
from mentorwijs.flow import Exclusions
from mentorwijs.register.calendar import civil_from_days
from mentorwijs.register.extracts import first_data_row, text
from mentorwijs.register.persons import read_spells
from mentorwijs.register.spec import normalise_codes

log = logging.getLogger(__name__)

SOURCE = "residence"
OPEN_END = np.iinfo(np.int32).max


def residence_columns(variables: Mapping) -> list[str]:
    rv = variables["residence"]
    return [variables["person_type"], variables["person"], rv["start"], rv["end"], rv["object_type"], rv["object"]]


def year_columns(names: Sequence[str], pattern: str) -> dict[int, str]:
    """Columns named by ``pattern`` (``"gem{year}"``) -> {year: column name}."""
    regex = re.compile("^" + re.escape(pattern).replace(r"\{year\}", r"([0-9]{4})") + "$", re.IGNORECASE)
    found = {}
    for name in names:
        match = regex.match(str(name).strip())
        if match:
            found[int(match.group(1))] = str(name).strip()
    return dict(sorted(found.items()))


def nearest_year(year: int, available: Sequence[int]) -> int:
    """The latest available year not after ``year``, else the earliest available one."""
    available = sorted(available)
    earlier = [y for y in available if y <= year]
    return earlier[-1] if earlier else available[0]


def _object_key(kind, number) -> pa.ChunkedArray:
    return pc.binary_join_element_wise(text(kind), text(number), ":")


def residence_spells(raw: pa.Table, persons: pd.DataFrame, *, variables: Mapping, codes: Mapping, file: str | Path,
                     max_bad_share: float, exclusions: Exclusions) -> pd.DataFrame:
    """Residence spells ``pid, start, end, object`` (days since 1970-01-01; open end = int32 max)."""
    v, rv = variables, variables["residence"]
    sp = read_spells(raw, person_type=v["person_type"], person=v["person"], start=rv["start"], end=rv["end"],
                     persons=persons, found_types=codes["person_found"], file=file, max_bad_share=max_bad_share,
                     exclusions=exclusions, source=SOURCE)
    pid, start, keep = sp.pid, sp.start, sp.keep
    end = np.where(sp.open_end, OPEN_END, np.minimum(sp.end, OPEN_END))
    rows = np.flatnonzero(keep)
    objects = _object_key(raw[rv["object_type"]], raw[rv["object"]]).take(pa.array(rows))
    frame = pd.DataFrame(
        {
            "pid": pid[rows].astype(np.int32),
            "start": start[rows].astype(np.int32),
            "end": end[rows].astype(np.int32),
            "object": np.asarray(objects.to_pylist(), dtype=object),
        }
    )
    return frame.sort_values(["pid", "start"], kind="mergesort").reset_index(drop=True)


def address_municipalities(raw: pa.Table, *, variables: Mapping, years: Mapping[int, str]) -> pd.DataFrame:
    """Address objects: ``object`` + one column per delivered year (municipality code, normalised)."""
    av = variables["addresses"]
    frame = pd.DataFrame({"object": np.asarray(_object_key(raw[av["object_type"]], raw[av["object"]]).to_pylist(),
                                               dtype=object)})
    for year, column in years.items():
        frame[year] = np.asarray(normalise_codes(_strip_gm(raw[column])).to_pylist(), dtype=object)
    return frame.drop_duplicates("object", keep="first").set_index("object")


def _strip_gm(column) -> pa.ChunkedArray:
    s = text(column)
    return pc.replace_substring_regex(s, r"^(?i:gm)", "")


def municipality_regions(raw: pa.Table, *, variables: Mapping, file: str | Path) -> pd.DataFrame:
    """The year-specific table ``year, municipality, region``."""
    mv = variables["municipality_regions"]
    year_txt = text(raw[mv["year"]])
    ok = pc.fill_null(pc.utf8_is_digit(year_txt), False).to_numpy(zero_copy_only=False)
    if not ok.all():
        first = int(np.flatnonzero(~ok)[0])
        raise InputError(f"the year is not a number ({year_txt[first].as_py()!r})", file=file,
                         row=first + first_data_row(file), column=mv["year"],
                         hint="the column must hold the year (e.g. 2019) the municipality belongs to a "
                         "region in; check the file or register.variables.municipality_regions.year in config.yaml")
    frame = pd.DataFrame(
        {
            "year": pc.cast(year_txt, pa.int64()).to_numpy(zero_copy_only=False),
            "municipality": np.asarray(normalise_codes(_strip_gm(raw[mv["municipality"]])).to_pylist(), dtype=object),
            "region": np.asarray(text(raw[mv["region"]]).to_pylist(), dtype=object),
        }
    )
    dup = (frame.duplicated(["year", "municipality"], keep=False)
           & ~frame.duplicated(["year", "municipality", "region"], keep=False))
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(f"municipality {frame['municipality'].iat[row]!r} has two labour-market regions in "
                         f"{frame['year'].iat[row]}", file=file, row=row + first_data_row(file),
                         column=mv["municipality"],
                         hint="each municipality belongs to one labour-market region per year: correct the table "
                         "(take it again from the CBS classification)")
    return frame.drop_duplicates(["year", "municipality"]).reset_index(drop=True)


def regions_on(spells: pd.DataFrame, addresses: pd.DataFrame, regions: pd.DataFrame, day: int) -> pd.Series:
    """Labour-market region of every person with a residence spell covering ``day``.

    Returns a Series indexed by ``pid`` (persons without a covering spell, or whose address
    or municipality is unknown, are absent).
    """
    covering = spells[(spells["start"].to_numpy() <= day) & (spells["end"].to_numpy() >= day)]
    covering = covering.drop_duplicates("pid", keep="last")  # sorted by start: the latest-starting spell
    year = int(civil_from_days(np.array([day]))[0][0])
    if addresses.shape[1] == 0:
        raise InputError("the address file has no municipality column for any year",
                         hint="set register.variables.addresses.municipality (e.g. gem{year}) to the delivered columns")
    addr_year = nearest_year(year, list(addresses.columns))
    if addr_year != year:
        log.warning("address file: no municipality column for %d; using %d", year, addr_year)
    municipality = covering["object"].map(addresses[addr_year])
    table_year = nearest_year(year, sorted(regions["year"].unique()))
    if table_year != year:
        log.warning("municipality table: no rows for %d; using %d", year, table_year)
    lookup = regions[regions["year"] == table_year].set_index("municipality")["region"]
    region = municipality.map(lookup)
    result = pd.Series(region.to_numpy(), index=covering["pid"].to_numpy())
    return result[result.notna()]
