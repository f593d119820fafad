"""Adapter: rule combine_questionnaire_waves -> mentorwijs.ingest.pipeline.combine_stage."""

from mentorwijs.codebook import load_codebook
from mentorwijs.ingest.pipeline import combine_stage
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]) as log:
    table = combine_stage(snakemake.input.interim, snakemake.input.missing, load_codebook(snakemake.input.codebook),
                          snakemake.output.interim, snakemake.output.missing)
    log.info("%s: %d rows from %d wave(s)", snakemake.wildcards.source, len(table), len(snakemake.input.interim))
