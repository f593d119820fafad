"""The employment effects (part 2, inside the CBS environment): matched tables -> effect tables.

input:  data/processed/panel.parquet, survival.parquet, pairs.parquet, matched.parquet,
        modifier_pairs.parquet (the register part's matched analysis tables)
output: data/processed/results/<table>.csv for trajectories, did_by_month, did_pooled, placebo,
        km, rmst, survival, ph_test, modifiers, sensitivity, confounding (columns: their
        contracts in mentorwijs.contracts; reports/tables/README.md). They leave the CBS
        environment only through the rule `export`.
params: the `effects` settings, the time anchors, the band's seed (study.seed plus
        effects.band.seed_offset) and the dominance rule's number of units: plain values

Calls mentorwijs.effects.tables.effects_step (as `mentorwijs run --part register` does).
"""

from mentorwijs.effects.tables import TABLES as EFFECT_TABLES
from mentorwijs.effects.settings import EffectSettings as _EffectSettings


rule effects:
    input:
        panel="data/processed/panel.parquet",
        survival="data/processed/survival.parquet",
        pairs="data/processed/pairs.parquet",
        matched="data/processed/matched.parquet",
        modifier_pairs="data/processed/modifier_pairs.parquet",
    output:
        expand("data/processed/results/{name}.csv", name=EFFECT_TABLES),
    log:
        "logs/register/effects.log",
    params:
        **_EffectSettings.from_config(config).as_params(),
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/effects.py"
