"""Adapter: rule questionnaire_reliability -> mentorwijs.ingest.pipeline.reliability_stage."""

from mentorwijs.codebook import load_codebook
from mentorwijs.ingest.pipeline import reliability_stage
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]) as log:
    sources = snakemake.params.sources
    tables = dict(zip(sources, snakemake.input.tables))
    codebooks = {s: load_codebook(p) for s, p in zip(sources, snakemake.input.codebooks)}
    frame = reliability_stage(tables, codebooks, snakemake.output[0], snakemake.params.waves)
    log.info("Cronbach's alpha for %d scale-wave combinations", len(frame))
