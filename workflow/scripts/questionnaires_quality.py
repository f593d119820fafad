"""Adapter: rule questionnaire_data_quality -> mentorwijs.ingest.pipeline.quality_stage."""

from mentorwijs.ingest.pipeline import quality_stage
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]) as log:
    frame = quality_stage(list(snakemake.input), snakemake.output[0])
    log.info("%d data-quality rows from %d stage(s)", len(frame), len(snakemake.input))
