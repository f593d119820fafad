"""Adapter: rule exclusions -> mentorwijs.flow.write_report_exclusions
(exported register stages + questionnaire stages)."""

from mentorwijs.flow import write_report_exclusions
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]) as log:
    path = write_report_exclusions(snakemake.input.register, list(snakemake.input.fragments), snakemake.output[0])
    log.info("exclusions of the register stages (exported) and of %d questionnaire stage(s) in %s",
             len(snakemake.input.fragments), path)
