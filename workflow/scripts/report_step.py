"""Adapter: a report rule -> the step of mentorwijs.report.steps.REPORT_STEPS with the rule's name.

Input and output names are the step's (the rule takes them from the same declaration); the
step's arguments come from them and the effective configuration, as in `mentorwijs run --part
report`. The provenance record is the one step that needs the whole configuration: its rule's
params carry only the hash, so that any change of the configuration rewrites the record.
"""

from mentorwijs.config import config_hash
from mentorwijs.report import steps
from mentorwijs.workflow import run_logged


def _plain(value):
    return [str(v) for v in value] if isinstance(value, list) else value


with run_logged(snakemake.log[0]) as log:
    config = dict(snakemake.config)
    if "config_hash" in snakemake.params.keys() and config_hash(config) != snakemake.params.config_hash:
        log.warning("the effective configuration differs from the one the rule was scheduled with")
    files = {name: _plain(value) for name, value in snakemake.input.items()}
    files.update({name: _plain(value) for name, value in snakemake.output.items()})
    step = steps.STEPS[snakemake.rule]
    step.function(**step.arguments(files, config))
