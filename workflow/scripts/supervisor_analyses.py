"""Adapter: rule supervisor_analyses -> mentorwijs.supervisors.analyses.supervisor_analyses_files."""

from mentorwijs.supervisors import TABLES
from mentorwijs.supervisors.analyses import INPUTS, SETTINGS, supervisor_analyses_files
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]) as log:
    tables = supervisor_analyses_files(
        {name: getattr(snakemake.input, name) for name in INPUTS},
        {name: getattr(snakemake.output, name) for name in TABLES},
        {key: getattr(snakemake.params, key) for key in SETTINGS},
    )
    for name in TABLES:
        log.info("%s: %d rows", name, len(tables[name]))
