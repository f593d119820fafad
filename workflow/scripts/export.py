"""Adapter: rule export -> mentorwijs.register.steps.export_step (mentorwijs.disclosure.export_tables),
called with the arguments the step's declaration (REGISTER_STEPS) derives from the rule's files."""

from pathlib import Path

from mentorwijs.register.steps import STEPS
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]):
    step = STEPS["export"]
    files = {"tables": [Path(p) for p in snakemake.input.tables], "readme": Path(snakemake.output.readme)}
    step.function(**step.arguments(files, {"disclosure": snakemake.params.disclosure}))
