"""The export boundary of the register part: what may leave the CBS environment.

input:  data/processed/results/<name>.csv for every name in EXPORT_TABLES (the register part's
        result tables: matching, flow, exclusions and the rule `effects`)
output: export/tables/<name>.csv (disclosure-checked: suppressed cells written as the marker),
        export/output_check_log.csv (table, rule, cell, n, action: for the CBS output checkers),
        export/README.md (every file, its origin and the rules applied),
        export/SHA256SUMS (the SHA-256 of every other file: `sha256sum -c SHA256SUMS`)
params: the config section `disclosure` (plain values)
"""

# The register tables of mentorwijs.contracts (each a kind of mentorwijs.disclosure.REGISTRY).
EXPORT_TABLES = [
    "balance",
    "confounding",
    "did_by_month",
    "did_pooled",
    "exclusions",
    "flow",
    "km",
    "modifiers",
    "ph_test",
    "placebo",
    "ps_model",
    "ps_overlap",
    "rmst",
    "sensitivity",
    "survival",
    "trajectories",
]


rule export:
    input:
        expand("data/processed/results/{name}.csv", name=EXPORT_TABLES),
    output:
        tables=expand("export/tables/{name}.csv", name=EXPORT_TABLES),
        check_log="export/output_check_log.csv",
        readme="export/README.md",
        checksums="export/SHA256SUMS",
    log:
        "logs/export.log",
    params:
        disclosure=config["disclosure"],
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/export.py"
