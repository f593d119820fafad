"""Disclosure control: what may leave the CBS environment, and in which form.

One policy per data origin, built from the config section ``disclosure`` with
:meth:`DisclosurePolicy.from_config`:

- ``register``: the CBS output rules for everything derived from register data. At least
  ``min_units`` (10) units behind every count, share, mean and model cell; at least ``min_df``
  (10) residual degrees of freedom behind a regression; no minima or maxima; no person, address
  or employer ids; no group disclosure; no dominance; secondary suppression so that a
  suppressed cell cannot be recovered from totals; Kaplan-Meier curves cut where fewer than 10
  are at risk and coarsened so that every published step carries at least 10 events;
  histogram bins of at least 10 units (adjacent bins merged); no individual points.
- ``questionnaire``: the study's own threshold for tables built from its questionnaires only
  (default 0: the study owns those data, nothing is suppressed).
- ``exemptions``: tables the publication itself released (the flow chart, ...): checked for
  identifiers, extremes and microdata, never suppressed.

Every table kind the pipeline exports has one entry in :data:`REGISTRY` (:class:`TableSpec`),
derived from the table's contract in :mod:`mentorwijs.contracts` (the single description of
every aggregate table): its key columns, its figures (groups of cells published or suppressed
together, each with the unit counts behind it), the lines whose cells add up to a known total,
and, for Kaplan-Meier curves and histograms, the procedure that coarsens them. A new table kind
needs a new contract, not new code.

:func:`check_table` applies primary and secondary suppression to one table and returns it as
text cells (numbers to 8 significant digits, suppressed cells as the marker ``<10``) with the
output-check log rows (``table, rule, cell, n, action``). :func:`export_tables` writes the
checked tables, the log and a README for the CBS output checkers, and refuses anything that is
not a registered aggregate table. :func:`scan_for_identifiers` and
:func:`scan_text_for_small_cells` let the report test its HTML and PDF text.

The log leaves the environment with the tables, so it never shows a suppressed value: its ``n``
is the marker where the tested count is below the threshold and empty where showing it would
undo a suppression (complementary cells, residual degrees of freedom, dominance).

The package has one module per job; everything is importable from ``mentorwijs.disclosure``:

- :mod:`.policy`: the thresholds per origin (:class:`DisclosurePolicy`), :data:`RULES` in words,
  :func:`dominance_share`;
- :mod:`.specs`: the registry of exportable table kinds (:data:`REGISTRY`, :class:`TableSpec`);
- :mod:`.screen`: what refuses a table (identifiers, extremes, microdata, undeclared columns);
- :mod:`.suppression`: :func:`check_table` (primary and secondary suppression, Kaplan-Meier and
  histogram coarsening, the log);
- :mod:`.render`: the text cells of a checked table;
- :mod:`.export`, :mod:`.export_readme`: :func:`export_tables` and the README it writes;
- :mod:`.text_scan`: scanning text for identifiers and for hidden values.

Only numpy and pandas are imported (the package runs inside the CBS environment).
"""

from __future__ import annotations

from mentorwijs.contracts import DOMINANCE_COLUMN, Contract, Figure, Line, RowTotal
from mentorwijs.disclosure.export import ExportResult, checksums, export_tables, read_results_table
from mentorwijs.disclosure.export_readme import CHECKSUMS, export_readme, kind_rules, registry_markdown
from mentorwijs.disclosure.policy import ORIGINS, RULES, DisclosurePolicy, OriginPolicy, dominance_share
from mentorwijs.disclosure.screen import extreme_columns, identifier_columns
from mentorwijs.disclosure.specs import REGISTRY, TableSpec, spec_from_contract, table_spec
from mentorwijs.disclosure.suppression import LOG_COLUMNS, check_table
from mentorwijs.disclosure.text_scan import (
    IDENTIFIER_PATTERNS,
    HiddenCell,
    IdentifierFinding,
    TextFinding,
    hidden_cells,
    published_numbers,
    read_exported_table,
    scan_for_identifiers,
    scan_text_for_small_cells,
)

__all__ = [
    "CHECKSUMS", "DOMINANCE_COLUMN", "IDENTIFIER_PATTERNS", "LOG_COLUMNS", "ORIGINS", "REGISTRY", "RULES",
    "Contract", "DisclosurePolicy", "ExportResult", "Figure", "HiddenCell", "IdentifierFinding", "Line",
    "OriginPolicy", "RowTotal", "TableSpec", "TextFinding",
    "check_table", "checksums", "dominance_share", "export_readme", "export_tables", "extreme_columns",
    "hidden_cells", "identifier_columns", "kind_rules", "published_numbers", "read_exported_table",
    "read_results_table", "registry_markdown", "scan_for_identifiers", "scan_text_for_small_cells",
    "spec_from_contract", "table_spec",
]
