"""Adapter: rule simulate -> mentorwijs.simulate.simulate."""

from mentorwijs.simulate import simulate
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]) as log:
    result = simulate(
        snakemake.params.out,
        seed=snakemake.params.seed,
        scale=snakemake.params.scale,
        pool_scale=snakemake.params.pool_scale,
        codebooks="data/codebooks",
        targets=snakemake.params.targets,
        effect=snakemake.params.effect,
        regions=snakemake.params.regions,
        anchors=snakemake.params.anchors,
        progress=log.info,
    )
    log.info("wrote %d files in %.1f s", len(result.files), result.seconds)
