"""All tables of the supervisors' part from the four input tables, and their writer.

:func:`supervisor_analyses` takes DataFrames and plain values and returns DataFrames (the
workflow adapter reads the parquet files and calls it); :func:`write_tables` writes them as
CSV: UTF-8, comma, decimal point, numbers to 8 significant digits, missing as an empty cell,
``\\n`` line ends, written in full to a temporary file first so no partial file is ever left.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from mentorwijs.supervisors.attrition import attrition
from mentorwijs.supervisors.employees import employees_baseline
from mentorwijs.supervisors.mixed import DEFAULT_OPTIMIZERS
from mentorwijs.supervisors.models import supervisor_effects, supervisor_sensitivity
from mentorwijs.supervisors.process import process_table
from mentorwijs.files import check_read
from mentorwijs.tables import format_number, read_parquet, write_csv_table

log = logging.getLogger(__name__)

#: Names of the tables, as under reports/tables/.
TABLES = ("supervisor_effects", "supervisor_means", "supervisor_sensitivity", "attrition", "process",
          "employees_baseline")

#: Columns holding whole numbers (written without decimals, nullable where missing).
INTEGER_COLUMNS = {
    "n", "n_reference", "n_obs", "n_supervisors", "n_groups", "converged", "boundary", "primary",
    "count", "n_stayed", "n_dropped",
}


def supervisor_analyses(
    supervisors_long: pd.DataFrame,
    supervisors: pd.DataFrame,
    schedule: pd.DataFrame,
    employees: pd.DataFrame,
    *,
    constructs: Sequence[str],
    reference_wave: str,
    primary_wave: str,
    optimizers: Sequence[str] = DEFAULT_OPTIMIZERS,
    guided_cutoff: float = 10,
    baseline_covariates: Mapping[str, str] | None = None,
    employees_followup_wave: str = "T2",
) -> dict[str, pd.DataFrame]:
    """Every table of the supervisors' part, by name (see :data:`TABLES`)."""
    covariates = dict(baseline_covariates or {})
    log.info("supervisors_long: %d rows, %d supervisors", len(supervisors_long),
             supervisors_long["supervisor"].nunique() if "supervisor" in supervisors_long else 0)
    effects, means = supervisor_effects(
        supervisors_long, constructs, reference_wave=reference_wave, primary_wave=primary_wave, optimizers=optimizers
    )
    log.info("mixed models fitted: %d contrasts", len(effects))
    sensitivity = supervisor_sensitivity(
        supervisors_long,
        constructs,
        reference_wave=reference_wave,
        covariates=covariates,
        guided_cutoff=guided_cutoff,
        optimizers=optimizers,
        main_effects=effects,
    )
    log.info("sensitivity analyses: %d rows", len(sensitivity))
    tables = {
        "supervisor_effects": effects,
        "supervisor_means": means,
        "supervisor_sensitivity": sensitivity,
        "attrition": attrition(supervisors_long, constructs, covariates=covariates, reference_wave=reference_wave),
        "process": process_table(supervisors, schedule),
        "employees_baseline": employees_baseline(employees, baseline_wave=reference_wave,
                                                 followup_wave=employees_followup_wave),
    }
    return {name: with_integer_columns(table) for name, table in tables.items()}


def with_integer_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The table with its whole-number columns as nullable integers."""
    table = table.copy()
    for column in table.columns:
        if column in INTEGER_COLUMNS:
            table[column] = pd.array(
                [pd.NA if (v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))) else int(v)
                 for v in table[column]],
                dtype="Int64",
            )
    return table


def format_table(table: pd.DataFrame) -> pd.DataFrame:
    """Every cell as the text the project's CSV writes (:func:`mentorwijs.tables.format_number`)."""
    return table.astype(object).map(format_number)


def write_tables(tables: Mapping[str, pd.DataFrame], paths: Mapping[str, str | Path]) -> None:
    """Write each named table to its path (the project's CSV, :mod:`mentorwijs.tables`)."""
    missing = [name for name in paths if name not in tables]
    if missing:
        raise KeyError(f"no table named {missing[0]!r}")
    for name, path in paths.items():
        write_csv_table(tables[name], path)


#: The names of the parquet inputs of the supervisors' part (contract files of the questionnaire
#: part; their paths: the step ``supervisor_analyses`` of mentorwijs.ingest.steps.QUESTIONNAIRE_STEPS).
INPUTS = ("supervisors_long", "supervisors", "schedule", "employees")


#: The keys of the ``supervisors`` config section that :func:`supervisor_analyses_files` uses.
#: The columns of data/processed/supervisors_long.parquet that the analyses rely on (docs/files.md).
LONG_COLUMNS = ("supervisor", "training_group", "wave")
SETTINGS = ("constructs", "reference_wave", "primary_wave", "optimizers", "employees_guided_cutoff",
            "baseline_covariates", "employees_followup_wave")


def supervisor_analyses_files(
    inputs: Mapping[str, str | Path], outputs: Mapping[str, str | Path], settings: Mapping[str, object]
) -> dict[str, pd.DataFrame]:
    """Read the contract files, run :func:`supervisor_analyses` with the ``supervisors`` config
    section's values (``settings``) and write every table; used by the Snakemake rule and by
    ``mentorwijs run --part questionnaires``."""
    frames = {name: read_parquet(inputs[name]) for name in INPUTS}
    check_read(frames["supervisors_long"], "supervisors_long", file=inputs["supervisors_long"], columns=LONG_COLUMNS)
    tables = supervisor_analyses(
        frames["supervisors_long"],
        frames["supervisors"],
        frames["schedule"],
        frames["employees"],
        constructs=list(settings["constructs"]),
        reference_wave=str(settings["reference_wave"]),
        primary_wave=str(settings["primary_wave"]),
        optimizers=list(settings["optimizers"]),
        guided_cutoff=float(settings["employees_guided_cutoff"]),
        baseline_covariates=dict(settings["baseline_covariates"]),
        employees_followup_wave=str(settings["employees_followup_wave"]),
    )
    write_tables(tables, {name: outputs[name] for name in TABLES})
    return tables
