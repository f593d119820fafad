"""The export boundary of the register part: what may leave the CBS environment.

input:  data/processed/results/<name>.csv for every register table of mentorwijs.contracts (the register part's
        result tables: matching, flow, exclusions and the rule `effects`)
output: export/tables/<name>.csv (disclosure-checked: suppressed cells written as the marker),
        export/output_check_log.csv (table, rule, cell, n, action: for the CBS output checkers),
        export/README.md (every file, its origin and the rules applied),
        export/SHA256SUMS (the SHA-256 of every other file: `sha256sum -c SHA256SUMS`)
params: the config section `disclosure` (plain values)

Input, output and params are declared once, in mentorwijs.register.steps.REGISTER_STEPS["export"]
(the tables: every register table of mentorwijs.contracts, sorted); `mentorwijs run --part
register` runs the same declared step.
"""

from mentorwijs.register.steps import STEPS as REGISTER_STEPS


rule export:
    input:
        **REGISTER_STEPS["export"].inputs(config),
    output:
        **REGISTER_STEPS["export"].outputs(),
    log:
        "logs/export.log",
    params:
        **REGISTER_STEPS["export"].params(config),
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/export.py"
