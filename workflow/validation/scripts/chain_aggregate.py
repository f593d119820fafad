"""Adapter: rule chain_aggregate -> mentorwijs.chain.aggregate (every replication's rows -> chain.csv)."""

from mentorwijs.chain import aggregate
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]) as log:
    table = aggregate(list(snakemake.input.rows), snakemake.output[0])
    log.info("chain.csv: %d rows from %d replications", len(table), len(snakemake.input.rows))
