"""Part 3's tables (outside CBS): what came out of the CBS environment, and the exclusions.

input:  export/tables/<name>.csv   the register part's disclosure-checked tables (rule `export`)
        data/interim/exclusions/<stage>.csv of the questionnaire stages (ingest, supervisors_long,
        trainees: the study's own data)
output: reports/tables/<name>.csv  for every exported table except exclusions (copied unchanged,
                                   after a check against its contract)
        reports/tables/exclusions.csv  the exported register stages plus the questionnaire stages,
                                   counted per stage, source, wave and reason (never a record)

The supervisors' and questionnaire tables are written to reports/tables/ by their own rules
(the study's own threshold, disclosure.questionnaire).
"""

from pathlib import Path

from mentorwijs.contracts import REGISTER_TABLES as _REGISTER_TABLES
from mentorwijs.register.steps import STEPS as REGISTER_STEPS

PUBLISHED_TABLES = [name for name in _REGISTER_TABLES if name != "exclusions"]
# the rule `export`'s tables by name (declared in mentorwijs.register.steps.REGISTER_STEPS)
EXPORTED = {Path(path).stem: path for path in REGISTER_STEPS["export"].outputs()["exported"]}


rule report_tables:
    input:
        **{name: EXPORTED[name] for name in PUBLISHED_TABLES},
    output:
        **{name: f"reports/tables/{name}.csv" for name in PUBLISHED_TABLES},
    log:
        "logs/report/report_tables.log",
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/report_tables.py"


rule exclusions:
    input:
        register=EXPORTED["exclusions"],
        fragments=questionnaire_exclusion_fragments(),
    output:
        "reports/tables/exclusions.csv",
    log:
        "logs/report/exclusions.log",
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/report_exclusions.py"
