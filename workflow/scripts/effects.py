"""Adapter: rule effects -> mentorwijs.effects.tables.effects_step (matched tables -> effect tables)."""

from pathlib import Path

from mentorwijs.effects.settings import EffectSettings
from mentorwijs.effects.tables import effects_step
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]):
    effects_step(
        **{name: snakemake.input[name] for name in ("panel", "survival", "pairs", "matched", "modifier_pairs")},
        out_folder=Path(snakemake.output[0]).parent,
        settings=EffectSettings.from_params(dict(snakemake.params.items())),
    )
