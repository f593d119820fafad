"""The register part: CBS extracts to matched units in event time.

Modules, in the order the data flow through them:

- :mod:`.extracts`       reading extracts (CSV, ``.sav`` with user-missing values) and parsing text
- :mod:`.spec`           variable names and code lists of a delivery (``register.variables``, ``register.codes``)
- :mod:`.calendar`       integer months and days
- :mod:`.persons`        the person file, education, deaths, migration; linkage of the trainees
- :mod:`.payroll`        income statements to the person x calendar-month table
- :mod:`.socioeconomic`  SECM spells to monthly benefit flags
- :mod:`.residence`      residence -> address -> municipality -> labour-market region
- :mod:`.candidates`     eligibility, cohorts and region pairs, the propensity covariates
- :mod:`.panel`          matched units in event time: monthly outcomes and survival
- :mod:`.check`          checks of the extracts (``mentorwijs check-register``)
- :mod:`.steps`          the steps as files in, files out (Snakemake rules and ``mentorwijs run``)

Matching itself lives in :mod:`mentorwijs.matching`. The register part imports only numpy,
pandas, scipy, statsmodels, pyreadstat, pyarrow and pyyaml: the packages of the
CBS Remote Access environment.
"""
