"""Adapter: rule provenance -> mentorwijs.provenance (versions, effective config and hash, input hashes, commit, seed).

The effective configuration (after --config overrides) is read from snakemake.config: the
provenance record is the one place that needs all of it. The rule's params carry only its hash,
so that any change of the configuration rewrites the record.
"""

from mentorwijs.config import config_hash
from mentorwijs.provenance import file_hashes, git_state, provenance_record, write_json
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]) as log:
    config = dict(snakemake.config)
    if config_hash(config) != snakemake.params.config_hash:
        log.warning("the effective configuration differs from the one the rule was scheduled with")
    commit, dirty = git_state(".")
    record = provenance_record(
        config,
        file_hashes(list(snakemake.input)),
        seed=snakemake.params.seed,
        commit=commit,
        dirty=dirty,
    )
    write_json(snakemake.output[0], record)
    log.info("config %s, commit %s%s, %d inputs", record["config_hash"][:12], commit or "unknown",
             " (uncommitted changes)" if dirty else "", len(record["inputs"]))
