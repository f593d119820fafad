"""Adapter: rule export -> mentorwijs.disclosure.export_tables."""

from pathlib import Path

from mentorwijs.disclosure import DisclosurePolicy, export_tables
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]) as log:
    policy = DisclosurePolicy.from_config(snakemake.params.disclosure)
    sources = [Path(p) for p in snakemake.input]
    result = export_tables(
        sources[0].parent,
        Path(snakemake.output.readme).parent,
        policy,
        kinds=[p.stem for p in sources],
    )
    counts = result.log["action"].value_counts().sort_index()
    log.info("exported %d tables; output-check log: %s", len(sources),
             ", ".join(f"{n} {action}" for action, n in counts.items()))
