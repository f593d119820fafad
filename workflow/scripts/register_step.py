"""Adapter: a register rule -> the step of mentorwijs.register.steps.REGISTER_STEPS with the rule's name.

Input, output and params names are the step's argument names (the rule takes them from the
same declaration).
"""

from mentorwijs.register import steps
from mentorwijs.workflow import run_logged


def _plain(value):
    return [str(v) for v in value] if isinstance(value, list) else value


with run_logged(snakemake.log[0]):
    arguments = {name: _plain(value) for name, value in snakemake.input.items()}
    arguments.update({name: value for name, value in snakemake.output.items()})
    arguments.update({name: value for name, value in snakemake.params.items()})
    steps.STEPS[snakemake.rule].function(**arguments)
