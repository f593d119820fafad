"""Adapter: rule figures -> mentorwijs.figures.draw_figures (aggregate tables -> PNG + SVG + manifest)."""

from pathlib import Path

from mentorwijs.aggregates import read_aggregate_tables
from mentorwijs.figures import draw_figures
from mentorwijs.messages import load_messages
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]) as log:
    tables = read_aggregate_tables(names=list(snakemake.input.keys()), paths=dict(snakemake.input.items()))
    records = draw_figures(
        tables,
        Path(snakemake.output[-1]).parent,  # the folder of figures.json
        load_messages(snakemake.params.language),
        synthetic=snakemake.params.synthetic,
        reference_month=snakemake.params.reference_month,
        method=snakemake.params.primary_method,
    )
    for name in tables.missing:
        log.warning("optional table %s is missing: its figure is not drawn", name)
    log.info("drew %d figures in %s", len(records), snakemake.params.language)
