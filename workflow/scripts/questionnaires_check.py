"""Adapter: rules check_questionnaire_* -> mentorwijs.ingest.pipeline.check_wave_file."""

from mentorwijs.ingest import CleaningOptions
from mentorwijs.ingest.pipeline import check_wave_file, load_source_codebook, write_text
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]) as log:
    source, wave = snakemake.wildcards.source, snakemake.wildcards.get("wave")
    spec = snakemake.params.source
    codebook = load_source_codebook(snakemake.input.codebook, source=source, fmt=spec["format"])
    lines = check_wave_file(snakemake.input.raw, source=source, fmt=spec["format"], codebook=codebook, wave=wave,
                            separator=spec["separator"], options=CleaningOptions.from_mapping(snakemake.params.options))
    for line in lines:
        log.info("%s", line)
    write_text("\n".join(lines) + "\n", snakemake.output[0])
