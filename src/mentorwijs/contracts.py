"""The contract of every aggregate table: one description that producers, disclosure and report share.

An aggregate table is what figures, report and factsheet are built from and, for register
data, what may leave the CBS environment. Each table has exactly one :class:`Contract` in
:data:`CONTRACTS`:

- its **key** (one row per key, rows sorted by it) and its **columns**, in the order the
  producer writes them, each with a kind (text, integer, count, number, probability,
  indicator), a meaning and whether it is always present;
- its **origin**: ``register`` (derived from CBS register data: the producer writes
  ``data/processed/results/<name>.csv`` and the table reaches ``reports/tables/`` only through
  the disclosure check of the export, ``export/tables/<name>.csv``) or ``questionnaire`` (the
  study's own questionnaires: written to ``reports/tables/`` directly under the study's own
  threshold);
- whether the **report** cannot be built without it (``report_required``);
- its **disclosure roles** (register tables): the figures, i.e. groups of cells published or
  suppressed together with the unit counts behind them (:class:`Figure`), the lines whose cells
  add up to a known total (:class:`Line`), totals within a row (:class:`RowTotal`), and for
  Kaplan-Meier curves and histograms the procedure that coarsens them; and whether the producer
  writes the check-only column ``dominance_share`` (never exported).

:mod:`mentorwijs.disclosure` builds its registry of exportable table kinds from these contracts,
:mod:`mentorwijs.aggregates` its table specifications and the data dictionary
(``reports/tables/README.md``), and the producers take their column order from
:func:`column_names`. Nothing here imports anything but the standard library, so every part
(also inside the CBS environment) can use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

#: Column kinds and what they mean in the data dictionary.
KINDS = {
    "text": "text",
    "integer": "integer",
    "count": "count of units (may be `<10` where suppressed)",
    "number": "number (decimal point, 8 significant digits)",
    "probability": "number between 0 and 1",
    "indicator": "integer 0/1",
}
NUMERIC_KINDS = ("integer", "count", "number", "probability", "indicator")
ORIGINS = ("register", "questionnaire")

#: Check-only column of weighted register tables: the share of a figure's total weight carried by
#: its largest unit(s). Written by the producers, used by the export's dominance rule, never exported.
DOMINANCE_COLUMN = "dominance_share"


@dataclass(frozen=True)
class Column:
    """One column of an aggregate table. ``required``: the producer always writes it."""

    name: str
    kind: str
    description: str
    required: bool = True


@dataclass(frozen=True)
class Figure:
    """Cells published or suppressed together, with the unit counts behind them.

    ``columns``: estimate cells (a share, mean, effect and its se/ci/p); empty for a plain count.
    ``n``: unit counts behind the figure (a plain count is its own n). ``share``: a column among
    ``columns`` that is a proportion of ``n[0]``. ``with_counts``: aligned with ``n``, the units
    having the value (for a share or an indicator covariate), so that both the units with and
    without it can be checked. ``df``: the residual degrees of freedom column of a regression.
    """

    columns: tuple[str, ...] = ()
    n: tuple[str, ...] = ()
    share: str | None = None
    with_counts: tuple[str, ...] = ()
    df: str | None = None

    def cells(self) -> tuple[str, ...]:
        return self.columns + self.n + self.with_counts + ((self.df,) if self.df else ())


@dataclass(frozen=True)
class Line:
    """Rows (grouped by ``by``) whose figures relate through a known total.

    ``kind``: ``partition`` (the rows' counts add up to a known total, e.g. exclusion reasons
    within a stage, or the levels of an effect modifier), ``mean`` (a published summary averages
    the rows, e.g. the pooled effect over months) or ``nested`` (each row a subset of the previous
    one in key order, e.g. the flow; differences between rows are counts too). ``counts``: the
    count columns that are summed (partition) and order complementary candidates (smallest first).
    """

    by: tuple[str, ...]
    kind: str = "mean"
    counts: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowTotal:
    """Within a row, ``parts`` add up to ``total`` (a column) or to a known constant (``total=None``,
    e.g. a share and its complement)."""

    parts: tuple[str, ...]
    total: str | None = None
    counts: bool = True


@dataclass(frozen=True)
class Contract:
    """One aggregate table: columns, key, origin, who writes it and its disclosure roles."""

    name: str
    title: str
    description: str
    origin: str
    written_by: str
    keys: tuple[str, ...]
    columns: tuple[Column, ...]
    report_required: bool = False
    figures: tuple[Figure, ...] = ()
    lines: tuple[Line, ...] = ()
    row_totals: tuple[RowTotal, ...] = ()
    procedure: str | None = None  # "km" or "histogram"
    groups: tuple[str, ...] = ()  # km and histogram: the columns that identify one curve or histogram
    events: str | None = None  # km: the events column
    bins: tuple[str, str] | None = None  # histogram: lower and upper bin edge columns
    dominance: bool = False  # the producer writes DOMINANCE_COLUMN (check-only)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def optional_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if not c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")


def _c(name: str, kind: str, description: str, required: bool = True) -> Column:
    return Column(name, kind, description, required)


# ----------------------------------------------------------------------------------------------
# shared column groups

_OUTCOME = _c("outcome", "text", "`employed_1h` (at least 1 paid hour in the month), `employed_12h` (at least 12 paid "
              "hours a week on average), `employed_3m` (paid in this month and the two before)")
_SURVIVAL_OUTCOME = _c("outcome", "text", "`job` (end of the baseline job) or `work` (first month without paid work)")
_GROUP = _c("group", "text", "`treated` (employees of trained supervisors) or `control` (matched controls)")
_MONTH = _c("month", "integer", "month relative to the end of the training (0 = calendar month of the last meeting)")
_CONVERGED = _c("converged", "indicator",
                "1 when the model converged; 0 rows are listed in the report's warnings appendix")
_WARNINGS = _c("warnings", "text", "warnings of the estimation, `; `-separated (empty: none)")
_N_TREATED = _c("n_treated", "count", "trained units behind the estimate (unweighted)")
_N_CONTROL = _c("n_control", "count", "control units behind the estimate (unweighted)")
_N_CLUSTERS = _c("n_clusters", "count", "clusters (persons) in the model")
_DF_RESID = _c("df_resid", "number",
               "residual degrees of freedom of the model (clusters - 1 for cluster-robust inference)")


def _did_effect(what: str) -> tuple[Column, ...]:
    return (
        _c("estimate", "number", what),
        _c("se", "number", "standard error, cluster-robust (CR1) on the person"),
        _c("ci_low", "number", "lower bound of the pointwise 95% confidence interval (t with clusters - 1 df)"),
        _c("ci_high", "number", "upper bound of the pointwise 95% confidence interval"),
        _c("p", "probability", "two-sided p-value of estimate = 0 (empty at the reference month)"),
    )


def _did_effect_cr2(what: str) -> tuple[Column, ...]:
    return (
        _c("estimate", "number", what),
        _c("se", "number", "standard error, cluster-robust on the person with the bias-reduced CR2 adjustment "
                           "(Bell-McCaffrey; as clubSandwich)"),
        _c("df", "number", "Satterthwaite degrees of freedom of the CR2 standard error (empty at the reference month)"),
        _c("ci_low", "number", "lower bound of the pointwise 95% confidence interval (CR2, t with `df`)"),
        _c("ci_high", "number", "upper bound of the pointwise 95% confidence interval"),
        _c("p", "probability", "two-sided p-value of estimate = 0 (CR2, t with `df`; empty at the reference month)"),
        _c("se_cr1", "number", "standard error with the CR1 adjustment G/(G-1)*(N-1)/(N-K) (Stata's; "
                               "sandwich::vcovCL HC1)"),
    )


_METHOD = _c("method", "text", "`matched` (the plain matched DiD, weighted cell means; the published method) or "
                               "`adjusted` (regression-adjusted: month x each "
                               "`effects.adjusted_covariates` column added)")
_EFFECT = ("estimate", "se", "ci_low", "ci_high", "p")
_DID_EFFECT = ("estimate", "se", "df", "ci_low", "ci_high", "p", "se_cr1")
_DID_WHAT = ("difference-in-differences: change in the weighted share employed among trainees since the reference "
             "month minus the same change among matched controls (a difference in probability)")
_BAND = ("band_low", "band_high", "band_critical", "band_excludes_zero", "bonferroni_low", "bonferroni_high",
         "bonferroni_excludes_zero")
_SURVIVAL_COUNTS = (
    _c("n_treated", "count", "trained units in the model (unweighted)"),
    _c("n_control", "count", "control units in the model (unweighted)"),
    _c("n_event_treated", "count", "events among trained units"),
    _c("n_event_control", "count", "events among control units"),
    _c("n_event", "count", "events in the model (n_event_treated + n_event_control)"),
    _N_CLUSTERS,
    _DF_RESID,
)
_SURVIVAL_FIGURES = (
    Figure(columns=("coef", "se", "hr", "ci_low", "ci_high", "p", "statistic"),
           n=("n_treated", "n_control", "n_event", "n_clusters"), df="df_resid"),
    Figure(n=("n_event_treated",)),
    Figure(n=("n_event_control",)),
)
_PH_FIGURES = (
    Figure(columns=("hr", "ci_low", "ci_high", "p"), n=("n_treated", "n_control", "n_event", "n_clusters"),
           df="df_resid"),
    Figure(n=("n_event_treated",)),
    Figure(n=("n_event_control",)),
)
_EVENT_TOTAL = (RowTotal(parts=("n_event_treated", "n_event_control"), total="n_event"),)
_DESCRIBED = (  # process and employees_baseline (mentorwijs.supervisors.process)
    _c("measure", "text", "what was measured (e.g. `dose_received`, `satisfaction_general`, `occupation`)"),
    _c("wave", "text", "wave (empty where the measure has none, e.g. the schedule)"),
    _c("category", "text", "answer category (empty for means)"),
    _c("label", "text", "the category in words"),
    _c("n", "count", "those answering (the denominator of a share, or the answers behind a mean)"),
    _c("count", "count", "those in the category (the numerator of `share`)"),
    _c("share", "probability", "count / n"),
    _c("mean", "number", "mean of the answers"),
    _c("sd", "number", "standard deviation of the answers (n - 1)"),
)


CONTRACTS: dict[str, Contract] = {
    c.name: c
    for c in (
        Contract(
            "flow", "Flow of participants",
            "Counts at each step of the participant flow, per population (nested: each main step a subset of the "
            "previous one). A step named `excluded_<reason>` leaves the flow and is drawn as a side box; every other "
            "step is a box of the main chain. Questionnaire steps have orders below 110 for the employees, register "
            "steps 110 and up. The publication released these counts: a documented exemption from suppression.",
            "register", "rule `register_flow` (every fragment in `data/interim/flow/`)",
            ("population", "order"),
            (
                _c("population", "text", "`supervisors`, `employees` or `controls`"),
                _c("order", "integer", "position of the step within the population"),
                _c("step", "text", "step code, e.g. `invited`, `completed_T0`, `excluded_refused_linkage`, `matched`"),
                _c("n", "count", "units at (or leaving at) this step"),
            ),
            report_required=True,
            figures=(Figure(n=("n",)),),
            lines=(Line(by=("population",), kind="nested", counts=("n",)),),
        ),
        Contract(
            "exclusions", "Exclusions",
            "Every exclusion of every stage, counted per reason (never a record). Register stages are "
            "disclosure-checked in the export; the questionnaire stages (the study's own data) are added to the "
            "exported table outside the CBS environment.",
            "register", "rule `register_exclusions` (register stages); rule `exclusions` adds the questionnaire stages",
            ("stage", "source", "wave", "reason"),
            (
                _c("stage", "text", "the step that excluded (the fragment's name, e.g. `ingest_supervisors_T0`, "
                   "`register_payroll`)"),
                _c("source", "text", "what was excluded from (e.g. `supervisors`, `payroll`, `candidates`)"),
                _c("wave", "text", "wave (empty for register stages)"),
                _c("reason", "text", "why the records or rows were excluded"),
                _c("n", "count", "records, rows or units excluded"),
            ),
            figures=(Figure(n=("n",)),),
            lines=(Line(by=("stage", "source", "wave"), kind="partition", counts=("n",)),),
        ),
        Contract(
            "data_quality", "Data quality",
            "Checks of the raw questionnaire exports that fired (values out of range, codes outside the codebook, "
            "duplicates): the first few cases per check with the count.",
            "questionnaire", "rule `questionnaire_data_quality`",
            ("stage", "column", "check", "example"),
            (
                _c("stage", "text", "ingest stage (`ingest_<source>[_<wave>]`)"),
                _c("source", "text", "data source"),
                _c("wave", "text", "wave (empty where not applicable)"),
                _c("column", "text", "canonical name of the column checked"),
                _c("check", "text", "what was checked"),
                _c("n_failed", "count", "cases that failed the check"),
                _c("example", "integer", "number of the example (1, 2, ... up to ingest.data_quality_first_n)"),
                _c("row", "integer", "file row of the example"),
                _c("value", "text", "the value found (`(withheld)` for personal data)"),
            ),
        ),
        Contract(
            "reliability", "Reliability of the supervisors' scales",
            "Cronbach's alpha of each questionnaire scale per wave (the study did not test reliability).",
            "questionnaire", "rule `questionnaire_reliability`",
            ("scale", "wave"),
            (
                _c("scale", "text", "`knowledge`, `self_efficacy`, `intention`, `behaviour`"),
                _c("wave", "text", "`T0`, `T1`, ..."),
                _c("alpha", "number", "Cronbach's alpha on complete answers"),
                _c("n", "count", "supervisors with all items answered"),
                _c("n_items", "integer", "items in the scale"),
            ),
        ),
        Contract(
            "balance", "Covariate balance",
            "Standardised mean differences (trained minus control, divided by the pooled SD before matching) and "
            "variance ratios of the matching covariates, the pairwise products of the binary ones (`a:b`) and the "
            "prognostic score, before matching (all eligible units, unweighted) and after (matched units, matching "
            "weights), with the units per group and, for indicator terms, the units having the value (empty for "
            "continuous ones).",
            "register", "rule `register_matching`",
            ("covariate",),
            (
                _c("covariate", "text",
                   "matching covariate (a level of a categorical one as `name=level`), the product "
                   "of two binary ones as `a:b`, or `prognostic_score`"),
                _c("smd_before", "number", "standardised mean difference before matching"),
                _c("smd_after", "number", "standardised mean difference after matching, weighted"),
                _c("variance_ratio_before", "number", "variance ratio trained/control before matching"),
                _c("variance_ratio_after", "number", "variance ratio after matching, weighted"),
                _c("n_treated_before", "count", "eligible trained units"),
                _c("n_control_before", "count", "eligible control units"),
                _c("n_treated_with_before", "count", "eligible trained units with the value (indicators only)"),
                _c("n_control_with_before", "count", "eligible control units with the value (indicators only)"),
                _c("n_treated", "count", "matched trained units"),
                _c("n_control", "count", "matched control units"),
                _c("n_treated_with", "count", "matched trained units with the value (indicators only)"),
                _c("n_control_with", "count", "matched control units with the value (indicators only)"),
            ),
            report_required=True,
            figures=(
                Figure(columns=("smd_before", "variance_ratio_before"), n=("n_treated_before", "n_control_before"),
                       with_counts=("n_treated_with_before", "n_control_with_before")),
                Figure(columns=("smd_after", "variance_ratio_after"), n=("n_treated", "n_control"),
                       with_counts=("n_treated_with", "n_control_with")),
            ),
        ),
        Contract(
            "ps_overlap", "Propensity-score overlap",
            "Histogram of the logit of the propensity score per sample and group: unweighted units per bin of fixed "
            "width; in the export adjacent bins are merged until each holds at least 10 units (CBS rules).",
            "register", "rule `register_matching`",
            ("sample", "group", "bin_low", "bin_high"),
            (
                _c("sample", "text", "`eligible` (all units before matching) or `matched`"),
                _GROUP,
                _c("bin_low", "number", "lower edge of the bin (logit of the propensity score)"),
                _c("bin_high", "number", "upper edge of the bin"),
                _c("n", "count", "units in the bin"),
            ),
            figures=(Figure(n=("n",)),),
            procedure="histogram",
            groups=("sample", "group"),
            bins=("bin_low", "bin_high"),
        ),
        Contract(
            "ps_model", "Propensity-score model",
            "The logistic propensity model: coefficient per term (per SD of the term's column), with the method "
            "(maximum likelihood, or a ridge penalty when separation was detected).",
            "register", "rule `register_matching`",
            ("term",),
            (
                _c("term", "text", "model term (`(intercept)`, a covariate, `name=level`, or a spline term `name'1`)"),
                _c("estimate", "number", "coefficient on the logit scale per SD of the term's column"),
                _c("se", "number", "standard error (empty under the ridge penalty)"),
                _c("method", "text", "how the model was fitted"),
                _c("n_treated", "count", "trained units in the model"),
                _c("n_control", "count", "control units in the model"),
                _c("df_resid", "number", "units minus parameters"),
                _CONVERGED,
                _WARNINGS,
            ),
            figures=(Figure(columns=("estimate", "se"), n=("n_treated", "n_control"), df="df_resid"),),
        ),
        Contract(
            "trajectories", "Employment over time",
            "Share employed per month relative to the end of the training, per group (controls weighted by the "
            "matching), over observed person-months.",
            "register", "rule `effects`",
            ("outcome", "group", "month"),
            (
                _OUTCOME, _GROUP, _MONTH,
                _c("share", "probability", "weighted share employed"),
                _c("n", "count", "units observed in the month"),
                _c("n_employed", "count", "units employed in the month (unweighted; where absent the export checks "
                   "share x n)", False),
                _c("persons", "count", "distinct persons among the units"),
            ),
            report_required=True,
            figures=(Figure(columns=("share",), n=("n", "persons"), share="share", with_counts=("n_employed",)),),
            dominance=True,
        ),
        Contract(
            "did_by_month", "Difference-in-differences per month",
            "Effect of the training per month relative to the reference month (estimate 0 there), with pointwise 95% "
            "intervals and a simultaneous 95% sup-t band over the follow-up months (key secondary analysis; the "
            "Bonferroni band is a conservative check), for both estimators (`method`; `effects.primary_method` is "
            "the one reported first).",
            "register", "rule `effects`",
            ("outcome", "method", "month"),
            (
                _OUTCOME, _METHOD, _MONTH, *_did_effect_cr2(_DID_WHAT),
                _c("band_low", "number", "lower bound of the simultaneous 95% band (follow-up months only; CR2 "
                                         "covariance, multivariate t with the smallest `df` of the band's months)"),
                _c("band_high", "number", "upper bound of the simultaneous 95% band"),
                _c("band_critical", "number", "critical value of the sup-t band (months with SE 0 left out, named "
                                              "in `warnings`)"),
                _c("band_excludes_zero", "indicator", "1 where the band lies on one side of 0"),
                _c("bonferroni_low", "number", "lower bound of the Bonferroni band over the follow-up months"),
                _c("bonferroni_high", "number", "upper bound of the Bonferroni band"),
                _c("bonferroni_excludes_zero", "indicator", "1 where the Bonferroni band lies on one side of 0"),
                _c("n_treated", "count", "trained units observed in the month"),
                _c("n_control", "count", "control units observed in the month"),
                _c("clusters_treated", "count", "distinct trained persons in the month"),
                _c("clusters_control", "count", "distinct control persons in the month"),
                _N_CLUSTERS, _DF_RESID, _CONVERGED, _WARNINGS,
            ),
            report_required=True,
            figures=(Figure(columns=_DID_EFFECT + _BAND,
                            n=("n_treated", "n_control", "clusters_treated", "clusters_control", "n_clusters"),
                            df="df_resid"),),
            lines=(Line(by=("outcome", "method"), counts=("n_treated",)),),
            dominance=True,
        ),
        Contract(
            "did_pooled", "Pooled difference-in-differences",
            "Mean of the monthly effects over the follow-up with their joint covariance; for `employed_1h` this is "
            "the primary analysis (`method` = `effects.primary_method`). The n's are the units at the reference month.",
            "register", "rule `effects`",
            ("outcome", "method"),
            (
                _OUTCOME, _METHOD,
                _c("months", "text", "months pooled, e.g. `1..12`"),
                *_did_effect_cr2("mean over the follow-up of the monthly difference-in-differences (a difference in "
                             "probability)"),
                _N_TREATED, _N_CONTROL, _N_CLUSTERS, _DF_RESID, _CONVERGED, _WARNINGS,
            ),
            report_required=True,
            figures=(Figure(columns=_DID_EFFECT, n=("n_treated", "n_control", "n_clusters"), df="df_resid"),),
            dominance=True,
        ),
        Contract(
            "placebo", "Placebo analysis",
            "Difference-in-differences with a fake earlier start (reference month `anchors.placebo_reference_month`, "
            "fake follow-up `anchors.placebo_post_months`), per month and pooled: estimates far from 0 question "
            "common trends. An outcome not defined at the placebo reference month has one row with its reason in "
            "`warnings`. Both estimators (`method`).",
            "register", "rule `effects`",
            ("outcome", "method", "term", "month"),
            (
                _OUTCOME, _METHOD,
                _c("term", "text", "`month` (one fake follow-up month) or `pooled` (their mean)"),
                _c("month", "integer", "fake follow-up month (empty on the pooled row)"),
                *_did_effect_cr2("placebo difference-in-differences (a difference in probability)"),
                _c("n_treated", "count", "trained units in the month (pooled: at the placebo reference month)"),
                _c("n_control", "count", "control units in the month (pooled: at the placebo reference month)"),
                _N_CLUSTERS, _DF_RESID, _CONVERGED, _WARNINGS,
            ),
            figures=(Figure(columns=_DID_EFFECT, n=("n_treated", "n_control", "n_clusters"), df="df_resid"),),
            lines=(Line(by=("outcome", "method"), counts=("n_treated",)),),
            dominance=True,
        ),
        Contract(
            "km", "Kaplan-Meier estimates",
            "Job retention from the end of the training: share still in the baseline job (`job`) or in paid work "
            "(`work`) after each month, weighted, with robust (clustered) log-log intervals; in the export the curve "
            "is cut where fewer than 10 units are at risk and every published step carries at least 10 events.",
            "register", "rule `effects`",
            ("outcome", "group", "time"),
            (
                _SURVIVAL_OUTCOME, _GROUP,
                _c("time", "integer", "months since the end of the training"),
                _c("n_risk", "count", "units at risk at the start of the month (unweighted)"),
                _c("n_event", "count",
                   "events in the month (unweighted; in the export: since the previous published step)"),
                _c("survival", "probability", "weighted Kaplan-Meier estimate after the month"),
                _c("se", "number",
                   "robust standard error of survival (infinitesimal jackknife, clustered on the person)"),
                _c("ci_low", "probability", "lower bound of the 95% log-log interval"),
                _c("ci_high", "probability", "upper bound of the 95% log-log interval"),
            ),
            report_required=True,
            figures=(Figure(columns=("survival", "se", "ci_low", "ci_high", "n_event"), n=("n_risk",)),),
            procedure="km",
            groups=("outcome", "group"),
            events="n_event",
        ),
        Contract(
            "rmst", "Restricted mean survival time",
            "Months in the baseline job (or in work) within the horizon, per group, and their difference: the "
            "primary survival contrast, for both estimators (`method`; `effects.primary_method` is the one reported "
            "first). Variances from influence functions summed within persons. The n's of both rows are the same "
            "units (the adjusted row: those with every covariate).",
            "register", "rule `effects`",
            ("outcome", "horizon", "method"),
            (
                _SURVIVAL_OUTCOME,
                _c("horizon", "integer", "horizon in months"),
                _c("method", "text", "`matched` (the area under the weighted Kaplan-Meier curves; the published "
                                     "method) or `adjusted` (weighted regression of the units' pseudo-values on "
                                     "treated and `effects.adjusted_covariates`; `rmst_control` = `rmst_treated` - "
                                     "`difference`)"),
                _c("rmst_treated", "number", "restricted mean survival time, trained group (months)"),
                _c("rmst_control", "number", "restricted mean survival time, weighted controls (months)"),
                _c("se_treated", "number", "standard error of rmst_treated"),
                _c("se_control", "number", "standard error of rmst_control"),
                _c("difference", "number", "trained minus control (months)"),
                _c("se", "number", "standard error of the difference"),
                _c("ci_low", "number", "lower bound of the 95% interval of the difference"),
                _c("ci_high", "number", "upper bound of the 95% interval of the difference"),
                _c("p", "probability", "two-sided p-value of difference = 0"),
                _c("n_treated", "count", "trained units"),
                _c("n_control", "count", "control units"),
                _CONVERGED, _WARNINGS,
            ),
            report_required=True,
            figures=(Figure(columns=("rmst_treated", "rmst_control", "se_treated", "se_control", "difference", "se",
                                     "ci_low", "ci_high", "p"), n=("n_treated", "n_control")),),
            dominance=True,
        ),
        Contract(
            "survival", "Hazard models",
            "Weighted Cox models of leaving the baseline job (or work), stratified by cohort, robust variance on the "
            "person: the hazard ratio is an average over the follow-up (reported second). Model `primary` (treated "
            "only; its row `robust score test` is the weighted, clustered replacement of the log-rank test), "
            "`adjusted` (plus `effects.adjusted_covariates`) and `cloglog` (discrete-time complementary log-log).",
            "register", "rule `effects`",
            ("outcome", "model", "term"),
            (
                _SURVIVAL_OUTCOME,
                _c("model", "text", "`primary`, `adjusted` or `cloglog`"),
                _c("term", "text", "model term (`treated`, a covariate, or `robust score test`)"),
                _c("coef", "number", "log hazard ratio"),
                _c("se", "number", "robust standard error of coef"),
                _c("hr", "number", "hazard ratio exp(coef)"),
                _c("ci_low", "number", "lower bound of the robust 95% interval of the hazard ratio"),
                _c("ci_high", "number", "upper bound of the robust 95% interval of the hazard ratio"),
                _c("p", "probability", "two-sided p-value (robust Wald; score test on its own row)"),
                _c("statistic", "number", "chi-square of the robust score test (its row only)"),
                _c("test_df", "integer", "degrees of freedom of the score test (its row only)"),
                *_SURVIVAL_COUNTS, _CONVERGED, _WARNINGS,
            ),
            figures=_SURVIVAL_FIGURES,
            row_totals=_EVENT_TOTAL,
            dominance=True,
        ),
        Contract(
            "ph_test", "Proportional-hazards check",
            "The treated hazard ratio of the primary Cox model in the early months (0..`effects.ph_split_month`) and "
            "after, and their ratio: a ratio far from 1 questions proportional hazards (the hazard ratio of "
            "`survival` is then an average).",
            "register", "rule `effects`",
            ("outcome", "term"),
            (
                _SURVIVAL_OUTCOME,
                _c("term", "text",
                   "`treated, months 0-<split>`, `treated, months <split+1>-<last>` or `ratio late/early`"),
                _c("hr", "number", "hazard ratio (of the ratio row: late over early)"),
                _c("ci_low", "number", "lower bound of the robust 95% interval"),
                _c("ci_high", "number", "upper bound of the robust 95% interval"),
                _c("p", "probability", "two-sided p-value (of the ratio row: the test of proportional hazards)"),
                _c("n_treated", "count", "trained units at risk in the period"),
                _c("n_control", "count", "control units at risk in the period"),
                _c("n_event_treated", "count", "events among trained units in the period"),
                _c("n_event_control", "count", "events among control units in the period"),
                _c("n_event", "count", "events in the period"),
                _N_CLUSTERS, _DF_RESID, _CONVERGED, _WARNINGS,
            ),
            figures=_PH_FIGURES,
            row_totals=_EVENT_TOTAL,
            dominance=True,
        ),
        Contract(
            "modifiers", "Effect modifiers",
            "Pooled effect on the primary outcome within each level of a possible modifier (the trainee's value; "
            "a register characteristic re-matched within the level so that every control has it too, a supervisor's "
            "answer with the controls of the main pairs) and the interaction: the difference from the reference "
            "level, a contrast on the stacked regression of both levels with CR2 clustered on the person across "
            "them. Both estimators (`method`; the adjusted one leaves the modifier's own column out). Exploratory; "
            "the levels partition the trained units.",
            "register", "rule `effects`",
            ("outcome", "method", "modifier", "level"),
            (
                _OUTCOME, _METHOD,
                _c("modifier", "text", "characteristic (a name of `effects.modifiers`)"),
                _c("level", "text", "level of the characteristic (`missing` for an unknown value)"),
                _c("reference_level", "text", "the level the interactions compare with"),
                _c("n_treated", "count", "trained units at this level"),
                _c("n_control", "count", "control units matched at this level"),
                *_did_effect_cr2("pooled difference-in-differences at this level"),
                _c("interaction", "number", "difference from the reference level (empty on the reference level)"),
                _c("interaction_se", "number", "CR2 standard error of the interaction: a contrast on the stacked "
                   "regression of the level and the reference level, clustered on the person across both"),
                _c("interaction_df", "number",
                   "Satterthwaite degrees of freedom of the interaction's CR2 standard error"),
                _c("interaction_ci_low", "number", "lower bound of its 95% interval (t with `interaction_df`)"),
                _c("interaction_ci_high", "number", "upper bound of its 95% interval"),
                _c("interaction_p", "probability", "two-sided p-value of interaction = 0 (t with `interaction_df`)"),
                _c("detectable_interaction", "number", "smallest interaction with 80% power at two-sided 5%: "
                   "(z_0.975 + z_0.80) x `interaction_se`"),
                _N_CLUSTERS, _DF_RESID,
                _c("suppressed", "indicator", "1 when the level (or the reference) has fewer than "
                   "`effects.min_subgroup_trainees` trained units: no estimate"),
                _CONVERGED, _WARNINGS,
            ),
            figures=(Figure(columns=_DID_EFFECT + ("interaction", "interaction_se", "interaction_df",
                                                   "interaction_ci_low", "interaction_ci_high", "interaction_p",
                                                   "detectable_interaction"),
                            n=("n_treated", "n_control", "n_clusters"), df="df_resid"),),
            lines=(Line(by=("outcome", "method", "modifier"), kind="partition", counts=("n_treated", "n_control")),),
        ),
        Contract(
            "sensitivity", "Sensitivity analyses",
            "The headline estimates repeated under other choices (`effects.sensitivity`): the pooled "
            "difference-in-differences, the RMST difference and the hazard ratio.",
            "register", "rule `effects`",
            ("analysis", "outcome", "estimand"),
            (
                _c("analysis", "text", "what was changed (e.g. `odds_weights`; `primary` is the unchanged analysis)"),
                _c("outcome", "text",
                   "panel outcome (difference-in-differences) or survival outcome (RMST, hazard ratio)"),
                _c("estimand", "text", "`pooled difference-in-differences`, `RMST difference at <h> months`, "
                   "`hazard ratio (Cox)` or `hazard ratio (cloglog)`"),
                _c("estimate", "number", "the estimate on its own scale (probability, months or hazard ratio)"),
                _c("se", "number", "standard error (log scale for hazard ratios)"),
                _c("ci_low", "number", "lower bound of the 95% interval"),
                _c("ci_high", "number", "upper bound of the 95% interval"),
                _c("p", "probability", "two-sided p-value"),
                _N_TREATED, _N_CONTROL, _N_CLUSTERS, _DF_RESID, _CONVERGED, _WARNINGS,
            ),
            figures=(Figure(columns=_EFFECT, n=("n_treated", "n_control", "n_clusters"), df="df_resid"),),
        ),
        Contract(
            "confounding", "Unmeasured confounding",
            "How strong unmeasured confounding would have to be: E-values of the RMST difference and of the hazard "
            "ratio (on the risk-ratio scale), and the additive bias that would move the pooled effect, or its "
            "interval, to 0.",
            "register", "rule `effects`",
            ("estimand", "outcome"),
            (
                _c("estimand", "text", "the headline estimate (as in `sensitivity`)"),
                _c("outcome", "text", "its outcome"),
                _c("estimate", "number", "the estimate"),
                _c("ci_low", "number", "lower bound of its 95% interval"),
                _c("ci_high", "number", "upper bound of its 95% interval"),
                _c("approximate_rr", "number", "the estimate as an approximate risk ratio"),
                _c("rr_ci_low", "number", "lower bound on the risk-ratio scale"),
                _c("rr_ci_high", "number", "upper bound on the risk-ratio scale"),
                _c("evalue_estimate", "number", "E-value of the estimate"),
                _c("evalue_ci", "number", "E-value of the interval limit nearest the null (1 if it covers the null)"),
                _c("bias_to_null_estimate", "number", "additive bias that moves the estimate to 0"),
                _c("bias_to_null_ci", "number", "additive bias that makes the interval include 0 (0 if it does)"),
                _c("outcome_sd", "number", "RMST rows: SD of the restricted time among controls (months)"),
                _c("n_treated", "count", "trained units behind the estimate"),
                _c("n_control", "count", "control units behind the estimate"),
                _c("conversion", "text", "how the estimate was converted to a risk ratio"),
            ),
            figures=(Figure(columns=("estimate", "ci_low", "ci_high", "approximate_rr", "rr_ci_low", "rr_ci_high",
                                     "evalue_estimate", "evalue_ci", "bias_to_null_estimate", "bias_to_null_ci",
                                     "outcome_sd"), n=("n_treated", "n_control")),),
        ),
        Contract(
            "supervisor_effects", "Supervisor outcomes: change from the reference wave",
            "Mixed-model contrasts (REML; per training group a random intercept and a random post-training slope, "
            "per supervisor a random intercept; t intervals on Satterthwaite df) of each construct at "
            "a later wave against the reference wave (T1 versus T0 is the primary contrast per construct), "
            "Holm-adjusted over all rows.",
            "questionnaire", "rule `supervisor_analyses`",
            ("construct", "wave"),
            (
                _c("construct", "text", "`knowledge`, `self_efficacy`, `intention`, `behaviour`"),
                _c("wave", "text", "the later wave compared with the reference wave"),
                _c("estimate", "number", "change in mean score (wave minus reference wave, 1-5 scale)"),
                _c("ci_low", "number", "lower bound of the t-based 95% interval (df in `df`)"),
                _c("ci_high", "number", "upper bound of the t-based 95% interval (df in `df`)"),
                _c("p", "probability", "two-sided p-value (t on `df`)"),
                _c("p_holm", "probability", "Holm-adjusted p-value over all rows"),
                _c("effect_size", "number", "estimate / SD of the construct's reference-wave scores"),
                _c("n", "count", "supervisors with a score at the wave"),
                _CONVERGED, _WARNINGS,
                _c("optimizer", "text", "the optimizer with the highest REML log-likelihood"),
                _c("group_variance", "number", "training-group variance (of the group intercept)"),
                _c("boundary", "indicator", "1 when a variance component is estimated at 0 or the training-group "
                   "covariance is singular"),
                _c("contrast", "text", "the contrast in words (`T1 - T0`)"),
                _c("primary", "indicator", "1 for the primary contrast (`supervisors.primary_wave`)"),
                _c("se", "number", "standard error of the estimate"),
                _c("n_reference", "count", "supervisors with a score at the reference wave"),
                _c("n_obs", "count", "scores in the model"),
                _c("n_supervisors", "count", "supervisors in the model"),
                _c("n_groups", "count", "training groups in the model"),
                _c("supervisor_variance", "number", "supervisor variance"),
                _c("residual_variance", "number", "residual variance"),
                _c("reml_loglik", "number", "REML log-likelihood of the model"),
                _c("df", "number", "Satterthwaite degrees of freedom (as lmerTest); training groups - 1 where "
                   "they cannot be computed (the warnings say so)", required=False),
                _c("group_slope_variance", "number", "variance of the training groups' post-training change",
                   required=False),
                _c("group_slope_covariance", "number", "covariance of the training groups' intercept and "
                   "post-training change", required=False),
            ),
            report_required=True,
        ),
        Contract(
            "supervisor_means", "Supervisor outcomes per wave",
            "Model-estimated mean score of each construct per wave (1-5 scale).",
            "questionnaire", "rule `supervisor_analyses`",
            ("construct", "wave"),
            (
                _c("construct", "text", "`knowledge`, `self_efficacy`, `intention`, `behaviour`"),
                _c("wave", "text", "`T0`, `T1`, ..."),
                _c("mean", "number", "model-estimated mean score"),
                _c("ci_low", "number", "lower bound of the t-based 95% interval (df in `df`)"),
                _c("ci_high", "number", "upper bound of the t-based 95% interval (df in `df`)"),
                _c("n", "count", "supervisors scored at the wave"),
                _c("se", "number", "standard error of the mean"),
                _CONVERGED, _WARNINGS,
                _c("df", "number", "Satterthwaite degrees of freedom of the interval", required=False),
            ),
            report_required=True,
        ),
        Contract(
            "supervisor_sensitivity", "Supervisor outcomes: sensitivity analyses",
            "The change per construct and wave under other choices: complete cases, adjusted for baseline "
            "covariates, and by delivery mode and by the number of employees guided (within subgroups and their "
            "difference).",
            "questionnaire", "rule `supervisor_analyses`",
            ("analysis", "construct", "wave", "subgroup"),
            (
                _c("analysis", "text",
                   "`all_available`, `complete_cases`, `adjusted`, `by_mode`, `by_employees_guided`"),
                _c("construct", "text", "the construct"),
                _c("wave", "text", "the later wave compared with the reference wave"),
                _c("subgroup", "text", "`all`, a subgroup, or `<level> - <reference>` (difference of the changes)"),
                _c("estimate", "number", "change in mean score"),
                _c("se", "number", "standard error"),
                _c("ci_low", "number", "lower bound of the t-based 95% interval (df in `df`)"),
                _c("ci_high", "number", "upper bound of the t-based 95% interval (df in `df`)"),
                _c("p", "probability", "two-sided p-value (t on `df`)"),
                _c("n", "count", "supervisors scored at the wave in the subgroup(s)"),
                _c("n_supervisors", "count", "supervisors in the model"),
                _CONVERGED, _WARNINGS,
                _c("optimizer", "text", "the optimizer with the highest REML log-likelihood"),
                _c("boundary", "indicator", "1 when a variance component is estimated at 0 or the training-group "
                   "covariance is singular"),
                _c("df", "number", "Satterthwaite degrees of freedom of the interval and p", required=False),
            ),
        ),
        Contract(
            "attrition", "Attrition of supervisors",
            "Per later wave, the supervisors who answered the reference wave split into those who answered that "
            "wave (`stayed`) and those who did not (`dropped`), compared on their baseline characteristics.",
            "questionnaire", "rule `supervisor_analyses`",
            ("wave", "variable", "category"),
            (
                _c("wave", "text", "the later wave"),
                _c("variable", "text",
                   "`supervisors` (the counts), a baseline covariate, or `<construct>_<reference wave>`"),
                _c("category", "text", "level of a categorical variable (empty otherwise)"),
                _c("statistic", "text", "what `value_*` is: `count`, `mean` (with `sd_*`) or `share`"),
                _c("n_stayed", "count", "supervisors who stayed (answering the variable)"),
                _c("value_stayed", "number", "count, mean or share among those who stayed"),
                _c("sd_stayed", "number", "standard deviation among those who stayed (means)"),
                _c("n_dropped", "count", "supervisors who dropped out (answering the variable)"),
                _c("value_dropped", "number", "count, mean or share among those who dropped out"),
                _c("sd_dropped", "number", "standard deviation among those who dropped out (means)"),
                _c("std_diff", "number", "standardised difference stayed minus dropped (pooled SD)"),
            ),
        ),
        Contract(
            "process", "Process evaluation",
            "Dose delivered (the schedule) and received, extra time, satisfaction and contextual factors "
            "(supervisors' questionnaire): counts and shares of those answering, means and SDs.",
            "questionnaire", "rule `supervisor_analyses`",
            ("measure", "wave", "category"),
            _DESCRIBED,
        ),
        Contract(
            "employees_baseline", "Employees' characteristics",
            "The employees' questionnaire: occupation, disability, work ability and job satisfaction (shares of those "
            "answering; means with SD) and, at the follow-up, their perceived change in the supervisor.",
            "questionnaire", "rule `supervisor_analyses`",
            ("measure", "wave", "category"),
            _DESCRIBED,
        ),
    )
}

#: Table names in the order of the data dictionary.
TABLE_NAMES = tuple(CONTRACTS)
#: Tables derived from register data (exported through the disclosure check).
REGISTER_TABLES = tuple(n for n, c in CONTRACTS.items() if c.origin == "register")
#: Tables built from the study's own questionnaires only.
QUESTIONNAIRE_TABLES = tuple(n for n, c in CONTRACTS.items() if c.origin == "questionnaire")
#: Register tables the effects rule writes (data/processed/results/<name>.csv).
EFFECT_TABLES = tuple(n for n, c in CONTRACTS.items() if c.written_by == "rule `effects`")


#: The estimators of the ``method`` column of did_by_month, did_pooled, placebo, modifiers and rmst,
#: and the one the documents report first unless ``effects.primary_method`` says otherwise.
DID_METHODS = ("matched", "adjusted")
PRIMARY_METHOD = "matched"


def method_rows(table, method: str = PRIMARY_METHOD):
    """The rows of one estimator (``method``) of a did_by_month, did_pooled, placebo, modifiers or
    rmst table;
    a table without a ``method`` column (written before it existed) is returned whole."""
    if table is None or "method" not in table.columns:
        return table
    return table[table["method"].astype(str) == method]


def other_method(method: str = PRIMARY_METHOD) -> str:
    """The DiD estimator that is not ``method`` (the sensitivity analysis of the primary one)."""
    return next(m for m in DID_METHODS if m != method)


def contract(name: str) -> Contract:
    """The contract of table ``name`` (KeyError naming the known tables otherwise)."""
    if name not in CONTRACTS:
        raise KeyError(f"no contract for table {name!r}; known tables: {', '.join(TABLE_NAMES)}")
    return CONTRACTS[name]


def column_names(name: str) -> list[str]:
    """The columns of table ``name`` in the order its producer writes them."""
    return list(contract(name).column_names)


def contract_problems(contracts: Iterable[Contract] | None = None) -> list[str]:
    """Inconsistencies of the contracts (an empty list when they are sound).

    Every key and every disclosure role names a column of its table; columns are unique; every
    count column of a register table stands behind a figure (so that the export checks it); a
    register table has figures; kinds and origins are known.
    """
    problems = []
    for c in contracts if contracts is not None else CONTRACTS.values():
        names = c.column_names
        if len(names) != len(set(names)):
            problems.append(f"{c.name}: a column is listed twice")
        if c.origin not in ORIGINS:
            problems.append(f"{c.name}: unknown origin {c.origin!r}")
        for column in c.columns:
            if column.kind not in KINDS:
                problems.append(f"{c.name}.{column.name}: unknown kind {column.kind!r}")
        roles = (set(c.keys) | {x for f in c.figures for x in f.cells()}
                 | {x for line in c.lines for x in line.by + line.counts})
        roles |= {x for t in c.row_totals for x in t.parts + ((t.total,) if t.total else ())}
        roles |= set(c.groups) | set(c.bins or ()) | ({c.events} if c.events else set())
        for name in sorted(roles - set(names)):
            problems.append(f"{c.name}: role names {name!r}, which is not a column")
        if c.origin == "register":
            if not c.figures:
                problems.append(f"{c.name}: a register table needs its figures (disclosure roles)")
            counted = {x for f in c.figures for x in f.n + f.with_counts} | ({c.events} if c.events else set())
            for column in c.columns:
                if column.kind == "count" and column.name not in counted:
                    problems.append(f"{c.name}.{column.name}: a count that stands behind no figure")
    return problems


__all__ = [
    "CONTRACTS", "Column", "Contract", "DID_METHODS", "DOMINANCE_COLUMN", "EFFECT_TABLES", "Figure", "KINDS", "Line",
    "NUMERIC_KINDS", "ORIGINS", "PRIMARY_METHOD", "QUESTIONNAIRE_TABLES", "REGISTER_TABLES", "RowTotal", "TABLE_NAMES",
    "column_names", "contract", "contract_problems", "method_rows", "other_method",
]
