"""Adapter: rule report_tables -> mentorwijs.aggregates.publish_tables (export/tables -> reports/tables)."""

from mentorwijs.aggregates import publish_tables
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]) as log:
    names = publish_tables(dict(snakemake.input.items()), dict(snakemake.output.items()))
    log.info("copied %d exported tables into reports/tables: %s", len(names), ", ".join(names))
