"""Adapter: rule supervisor_analyses -> mentorwijs.supervisors.supervisor_analyses."""

import pandas as pd

from mentorwijs.supervisors import TABLES, supervisor_analyses, write_tables
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]) as log:
    inputs = {
        name: pd.read_parquet(getattr(snakemake.input, name))
        for name in ("supervisors_long", "supervisors", "schedule", "employees")
    }
    tables = supervisor_analyses(
        inputs["supervisors_long"],
        inputs["supervisors"],
        inputs["schedule"],
        inputs["employees"],
        constructs=list(snakemake.params.constructs),
        reference_wave=snakemake.params.reference_wave,
        primary_wave=snakemake.params.primary_wave,
        optimizers=list(snakemake.params.optimizers),
        guided_cutoff=snakemake.params.employees_guided_cutoff,
        baseline_covariates=dict(snakemake.params.baseline_covariates),
        employees_followup_wave=snakemake.params.employees_followup_wave,
    )
    write_tables(tables, {name: getattr(snakemake.output, name) for name in TABLES})
    for name in TABLES:
        log.info("%s: %d rows", name, len(tables[name]))
