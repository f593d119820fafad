"""Adapter: rule supervisors_long -> mentorwijs.ingest.pipeline.supervisors_long_stage."""

from mentorwijs.codebook import load_codebook
from mentorwijs.ingest.pipeline import supervisors_long_stage
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]) as log:
    i, o = snakemake.input, snakemake.output
    table = supervisors_long_stage(i.survey, i.study, i.invitations, i.schedule, load_codebook(i.codebook),
                                   out=o.table, exclusions=o.exclusions, flow=o.flow,
                                   waves=snakemake.params.waves)
    log.info("supervisors_long: %d rows, %d supervisors", len(table), table["supervisor"].nunique())
