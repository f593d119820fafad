"""Adapter: rules technical_report and factsheet (told apart by the rule's name) ->
mentorwijs.report.write_report / write_factsheet."""

from pathlib import Path

from mentorwijs.aggregates import TABLE_SPECS, read_aggregate_tables
from mentorwijs.power import read_power
from mentorwijs.provenance import read_provenance
from mentorwijs.report import ReportSettings, write_factsheet, write_report
from mentorwijs.workflow import run_logged

with run_logged(snakemake.log[0]) as log:
    params = snakemake.params
    power = read_power(snakemake.input.power).to_dict("records") if "power" in snakemake.input.keys() else ()
    settings = ReportSettings(
        **params.settings,
        anchors=params.anchors,
        region_pairs=params.region_pairs,
        analysis_settings=params.analysis_settings,
        power=power,
    )
    paths = {name: path for name, path in snakemake.input.items() if name in TABLE_SPECS}
    tables = read_aggregate_tables(names=list(paths), paths=paths)
    for name in tables.missing:
        log.warning("optional table %s is missing; the report says so in its warnings appendix", name)
    outputs = {Path(path).suffix.lstrip("."): path for path in snakemake.output}
    figures_dir = Path(snakemake.input.manifest).parent
    if snakemake.rule == "technical_report":
        result = write_report(tables, figures_dir, settings, html_path=outputs.get("html"), pdf_path=outputs.get("pdf"),
                              provenance=read_provenance(snakemake.input.provenance))
    else:
        result = write_factsheet(tables, figures_dir, settings, html_path=outputs.get("html"),
                                 pdf_path=outputs.get("pdf"))
    if "pages" in result:
        log.info("%s.pdf: %d pages", snakemake.rule, result["pages"])
    log.info("wrote %s in %s", ", ".join(sorted(outputs.values())), settings.language)
