"""Variable names and code lists of a register delivery.

CBS deliveries differ in variable names (``OPLNIVSOI2021AGG4HBMETNIRWO`` changes with the
education classification, ``gem2017``.. with the years delivered) and in code lists (SECM
categories, contract codes, size classes). They live in ``config.yaml`` under
``register.variables`` and ``register.codes``; the defaults below are the names and codes of
``docs/raw-data.md``. Callers merge the config over the defaults with :func:`variables` and
:func:`codes` and pass the result to the library functions.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mentorwijs.errors import ConfigError

DEFAULT_VARIABLES: dict[str, Any] = {
    "person_type": "RINPERSOONS",
    "person": "RINPERSOON",
    "persons": {
        "sex": "GBAGESLACHT",
        "birth_year": "GBAGEBOORTEJAAR",
        "birth_month": "GBAGEBOORTEMAAND",
        "generation": "GBAGENERATIE",
    },
    "payroll": {
        "job": "IKVID",
        "employer": "SBEID",
        "start": "SDATUMAANVANGIKO",
        "end": "SDATUMEINDEIKO",
        "job_start": "SDATUMAANVANGIKVORG",
        "hours": "SBASISUREN",
        "wage": "SLNINGLD",
        "contract": "SCONTRACTSOORT",
        "job_type": "SSOORTBAAN",
        "cao_sector": "SCAOSECTOR",
        "wage_cost_benefit": "SIndAvrLkvDgBafSb",
        "period_type": "STIJDVAKTYPE",
    },
    "socioeconomic": {
        "start": "AANVSECM",
        "end": "EINDSECM",
        "position": "SECM",
        "receives_social_assistance": "XKOPPELBIJSTANDSECM",
        "receives_sickness_disability": "XKOPPELZIEKTEAOSECM",
    },
    "education": {"level": "OPLNIVSOI2021AGG4HBMETNIRWO"},
    "residence": {
        "start": "GBADATUMAANVANGADRESHOUDING",
        "end": "GBADATUMEINDEADRESHOUDING",
        "object_type": "SOORTOBJECTNUMMER",
        "object": "RINOBJECTNUMMER",
    },
    "addresses": {"object_type": "SOORTOBJECTNUMMER", "object": "RINOBJECTNUMMER", "municipality": "gem{year}"},
    "municipality_regions": {"year": "jaar", "municipality": "gemeente", "region": "arbeidsmarktregio"},
    "deaths": {"date": "GBADatumOverlijden"},
    "migration": {"date": "GBADATUMVESTIGING", "type": "GBAVESTIGINGSTYPE"},
    "businesses": {"employer": "SBEID", "year": "JAAR", "activity": "SBI2008", "size": "GKSBS"},
}

DEFAULT_CODES: dict[str, Any] = {
    "person_found": ["R"],
    "sex": {"man": ["1"], "woman": ["2"]},
    "generation": {"none": ["0"], "first_generation": ["1"], "second_generation": ["2"]},
    "education_level": {"low": ["1"], "middle": ["2"], "high": ["3"]},
    "contract": {"fixed_term": ["B", "b"], "open_ended": ["O", "o"], "not_applicable": ["N", "n"]},
    "sheltered_job": ["3"],
    "government_cao_sectors": ["3000", "3100", "3200", "3300", "3400", "3500", "3600", "3700", "3800"],
    "wage_cost_benefit": ["1"],
    "period_type": {"monthly": ["5"], "four_weekly": ["1"], "half_yearly": ["3"], "annual": ["4"]},
    "secm": {
        "working": ["11", "12", "13", "14", "15"],
        "unemployment_or_assistance": ["21", "22", "23"],
        "sickness_or_disability": ["24"],
    },
    "receipt_yes": ["1"],
    "migration": {"emigration": ["E"], "immigration": ["I"]},
    "activity_sectors": {
        "agriculture": ["01-03"],
        "industry_construction": ["05-43"],
        "trade_transport_hospitality": ["45-56"],
        "business_services": ["58-82"],
        "public_education_health": ["84-88"],
        "other_services": ["90-99"],
    },
    "employer_size": {
        "small": ["0", "10", "21", "22", "30", "40", "50"],
        "medium": ["60", "71", "72", "81"],
        "large": ["82", "91", "92", "93"],
    },
}

UNKNOWN = "unknown"


def _merge(defaults: Mapping[str, Any], overrides: Mapping[str, Any] | None, where: str) -> dict[str, Any]:
    result = copy.deepcopy(dict(defaults))
    for key, value in (overrides or {}).items():
        if key not in result:
            raise ConfigError(f"{where}.{key} is not a known key", hint=f"known keys: {', '.join(sorted(result))}")
        if isinstance(result[key], dict) and isinstance(value, Mapping) and where.endswith("variables"):
            result[key] = _merge(result[key], value, f"{where}.{key}")
        else:
            result[key] = copy.deepcopy(value)
    return result


def variables(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The delivery's variable names: ``register.variables`` over :data:`DEFAULT_VARIABLES`."""
    return _merge(DEFAULT_VARIABLES, overrides, "register.variables")


def codes(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The delivery's code lists: ``register.codes`` over :data:`DEFAULT_CODES` (whole entries replaced)."""
    merged = _merge(DEFAULT_CODES, overrides, "register.codes")
    for name in ("sex", "generation", "education_level", "contract", "period_type", "secm", "migration",
                 "activity_sectors", "employer_size"):
        entry = merged[name]
        if not isinstance(entry, Mapping) or not all(isinstance(v, list) for v in entry.values()):
            raise ConfigError(f"register.codes.{name} must map each category to a list of codes")
    activity_ranges(merged["activity_sectors"])
    return merged


# --------------------------------------------------------------------------------------
# code helpers


def normalise_code(value: str) -> str:
    """A code as compared: blanks removed; a number without leading zeros (``"00"`` -> ``"0"``)."""
    value = str(value).strip()
    if value.isdigit():
        return str(int(value))
    return value


def normalise_codes(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    """Vectorised :func:`normalise_code` on a text column."""
    s = pc.fill_null(pc.utf8_trim_whitespace(column), "")
    digits = pc.fill_null(pc.utf8_is_digit(s), False)
    stripped = pc.utf8_ltrim(s, "0")
    stripped = pc.if_else(pc.equal(stripped, ""), "0", stripped)
    return pc.if_else(digits, stripped, s)


def dictionary(column: pa.ChunkedArray | pa.Array) -> tuple[list[str], np.ndarray]:
    """The distinct texts of a column (blanks trimmed, nulls as '') and each row's index into them.

    Code columns hold a handful of distinct values in millions of rows: working on the
    distinct values and indexing back is much faster than comparing every row.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], pa.string())
    encoded = pc.dictionary_encode(pc.fill_null(column, ""))
    values = [str(v).strip() for v in encoded.dictionary.to_pylist()]
    return values, encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def code_in(column: pa.ChunkedArray | pa.Array, values) -> np.ndarray:
    """Boolean mask: the normalised code is one of ``values`` (normalised too)."""
    wanted = {normalise_code(v) for v in values}
    distinct, index = dictionary(column)
    hit = np.array([normalise_code(v) in wanted for v in distinct], dtype=bool)
    return hit[index] if len(distinct) else np.zeros(len(index), dtype=bool)


def categorise(column: pa.ChunkedArray | pa.Array, mapping: Mapping[str, list], *,
               default: str = UNKNOWN) -> np.ndarray:
    """Category per value from ``{category: [codes]}`` (normalised codes); ``default`` otherwise."""
    lookup = {normalise_code(code): category for category, codes_ in mapping.items() for code in codes_}
    distinct, index = dictionary(column)
    names = np.array([lookup.get(normalise_code(v), default) for v in distinct] + [default], dtype=object)
    return names[index] if len(distinct) else np.full(len(index), default, dtype=object)


def categorise_prefix(column: pa.ChunkedArray | pa.Array, mapping: Mapping[str, list], *,
                      default: str = UNKNOWN) -> np.ndarray:
    """Category per value from ``{category: [code prefixes]}``; ``default`` otherwise."""
    s = pc.fill_null(pc.utf8_trim_whitespace(column), "")
    result = np.full(len(s), default, dtype=object)
    for category, prefixes in mapping.items():
        for prefix in prefixes:
            hit = pc.fill_null(pc.starts_with(s, str(prefix)), False).to_numpy(zero_copy_only=False)
            result[hit] = category
    return result


_RANGE = re.compile(r"^\s*([0-9]{1,2})\s*(?:-\s*([0-9]{1,2}))?\s*$")


def activity_ranges(mapping: Mapping[str, list]) -> list[tuple[int, int, str]]:
    """``{sector: ["01-03", "45"]}`` -> [(first division, last division, sector)]."""
    ranges = []
    for sector, items in mapping.items():
        for item in items:
            match = _RANGE.match(str(item))
            if not match:
                raise ConfigError(
                    f"register.codes.activity_sectors.{sector}: {item!r} is not a two-digit SBI division or range",
                    hint='write e.g. "01-03" or "45"',
                )
            lo = int(match.group(1))
            hi = int(match.group(2) or lo)
            ranges.append((lo, hi, str(sector)))
    return ranges


def activity_sector(sbi: pa.ChunkedArray | pa.Array, mapping: Mapping[str, list]) -> np.ndarray:
    """Sector per SBI 2008 code (five digits; a lost leading zero is restored) from division ranges."""
    s = pc.fill_null(pc.utf8_trim_whitespace(sbi), "")
    digits = pc.fill_null(pc.utf8_is_digit(s), False).to_numpy(zero_copy_only=False)
    padded = pc.utf8_lpad(s, 5, "0")
    division = np.full(len(s), -1, dtype=np.int64)
    if digits.any():
        heads = pc.utf8_slice_codeunits(pc.filter(padded, pa.array(digits)), 0, 2)
        division[digits] = pc.cast(heads, pa.int64()).to_numpy(zero_copy_only=False)
    result = np.full(len(s), UNKNOWN, dtype=object)
    for lo, hi, sector in activity_ranges(mapping):
        result[(division >= lo) & (division <= hi)] = sector
    return result
