"""Adapter: rules ingest_questionnaire_* -> mentorwijs.ingest.pipeline.ingest_wave."""

from mentorwijs.ingest import CleaningOptions
from mentorwijs.ingest.pipeline import WaveOutputs, ingest_wave, load_source_codebook, summarise, write_wave_outputs
from mentorwijs.pseudonymise import load_key
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]) as log:
    source, wave = snakemake.wildcards.source, snakemake.wildcards.get("wave")
    spec, params = snakemake.params.source, snakemake.params
    codebook = load_source_codebook(snakemake.input.codebook, source=source, fmt=spec["format"])
    key = load_key(synthetic=params.synthetic, key_file=params.key_file, env_var=params.key_env, repo_root=".")
    tables = ingest_wave(snakemake.input.raw, source=source, fmt=spec["format"], codebook=codebook, wave=wave, key=key,
                         separator=spec["separator"], options=CleaningOptions.from_mapping(params.options))
    notes = {f"  warning: {note}" for note in tables.notes}  # columns not read, optional columns absent
    for line in summarise(tables, source=source, wave=wave, file=snakemake.input.raw):
        if line in notes:
            log.warning("%s", line.strip()[len("warning: "):])
        else:
            log.info("%s", line)
    out = snakemake.output
    write_wave_outputs(tables, WaveOutputs(out.interim, out.missing, out.exclusions, out.quality, out.linkage))
