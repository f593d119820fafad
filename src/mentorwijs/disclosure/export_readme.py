"""The export's README for the CBS output checkers (every file, its origin and the rules applied to
it) and the registry tables of docs/disclosure.md."""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from mentorwijs.contracts import DOMINANCE_COLUMN
from mentorwijs.disclosure.policy import RULES, DisclosurePolicy
from mentorwijs.disclosure.specs import REGISTRY, TableSpec


#: The manifest of an export: the SHA-256 of every other file, so that an output checker can
#: confirm that what leaves the environment is what was checked (``sha256sum -c SHA256SUMS``).
CHECKSUMS = "SHA256SUMS"


def kind_rules(spec: TableSpec, policy: DisclosurePolicy, name: str | None = None) -> list[str]:
    """The rules applied to a table kind, in words (for the export README)."""
    name = name or spec.kind
    pol = policy.for_origin(spec.origin)
    if name in policy.exemptions:
        return [f"exemption: {policy.exemptions[name]}", "identifiers, extremes, microdata"]
    rules = ["identifiers, extremes, microdata"]
    if spec.procedure == "km":
        at_risk = spec.figures[0].n[0]
        return rules + [
            f"km_at_risk: curve cut from the first time {at_risk} < {pol.km_min_at_risk}",
            f"km_events: a step only after >= {pol.km_min_events} events since the previous one ({spec.events})",
        ]
    if spec.procedure == "histogram":
        return rules + [f"histogram_min_bin: bins of 0 or >= {pol.histogram_min_bin} units ({spec.figures[0].n[0]})"]
    for fig in spec.figures:
        if fig.columns:
            rules.append(f"min_units: {', '.join(fig.columns)} need >= {pol.min_units} units in each "
                         f"of {', '.join(fig.n)}")
        else:
            rules.append(f"min_units: count {', '.join(fig.n)} is 0 or >= {pol.min_units}")
        if fig.share or fig.with_counts:
            implied = f"{fig.share} x {fig.n[0]}" if fig.share else ", ".join(fig.with_counts)
            rules.append(f"implied_count: units with and without the value ({implied}) each >= {pol.min_units} "
                         "(0: group disclosure)")
        if fig.df:
            rules.append(f"min_df: {fig.df} >= {pol.min_df}")
    for line in spec.lines:
        if line.kind == "nested":
            rules.append(f"implied_count: differences between consecutive rows within {', '.join(line.by)} are 0 "
                         f"or >= {pol.min_units}")
        else:
            rules.append(f"secondary: within {', '.join(line.by)} ({line.kind}) at least two suppressed figures"
                         + (f", suppressed {', '.join(line.counts)} summing to >= {pol.min_units}"
                            if line.kind == "partition" else ""))
    for total in spec.row_totals:
        rules.append(f"secondary: {total.total or 'a known total'} = {' + '.join(total.parts)}")
    if spec.allows_dominance() and pol.dominance:
        rules.append(f"dominance: {DOMINANCE_COLUMN} <= {pol.dominance[1]:g} (largest {pol.dominance[0]} "
                     "unit(s)); never exported")
    return rules


def registry_markdown() -> str:
    """The two tables of docs/disclosure.md "Table kinds": the columns of every exportable kind
    (from its contract) and its figures, lines and procedure. A test keeps the document equal."""
    lines = ["| kind | key | required columns | optional columns |", "|---|---|---|---|"]
    for name in sorted(REGISTRY):
        spec = REGISTRY[name]
        required = spec.required()
        optional = tuple(c for c in spec.declared() if c not in required)
        lines.append(f"| `{name}` | {', '.join(spec.keys)} | {', '.join(required)} | {', '.join(optional)} |")
    lines += ["", "| kind | figures and the units behind them | lines, totals, procedure |", "|---|---|---|"]
    for name in sorted(REGISTRY):
        spec = REGISTRY[name]
        figures = []
        for f in spec.figures:
            if not f.columns:
                figures.append(f"count `{', '.join(f.n)}`")
                continue
            text = f"`{', '.join(f.columns)}` <- `{', '.join(f.n)}`"
            if f.share or f.with_counts:
                text += f"; with-counts `{', '.join(f.with_counts)}`" if f.with_counts else ""
                text += f" (else `{f.share}` x `{f.n[0]}`)" if f.share else ""
            if f.df:
                text += f"; `{f.df}`"
            figures.append(text)
        other = [f"{line.kind} line within `{', '.join(line.by)}`" for line in spec.lines]
        other += [f"row total `{r.total} = {' + '.join(r.parts)}`" for r in spec.row_totals]
        if spec.procedure:
            other.append(f"{'Kaplan-Meier' if spec.procedure == 'km' else 'histogram'} per `{', '.join(spec.groups)}`")
        lines.append(f"| `{name}` | {'; '.join(figures)} | {'; '.join(other)} |")
    return "\n".join(lines) + "\n"


def export_readme(tables: Mapping[str, pd.DataFrame], policy: DisclosurePolicy) -> str:
    """The README for the CBS output checkers: every file, its origin and the rules applied."""
    reg = policy.register
    lines = [
        "# Export of the register part: disclosure-checked aggregate tables",
        "",
        "Every file in this folder was written by `mentorwijs.disclosure.export_tables` from the result tables of",
        "the register part. Only registered aggregate tables are exported; a table with an identifier column or",
        "value, a minimum or maximum, a person-level variable or more than one row per key is refused.",
        f"A suppressed cell is written as `{policy.suppressed_marker}`, whatever its true size; the cells of a figure",
        "(estimate, se, ci, p and the units behind it) are suppressed together. Numbers have at most 8 significant",
        "digits; rows are sorted by the table's key.",
        "",
        "## Policy (register data)",
        "",
        f"- at least {reg.min_units} units behind every count, share, mean and model cell (a count of 0 is published)",
        f"- at least {reg.min_df} residual degrees of freedom behind a regression",
        f"- Kaplan-Meier: curves cut where fewer than {reg.km_min_at_risk} are at risk; a step only after at least "
        f"{reg.km_min_events} events since the previous published step",
        f"- histogram bins of 0 or at least {reg.histogram_min_bin} units (adjacent bins merged)",
        "- group disclosure (all units of a group sharing one value) suppressed: "
        + ("yes" if reg.group_disclosure else "no"),
        "- dominance: "
        + (f"no figure whose largest {reg.dominance[0]} unit(s) carry more than "
           f"{reg.dominance[1]:g} of its total weight"
           if reg.dominance else "not applied"),
        "- secondary suppression wherever cells add up to a known total (a margin, another table, a complement)",
        "- no minima or maxima, no ids, no individual points",
        f"- questionnaire-only tables: the study's own threshold, min_units = {policy.questionnaire.min_units}",
        "",
        "## Files",
        "",
        "| file | origin | rows | what | rules applied |",
        "|---|---|---|---|---|",
    ]
    for name in sorted(tables):
        spec = REGISTRY[name]
        rules = "; ".join(kind_rules(spec, policy, name)).replace("|", "/")
        lines.append(f"| tables/{name}.csv | {spec.origin} | {len(tables[name])} | {spec.description} | {rules} |")
    lines += [
        "| output_check_log.csv | register | "
        "| the output-check log: one row per suppressed, merged or coarsened cell and one per rule that passed | |",
        "| README.md | | | this file | |",
        f"| {CHECKSUMS} | | | the SHA-256 of every file above: `sha256sum -c {CHECKSUMS}` in this folder "
        "confirms that the files are those that were checked | |",
        "",
        "## Output-check log",
        "",
        "`table, rule, cell, n, action`: `rule` names the rule below; `cell` the row (key values) and the columns;",
        "`n` the units the rule tested where they can be shown (the marker where they are below the threshold, empty",
        "where showing them would undo a suppression); `action` is `suppressed`, `merged`, `coarsened`, `pass`,",
        "`not assessed`, `line total below threshold` or `exempt`.",
        "",
    ]
    lines += [f"- `{rule}`: {text}" for rule, text in RULES.items()]
    if policy.exemptions:
        lines += ["", "## Exemptions", ""]
        lines += [f"- `{table}`: {reason}" for table, reason in sorted(policy.exemptions.items())]
    lines += [
        "",
        "## Known limits",
        "",
        "- Free-text columns (`warnings`) are exported as written by the analyses; they were scanned for ids only.",
        "- Each table is checked on its own, assuming the total of every line is known from elsewhere (the flow, the",
        "  number of trainees). Recovery across tables through model estimates is not checked: `trajectories` and",
        "  `did_by_month` describe the same units and months and are best reviewed together.",
        "- Complementary suppression protects every line (at least two suppressed cells, summing to the threshold for",
        "  counts); in tables with crossing lines this is a heuristic, not a full audit of the suppression pattern.",
        "- A line whose suppressed cells make up the whole line is logged as `line total below threshold`: that total",
        "  must not be published elsewhere unless exempt.",
        "",
    ]
    return "\n".join(lines)
