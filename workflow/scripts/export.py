"""Adapter: rule export -> mentorwijs.register.steps.export_step (mentorwijs.disclosure.export_tables)."""

from pathlib import Path

from mentorwijs.register.steps import export_step
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]):
    sources = [Path(p) for p in snakemake.input]
    export_step(
        results=sources[0].parent,
        out_export=Path(snakemake.output.readme).parent,
        disclosure=snakemake.params.disclosure,
        tables=[p.stem for p in sources],
    )
