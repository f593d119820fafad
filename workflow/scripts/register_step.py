"""Adapter: a register rule -> the step of mentorwijs.register.steps with the rule's name.

Input, output and params names are the step's argument names. The flow rule gathers every
fragment in the folder of its input fragments (the questionnaire part's fragments too).
"""

from pathlib import Path

from mentorwijs.register import steps
from mentorwijs.workflow import run_logged


def _plain(value):
    return [str(v) for v in value] if isinstance(value, list) else value


with run_logged(snakemake.log[0]):
    arguments = {name: _plain(value) for name, value in snakemake.input.items()}
    arguments.update({name: value for name, value in snakemake.output.items()})
    arguments.update({name: value for name, value in snakemake.params.items()})
    if snakemake.rule == "register_flow":  # every fragment in the folder of the register's fragments
        folder = Path(arguments["fragments"][0]).parent
        arguments["fragments"] = sorted(folder.glob("*.csv"))
    steps.STEPS[snakemake.rule](**arguments)
