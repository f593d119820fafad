"""The tables one ingest job writes for a source and wave.

From a parsed :class:`~mentorwijs.ingest.clean.WaveData` and the pseudonymisation key:

- the cleaned table (one row per respondent, canonical names, keyed by the pseudonym of the
  id; out-of-range values set to missing; scale scores added; no identifier, no free text);
- the missing-value reasons (``source, wave, record, item, code, reason``), one row per missing
  value of the cleaned table, ``record`` being the respondent's pseudonym;
- the exclusions (``source, wave, record, reason, n``), ``record`` being the file row and the
  pseudonym (``"17:3fa9..."``), never a raw identifier;
- the linkage table (pseudonym, raw id and identifier items of the kept records) that only the
  CBS hand-over reads and that is written outside every analysis input;
- the data-quality rows (first N cases per check plus the count).

Rows in = rows kept + rows excluded is checked here for every wave.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from mentorwijs.codebook import Codebook
from mentorwijs.ingest.clean import CleaningOptions, WaveData, analysis_columns, out_of_range
from mentorwijs.ingest.quality import quality_table, validate_input, validate_output
from mentorwijs.ingest.scales import scale_scores
from mentorwijs.ingest.values import NUMERIC_TYPES, OUT_OF_RANGE, Problem
from mentorwijs.pseudonymise import pseudonymise

EXCLUSION_COLUMNS = ["source", "wave", "record", "reason", "n"]
MISSING_COLUMNS = ["source", "wave", "record", "item", "code", "reason"]
SURVEY_FORMATS = ("castor_survey", "qualtrics")


@dataclass
class WaveTables:
    interim: pd.DataFrame
    missing: pd.DataFrame
    exclusions: pd.DataFrame
    linkage: pd.DataFrame
    quality: pd.DataFrame
    problems: list[Problem]
    rows_in: int
    encoding: str | None = None
    #: file-level warnings that change no output: undeclared columns (not read), absent optional columns
    notes: list[str] = field(default_factory=list)


def natural_key(name: str) -> list:
    """Sort key that puts ``knowledge_2`` before ``knowledge_10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"([0-9]+)", str(name))]


def natural_text(name: str) -> str:
    """A text sort key with the same order as :func:`natural_key` (numbers zero-padded)."""
    return re.sub(r"[0-9]+", lambda m: m.group().zfill(9), str(name))


def wave_sort_key(wave) -> int:
    return int(str(wave)[1:]) if isinstance(wave, str) and wave[1:].isdigit() else -1


def pseudonyms(values: pd.Series, key: bytes, namespace: str | None) -> pd.Series:
    """Pseudonyms in ``namespace``; a non-personal id (namespace None) is kept as it is."""
    values = values.astype("string")
    if namespace is None:
        return values
    return pseudonymise(values.where(values != "", pd.NA), key, namespace)


def record_labels(rows: pd.Series, ids: pd.Series) -> pd.Series:
    """``"<file row>:<pseudonym>"`` (the exclusion's record)."""
    return rows.astype("int64").astype(str) + ":" + ids.fillna("").astype(str)


def build_wave(data: WaveData, codebook: Codebook, key: bytes, *, stage: str,
               options: CleaningOptions = CleaningOptions()) -> WaveTables:
    """Every table of one ingest job (see the module docstring)."""
    rec = data.records
    pseudo = pseudonyms(rec["id"], key, codebook.id_namespace)
    wave = data.wave or ""
    # input boundary: records that reached the per-respondent rules
    candidates = rec.index[rec["candidate"]]
    columns = analysis_columns(data)
    checked = data.values.loc[candidates, columns].copy()
    checked.insert(0, "id", pseudo.loc[candidates])
    rows = rec.loc[candidates, "row"].tolist()
    boundary = validate_input(checked.reset_index(drop=True), rows, codebook, data.columns, data.outputs)
    candidate_rows = set(rec.loc[candidates, "row"].tolist())
    problems = [p for p in data.problems if p.row in candidate_rows or p.row is None] + boundary
    quality = quality_table(problems, stage=stage, source=data.source, wave=data.wave,
                            first_n=options.data_quality_first_n)

    kept = rec.index[rec["exclusion"].isna()]
    values = data.values.loc[kept, columns].copy()
    reasons = data.reasons.loc[kept, columns].copy()
    codes = data.codes.loc[kept, columns].copy()
    flags = out_of_range(data).loc[kept, columns]
    for column in columns:
        if flags[column].any():
            values.loc[flags[column], column] = float("nan")
            reasons.loc[flags[column], column] = OUT_OF_RANGE
    for name, cols in data.columns.items():
        if cols.item.type == "reference" and name in values:
            values[name] = pseudonyms(values[name], key, cols.item.refers_to)
    ids = pseudo.loc[kept]
    interim = pd.DataFrame(index=kept)
    interim[codebook.id_name] = ids.astype("string")
    if data.wave is not None:
        interim["wave"] = pd.Series(data.wave, index=kept, dtype="string")
    if data.format in SURVEY_FORMATS:
        interim["completed_on"] = rec.loc[kept, "completed_at"].dt.normalize().astype("datetime64[ns]")
    for column in sorted(columns, key=natural_key):
        interim[column] = values[column]
    scores = scale_scores(values, codebook, data.wave or "T0")
    for column in sorted(scores.columns):
        interim[column] = scores[column]
    interim = interim.sort_values(codebook.id_name, kind="mergesort").reset_index(drop=True)

    ranges = {c.item.name: tuple(map(float, c.item.range)) for c in data.columns.values()
              if c.item.type in NUMERIC_TYPES and c.item.range is not None}
    key_columns = [codebook.id_name] + (["wave"] if data.wave is not None else [])
    validate_output(interim, key_columns, ranges, what=f"{data.source} {wave}".strip())

    missing = _missing_long(values, codes, reasons, ids, data.source, wave)
    exclusions = pd.DataFrame({
        "source": data.source,
        "wave": wave,
        "record": record_labels(rec["row"], pseudo),
        "reason": rec["exclusion"],
        "n": 1,
        "_row": rec["row"],
    })[rec["exclusion"].notna()]
    exclusions = exclusions.sort_values(["_row", "reason"], kind="mergesort")[EXCLUSION_COLUMNS].reset_index(drop=True)
    exclusions["n"] = exclusions["n"].astype("int64")

    identifiers = [c for name, cols in data.columns.items() if cols.item.type == "identifier"
                   for c in data.outputs[name]]
    linkage = pd.DataFrame({codebook.id_name: ids.astype("string"), "raw_id": rec.loc[kept, "id"].astype("string")})
    for column in identifiers:
        linkage[column] = data.values.loc[kept, column].astype("string")
    linkage = linkage.sort_values(codebook.id_name, kind="mergesort").reset_index(drop=True)

    rows_in = len(rec)
    if rows_in != len(interim) + len(exclusions):  # pragma: no cover - guarded by the accounting tests
        raise RuntimeError(f"accounting: {rows_in} rows in, {len(interim)} kept, {len(exclusions)} excluded")
    return WaveTables(interim, missing, exclusions, linkage, quality, problems, rows_in, data.encoding,
                      list(data.notes))


def _missing_long(values: pd.DataFrame, codes: pd.DataFrame, reasons: pd.DataFrame, ids: pd.Series,
                  source: str, wave: str) -> pd.DataFrame:
    parts = []
    for column in values.columns:
        mask = values[column].isna()
        if not mask.any():
            continue
        parts.append(pd.DataFrame({
            "source": source,
            "wave": wave,
            "record": ids[mask].astype("string"),
            "item": column,
            "code": codes.loc[mask, column].astype("Float64"),
            "reason": reasons.loc[mask, column].fillna("no answer").astype("string"),
        }))
    if not parts:
        frame = pd.DataFrame({c: pd.Series(dtype="string") for c in MISSING_COLUMNS})
        frame["code"] = frame["code"].astype("Float64")
        return frame
    frame = pd.concat(parts, ignore_index=True)
    order = frame.assign(_i=frame["item"].map(natural_text))
    frame = frame.loc[order.sort_values(["record", "_i"], kind="mergesort").index].reset_index(drop=True)
    for column in ("source", "wave", "item"):
        frame[column] = frame[column].astype("string")
    return frame[MISSING_COLUMNS]


def combine_waves(tables: list[pd.DataFrame], id_name: str, scales: list[str]) -> pd.DataFrame:
    """Stack per-wave tables: keys first, items in natural order, scale scores last; sorted by id and wave."""
    frame = pd.concat([t for t in tables if len(t.columns)], ignore_index=True, sort=False)
    keys = [c for c in (id_name, "wave", "completed_on") if c in frame.columns]
    scale_cols = sorted(c for c in frame.columns if c in scales)
    items = sorted((c for c in frame.columns if c not in keys and c not in scale_cols), key=natural_key)
    frame = frame[keys + items + scale_cols]
    order = frame.assign(_w=frame["wave"].map(wave_sort_key)) if "wave" in frame else frame
    sort_by = [id_name] + (["_w"] if "wave" in frame else [])
    return frame.loc[order.sort_values(sort_by, kind="mergesort").index].reset_index(drop=True)


def combine_missing(tables: list[pd.DataFrame]) -> pd.DataFrame:
    frame = pd.concat(tables, ignore_index=True)
    if frame.empty:
        return frame
    order = frame.assign(_w=frame["wave"].map(wave_sort_key), _i=frame["item"].map(natural_text))
    return frame.loc[order.sort_values(["_w", "record", "_i"], kind="mergesort").index].reset_index(drop=True)
