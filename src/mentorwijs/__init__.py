"""Mentorwijs: reproducible effect evaluation of a training for supervisors of employees
with a work disability.

The library is a set of pure functions on pandas DataFrames, one module per concept:

- ``simulate``      the built-in synthetic study with a known truth
- ``codebook``      questionnaire codebooks as data
- ``ingest``        readers per export format, missing reasons, cleaning, scales, reliability
- ``pseudonymise``  keyed pseudonyms and the CBS linkage hand-over
- ``register``      pay periods to person-months, outcomes, covariates, candidates
- ``matching``      propensity scores and matching within cohort and region pair
- ``effects``       difference-in-differences, survival, modifiers, sensitivity; every effect
                    table at once (``effects.tables``)
- ``supervisors``   mixed models of the supervisors' outcomes, process evaluation
- ``contracts``     one contract per aggregate table: key, columns, origin, disclosure roles
- ``flow``          the flow of participants and the exclusions of every stage
- ``disclosure``    CBS output rules and the study's own threshold (its registry: the contracts)
- ``aggregates``    the aggregate tables under reports/tables: strict reading, data dictionary
- ``figures``, ``report``  what a reader gets (part 3 only), with ``formatting`` (Dutch and
                    English numbers), ``messages`` (the text catalogues) and ``findings``
                    (wording by the inference hierarchy)
- ``provenance``    provenance.json and the run summary
- ``cli``           the ``mentorwijs`` command

No module imports Snakemake; no path is baked in.
"""

__version__ = "0.1.0"
