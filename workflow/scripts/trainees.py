"""Adapter: rule trainees -> mentorwijs.ingest.pipeline.trainees_stage."""

from mentorwijs.ingest.pipeline import trainees_stage
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]) as log:
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    table = trainees_stage(i.employees, i.linkage, i.study, i.invitations, i.schedule, wave=p.wave,
                           supervisor_covariates=p.supervisor_covariates, cbs_identifiers=p.cbs_identifiers,
                           out=o.table, identifiers_out=o.identifiers, exclusions=o.exclusions, flow=o.flow)
    log.info("trainees handed over: %d (identifier file written for CBS)", len(table))
