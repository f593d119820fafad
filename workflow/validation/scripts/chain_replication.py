"""Adapter: rule chain_replication -> mentorwijs.chain.run_replication (one synthetic study -> its rows)."""

from pathlib import Path

from mentorwijs.chain import run_replication
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0], echo=False) as log:
    w = snakemake.wildcards
    run_replication(snakemake.params.config, scenario=w.scenario, scale=float(w.scale), seed=int(w.seed),
                    pool_scale=snakemake.params.pool_scale,
                    codebooks=Path(snakemake.input.codebooks[0]).parent, work=snakemake.params.work,
                    rows_out=snakemake.output.rows, seconds_out=snakemake.output.seconds, progress=log.info)
