"""The employment effects (part 2, inside the CBS environment): matched tables -> effect tables.

input:  data/processed/panel.parquet, survival.parquet, pairs.parquet, matched.parquet,
        modifier_pairs.parquet (the register part's matched analysis tables)
output: data/processed/results/<table>.csv for trajectories, did_by_month, did_pooled, placebo,
        km, rmst, survival, ph_test, modifiers, sensitivity, confounding (columns: their
        contracts in mentorwijs.contracts; reports/tables/README.md). They leave the CBS
        environment only through the rule `export`.
params: the `effects` settings, the time anchors, the band's seed (study.seed plus
        effects.band.seed_offset) and the dominance rule's number of units: plain values

Input and output are declared once, in mentorwijs.register.steps.REGISTER_STEPS["effects"]
(the step list `mentorwijs run --part register` runs too). Calls
mentorwijs.effects.tables.effects_step (as `mentorwijs run --part register` does).
"""

from mentorwijs.effects.settings import EffectSettings as _EffectSettings
from mentorwijs.register.steps import STEPS as REGISTER_STEPS


rule effects:
    input:
        **REGISTER_STEPS["effects"].inputs(config),
    output:
        **REGISTER_STEPS["effects"].outputs(),
    log:
        "logs/register/effects.log",
    params:
        **_EffectSettings.from_config(config).as_params(),
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/effects.py"
