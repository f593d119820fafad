"""Monte Carlo over whole synthetic studies: does the chain recover the truth?

One replication (:func:`run_replication`) writes a synthetic study (scenario ``effect``: the
config's ``synthetic.effect``; ``null``: the same with ``log_hr_peak`` 0) at a scale and seed,
runs the trainee hand-over, the register part and the effects with the very functions of the
analysis (:func:`mentorwijs.ingest.run_questionnaires` with ``handover_only``,
:func:`mentorwijs.register.steps.run_register`, which ends in
:func:`mentorwijs.effects.tables.effects_step`), reads the result tables and writes one row per
estimate (:func:`estimator_rows`) with the truth from ``truth.json`` beside it. Nothing else of
the study is kept. :func:`summarise` turns the rows of many replications into
``docs/validation/chain.csv``: per scenario, scale, estimator, method, outcome, term and month
the bias with its Monte Carlo SE, the empirical against the mean estimated SE, the coverage and
the power with Clopper-Pearson limits.

Estimators and their truth (all on the matched trainees: the ATT the matched analysis targets;
docs/validation/README.md):

- ``did_pooled`` (per outcome) and ``did_month`` (per outcome and month but the reference month,
  where the difference is 0 by construction): the expected ATT
  ``effects.<outcome>.matched.expected_att`` (the mean effect over replicate futures of the same
  trainees, their histories up to month 0 kept): the estimate's SE includes the trainees' own
  outcome noise, so the expected rather than the realised ATT is the value a 95% interval should
  cover 95% of the time; ``truth_realised`` holds the realised ATT (``att``);
- ``did_band`` (per outcome): does the simultaneous band cover the whole expected ATT curve over
  the months it spans (``covers``), and does it exclude 0 in some month (``rejects``);
- ``rmst_difference`` (per survival outcome): the realised difference of the trainees' potential
  restricted mean survival times, ``survival.<outcome>.matched.rmst_difference``;
- ``cox_log_hr`` (primary and adjusted Cox models, per survival outcome) and ``cloglog_log_hr``:
  the log of the ratio of the potential event rates over follow-up,
  ``survival.<outcome>.matched.average_hazard_ratio``. The effect rises and fades, so a Cox
  coefficient estimates a weighted average of a time-varying log hazard ratio that differs from
  this summary: under ``effect`` their bias and coverage are a distance to a summary, not a
  verdict; under ``null`` the truth, 0, is exact;
- ``modifier_effect`` and ``modifier_interaction`` (per modifier and level of the primary
  outcome): the realised ATT of the subgroup as the analysis forms it: the mean, over the
  analysis's matched trainees at that level (:func:`mentorwijs.effects.modifiers.modifier_levels`),
  of each trainee's realised effect from ``truth_trainees.csv`` (:func:`subgroup_truth`); the
  interaction's truth is the level's minus the reference level's. Under ``null`` all are 0.

Rows with a method column (``method``: e.g. ``matched``, ``adjusted``) give one row per method;
tables without one give method ``matched``. New estimators in those tables flow in unchanged.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import resource
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from mentorwijs.errors import InputError

log = logging.getLogger(__name__)

SCENARIOS = ("effect", "null")

#: The columns of a replication's rows (``rows.csv``), in order.
ROW_COLUMNS = ("scenario", "scale", "seed", "estimator", "method", "outcome", "term", "month", "estimate", "se",
               "ci_low", "ci_high", "df", "truth", "truth_realised", "covers", "rejects", "truth_source")

#: The columns of chain.csv, in order.
SUMMARY_COLUMNS = ("scenario", "scale", "estimator", "method", "outcome", "term", "month", "replications", "failed",
                   "mean_truth", "mean_estimate", "bias", "bias_mc_se", "empirical_se", "error_sd", "mean_se",
                   "coverage", "coverage_low", "coverage_high", "power", "power_low", "power_high", "verdict",
                   "truth_source")

LEVEL = 0.95


# ---------------------------------------------------------------------------------------------
# one replication


def replication_config(config: Mapping[str, Any], *, scenario: str, scale: float, seed: int, pool_scale: float,
                       codebooks: str | Path) -> dict[str, Any]:
    """The study configuration of one replication: ``config`` with the synthetic study's scale,
    pool scale, seed (also the band's seed) and, for ``null``, ``log_hr_peak`` 0; codebook paths
    made absolute (the replication runs in its own folder)."""
    if scenario not in SCENARIOS:
        raise InputError(f"unknown scenario {scenario!r}", hint=f"use one of {', '.join(SCENARIOS)}")
    out = copy.deepcopy(dict(config))
    out["study"]["seed"] = int(seed)
    out["study"]["synthetic"] = True
    out["synthetic"]["scale"] = float(scale)
    out["synthetic"]["pool_scale"] = float(pool_scale)
    if scenario == "null":
        out["synthetic"]["effect"]["log_hr_peak"] = 0
    folder = Path(codebooks).resolve()
    for spec in out["sources"].values():
        spec["codebook"] = (folder / Path(spec["codebook"]).name).as_posix()
    return out


@contextmanager
def demo_key() -> Iterator[None]:
    """Pseudonyms with the synthetic study's documented demo key, whatever the environment holds
    (the same bytes on every machine)."""
    saved = {name: os.environ.pop(name) for name in ("MENTORWIJS_KEY", "MENTORWIJS_KEY_FILE") if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def run_replication(config: Mapping[str, Any], *, scenario: str, scale: float, seed: int, pool_scale: float,
                    codebooks: str | Path, work: str | Path, rows_out: str | Path,
                    seconds_out: str | Path | None = None, keep: bool = False,
                    progress: Callable[[str], None] = lambda message: None) -> pd.DataFrame:
    """Simulate, hand over, run the register part and the effects in ``work``; write the rows.

    ``work`` is emptied first and removed after success unless ``keep``. ``seconds_out`` (a CSV)
    gets the seconds of each stage and the process's peak memory.
    """
    from mentorwijs.ingest import run_questionnaires
    from mentorwijs.pseudonymise import DEMO_KEY
    from mentorwijs.register.steps import run_register
    from mentorwijs.simulate import TRAINEE_TRUTH, TRUTH, simulate
    from mentorwijs.tables import write_csv_table

    settings = replication_config(config, scenario=scenario, scale=scale, seed=seed, pool_scale=pool_scale,
                                  codebooks=codebooks)
    work = Path(work)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    synthetic = settings["synthetic"]
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    simulate(work / synthetic["out"], seed=int(seed), scale=float(scale), pool_scale=float(pool_scale),
             codebooks=codebooks, targets=synthetic["targets"], effect=synthetic["effect"],
             regions=settings["regions"]["pairs"], anchors=settings["anchors"], register_only=True)
    seconds["simulate"] = time.perf_counter() - started
    progress(f"{scenario} scale {scale} seed {seed}: simulated in {seconds['simulate']:.1f} s")
    started = time.perf_counter()
    run_questionnaires(settings, work, key=DEMO_KEY, progress=lambda line: None, handover_only=True)
    seconds["handover"] = time.perf_counter() - started
    with demo_key():
        seconds.update(run_register(settings, root=work, skip=("export",)))
    truth = json.loads((work / synthetic["out"] / TRUTH).read_text(encoding="utf-8"))
    subgroups = subgroup_truth(work, work / synthetic["out"] / TRAINEE_TRUTH, settings)
    rows = estimator_rows(work / "data" / "processed" / "results", truth, settings, subgroups=subgroups)
    rows.insert(0, "seed", int(seed))
    rows.insert(0, "scale", float(scale))
    rows.insert(0, "scenario", scenario)
    rows = rows[list(ROW_COLUMNS)]
    write_csv_table(rows, rows_out)
    if seconds_out is not None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
        table = pd.DataFrame({"stage": [*seconds, "total", "peak_rss_mb"],
                              "value": [*seconds.values(), sum(seconds.values()), peak]})
        write_csv_table(table, seconds_out)
    if not keep:
        shutil.rmtree(work)
        for parent in list(work.parents)[:2]:  # the scenario's and scale's folders, once empty
            try:
                parent.rmdir()
            except OSError:
                break
    progress(f"{scenario} scale {scale} seed {seed}: {len(rows)} rows in {sum(seconds.values()):.1f} s")
    return rows


# ---------------------------------------------------------------------------------------------
# rows: result tables + truth


def _read(results: Path, name: str) -> pd.DataFrame:
    path = results / f"{name}.csv"
    if not path.is_file():
        raise InputError("the effects step wrote no such table", file=path,
                         hint="run the register part and effects first")
    return pd.read_csv(path, dtype={"level": str, "reference_level": str, "term": str, "months": str, "warnings": str})


def _methods(table: pd.DataFrame) -> pd.Series:
    """The method of each row: its ``method`` column, else ``matched``."""
    if "method" in table.columns:
        return table["method"].astype(str)
    return pd.Series("matched", index=table.index)


def _df(table: pd.DataFrame) -> pd.Series:
    """The degrees of freedom of each row's interval: ``df`` where given, else ``df_resid``."""
    out = pd.Series(np.nan, index=table.index)
    for column in ("df_resid", "df"):
        if column in table.columns:
            values = pd.to_numeric(table[column], errors="coerce")
            out = values.where(values.notna(), out)
    return out


def _month_span(text: str) -> tuple[int, int]:
    first, last = str(text).split("..")
    return int(first), int(last)


def _interval_flags(estimate: float, low: float, high: float, truth: float) -> tuple[float, float]:
    """(covers, rejects): does [low, high] hold the truth, does it exclude 0 (NaN when undefined)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return np.nan, np.nan
    covers = float(low <= truth <= high) if np.isfinite(truth) else np.nan
    return covers, float(not (low <= 0 <= high))


def _row(estimator: str, method: str, outcome: str, term: str, month: float, estimate: float, se: float, low: float,
         high: float, df: float, truth: float, realised: float, source: str) -> dict[str, Any]:
    covers, rejects = _interval_flags(estimate, low, high, truth)
    return dict(estimator=estimator, method=method, outcome=outcome, term=term, month=month, estimate=estimate, se=se,
                ci_low=low, ci_high=high, df=df, truth=truth, truth_realised=realised, covers=covers, rejects=rejects,
                truth_source=source)


def _f(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def no_effect(truth: Mapping[str, Any]) -> bool:
    """The study was simulated without an effect (``log_hr_peak`` 0): every trainee's effect is 0."""
    return float(truth["parameters"]["register"]["effect"]["log_hr_peak"]) == 0.0


def subgroup_truth(root: str | Path, trainee_truth: str | Path,
                   config: Mapping[str, Any]) -> dict[tuple[str, str], float]:
    """The realised ATT on the primary outcome of each modifier level as the analysis forms it.

    The analysis's matched trainees (``data/processed/matched.parquet`` and ``survival.parquet``
    under ``root``, joined as the effects step joins them) get their level from
    :func:`mentorwijs.effects.modifiers.modifier_levels`; each is linked through the register
    part's person table (pseudonym -> RINPERSOONS + RINPERSOON) to its realised effect in
    ``trainee_truth``. Returns {(modifier name, level): mean effect}.
    """
    from mentorwijs.effects.modifiers import modifier_levels
    from mentorwijs.effects.tables import analysis_inputs, main_sample
    from mentorwijs.tables import read_parquet

    root = Path(root)
    effects = config["effects"]
    column = f"effect_{effects['primary_outcome']}"
    matched = read_parquet(root / "data" / "processed" / "matched.parquet")
    # the survival table also holds the units only the re-matched modifier pairs use
    survival = main_sample(read_parquet(root / "data" / "processed" / "survival.parquet"))
    _, units = analysis_inputs(matched[["unit"]], survival, matched, join=())
    trainees = units[units["treated"] == 1]
    persons = read_parquet(root / "data" / "interim" / "register" / "persons.parquet")
    rin_of = persons.drop_duplicates("person").set_index("person")["rin"]
    effect_of = pd.read_csv(trainee_truth, dtype={"rin": str}).set_index("rin")[column]
    effect = trainees["person"].map(rin_of).map(effect_of)
    if effect.isna().any():
        raise InputError(f"{int(effect.isna().sum())} matched trainee(s) have no realised effect in the truth",
                         file=trainee_truth,
                         hint="the study folder and the register part's outputs must be of the same run")
    effect.index = trainees["unit"].to_numpy()
    out: dict[tuple[str, str], float] = {}
    for spec in effects.get("modifiers") or []:
        name, levels = modifier_levels(trainees, spec)
        for level, values in effect.groupby(levels.reindex(effect.index).to_numpy()):
            out[(name, str(level))] = float(values.mean())
    return out


def estimator_rows(results: str | Path, truth: Mapping[str, Any], config: Mapping[str, Any], *,
                   subgroups: Mapping[tuple[str, str], float] | None = None) -> pd.DataFrame:
    """One row per estimate of the result tables in ``results`` with its truth (module docstring);
    ``subgroups``: :func:`subgroup_truth` (without it the modifiers' truth is known only under the null)."""
    results = Path(results)
    effects = truth["effects"]
    rows: list[dict[str, Any]] = []

    def month_truth(outcome: str, key: str) -> dict[int, float]:
        t = effects[outcome]["matched"]
        return {int(m): _f(v) for m, v in zip(t["months"], t[key])}

    pooled = _read(results, "did_pooled")
    for (i, r), method, df in zip(pooled.iterrows(), _methods(pooled), _df(pooled)):
        expected, realised = month_truth(r["outcome"], "expected_att"), month_truth(r["outcome"], "att")
        first, last = _month_span(r["months"])
        span = range(first, last + 1)
        rows.append(_row("did_pooled", method, r["outcome"], f"months {first}..{last}", np.nan, _f(r["estimate"]),
                         _f(r["se"]), _f(r["ci_low"]), _f(r["ci_high"]), df,
                         float(np.mean([expected[m] for m in span])), float(np.mean([realised[m] for m in span])),
                         f"effects.{r['outcome']}.matched.expected_att (mean over months {first}..{last})"))

    by_month = _read(results, "did_by_month")
    by_month = by_month.assign(row_method=_methods(by_month).to_numpy(), row_df=_df(by_month).to_numpy())
    reference = (config.get("anchors") or {}).get("reference_month")
    for r in by_month.itertuples(index=False):
        expected, realised = month_truth(r.outcome, "expected_att"), month_truth(r.outcome, "att")
        month = int(r.month)
        if month not in expected or (reference is not None and month == int(reference)):
            continue  # the reference month's difference is 0 by construction
        rows.append(_row("did_month", r.row_method, r.outcome, "", month, _f(r.estimate), _f(r.se), _f(r.ci_low),
                         _f(r.ci_high), r.row_df, expected[month], realised[month],
                         f"effects.{r.outcome}.matched.expected_att[month {month}]"))
    for (outcome, method), part in by_month.groupby(["outcome", "row_method"], sort=True):
        band = part[pd.to_numeric(part["band_low"], errors="coerce").notna()]
        if not len(band):
            continue
        expected, realised = month_truth(outcome, "expected_att"), month_truth(outcome, "att")
        months = band["month"].astype(int).to_numpy()
        t = np.array([expected[m] for m in months])
        low, high = band["band_low"].astype(float).to_numpy(), band["band_high"].astype(float).to_numpy()
        finite = np.isfinite(low).all() and np.isfinite(high).all()
        row = _row("did_band", method, outcome, f"months {months.min()}..{months.max()}", np.nan, np.nan, np.nan,
                   np.nan, np.nan, np.nan, np.nan, np.nan,
                   f"effects.{outcome}.matched.expected_att (every month {months.min()}..{months.max()})")
        row["covers"] = float(((low <= t) & (t <= high)).all()) if finite else np.nan
        row["rejects"] = float(((low > 0) | (high < 0)).any()) if finite else np.nan
        rows.append(row)

    survival_truth = truth["survival"]
    horizon = int(config["effects"]["rmst_horizon"])
    rmst = _read(results, "rmst")
    for (i, r), method in zip(rmst.iterrows(), _methods(rmst)):
        t = survival_truth[r["outcome"]]["matched"]
        value = _f(t["rmst_difference"]) if int(r["horizon"]) == int(t["rmst_horizon"]) == horizon else np.nan
        rows.append(_row("rmst_difference", method, r["outcome"], f"horizon {int(r['horizon'])}", np.nan,
                         _f(r["difference"]), _f(r["se"]), _f(r["ci_low"]), _f(r["ci_high"]),
                         _f(r["df"]) if "df" in rmst.columns else np.nan, value, value,
                         f"survival.{r['outcome']}.matched.rmst_difference"))

    models = _read(results, "survival")
    models = models[models["term"] == "treated"]
    for (i, r), method in zip(models.iterrows(), _methods(models)):
        estimator = "cloglog_log_hr" if r["model"] == "cloglog" else "cox_log_hr"
        if "method" not in models.columns:
            method = {"primary": "matched", "cloglog": "matched"}.get(r["model"], str(r["model"]))
        ratio = _f(survival_truth[r["outcome"]]["matched"].get("average_hazard_ratio"))
        value = math.log(ratio) if np.isfinite(ratio) and ratio > 0 else np.nan
        low, high = _f(r["ci_low"]), _f(r["ci_high"])
        rows.append(_row(estimator, method, r["outcome"], f"model {r['model']}", np.nan, _f(r["coef"]), _f(r["se"]),
                         math.log(low) if low > 0 else np.nan, math.log(high) if high > 0 else np.nan,
                         _f(r["df"]) if "df" in models.columns else np.nan, value, value,
                         f"log survival.{r['outcome']}.matched.average_hazard_ratio"))

    rows.extend(_modifier_rows(_read(results, "modifiers"), truth, subgroups or {}))
    table = pd.DataFrame(rows, columns=[c for c in ROW_COLUMNS if c not in ("scenario", "scale", "seed")])
    keys = ["estimator", "method", "outcome", "term", "month"]
    return table.sort_values(keys, kind="mergesort", na_position="first").reset_index(drop=True)


def _modifier_rows(table: pd.DataFrame, truth: Mapping[str, Any],
                   subgroups: Mapping[tuple[str, str], float]) -> list[dict[str, Any]]:
    null = no_effect(truth)
    rows = []
    for (i, r), method, df in zip(table.iterrows(), _methods(table), _df(table)):
        level, reference = str(r["level"]), str(r["reference_level"])
        effect_truth = interaction_truth = np.nan
        source = ""
        if null:
            effect_truth = interaction_truth = 0.0
            source = "0 (no effect: log_hr_peak 0)"
        elif (r["modifier"], level) in subgroups:
            effect_truth = subgroups[(r["modifier"], level)]
            if (r["modifier"], reference) in subgroups:
                interaction_truth = effect_truth - subgroups[(r["modifier"], reference)]
            source = "truth_trainees.csv: mean realised effect of the level's matched trainees"
        term = f"{r['modifier']}={level}"
        rows.append(_row("modifier_effect", method, r["outcome"], term, np.nan, _f(r["estimate"]), _f(r["se"]),
                         _f(r["ci_low"]), _f(r["ci_high"]), df, effect_truth, effect_truth, source))
        if level != reference:
            rows.append(_row("modifier_interaction", method, r["outcome"], f"{term} vs {reference}", np.nan,
                             _f(r["interaction"]), _f(r["interaction_se"]), _f(r["interaction_ci_low"]),
                             _f(r["interaction_ci_high"]), df, interaction_truth, interaction_truth,
                             source + (", minus the reference level's" if source and not null else "")))
    return rows


# ---------------------------------------------------------------------------------------------
# aggregation


def clopper_pearson(successes: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Exact binomial (Clopper-Pearson) interval for a proportion."""
    from scipy.stats import beta

    if n == 0:
        return float("nan"), float("nan")
    alpha = 1 - level
    low = 0.0 if successes == 0 else float(beta.ppf(alpha / 2, successes, n - successes + 1))
    high = 1.0 if successes == n else float(beta.ppf(1 - alpha / 2, successes + 1, n - successes))
    return low, high


def _verdict(coverage: float, low: float, high: float, nominal: float) -> str:
    if not np.isfinite(coverage):
        return "no truth: power only"
    if low <= nominal <= high:
        return "coverage consistent with nominal"
    return "coverage below nominal" if high < nominal else "coverage above nominal"


def summarise(rows: pd.DataFrame, *, level: float = LEVEL) -> pd.DataFrame:
    """chain.csv: one row per scenario, scale, estimator, method, outcome, term and month (module docstring).

    ``replications`` counts the replications with an estimate (``failed``: without one, e.g. a
    subgroup too small); bias and its Monte Carlo SE from estimate - truth; ``empirical_se`` the
    SD of the estimates, ``error_sd`` the SD of estimate - truth (what the intervals must cover),
    ``mean_se`` the mean estimated SE; coverage and power (the share of intervals excluding 0:
    under ``null`` the type I error) with Clopper-Pearson limits at ``level``.
    """
    keys = ["scenario", "scale", "estimator", "method", "outcome", "term", "month"]
    data = rows.copy()
    data["term"] = data["term"].fillna("")
    data["month"] = pd.to_numeric(data["month"], errors="coerce")
    out = []
    for key, part in data.groupby(keys, sort=True, dropna=False):
        band = part["estimator"].iloc[0] == "did_band"
        estimate = pd.to_numeric(part["estimate"], errors="coerce")
        truth = pd.to_numeric(part["truth"], errors="coerce")
        ok = part["rejects"].notna() if band else estimate.notna()
        n = int(ok.sum())
        error = (estimate - truth)[ok & truth.notna()]
        covers = pd.to_numeric(part["covers"], errors="coerce")[ok].dropna()
        rejects = pd.to_numeric(part["rejects"], errors="coerce")[ok].dropna()
        coverage = float(covers.mean()) if len(covers) else float("nan")
        c_low, c_high = clopper_pearson(int(covers.sum()), len(covers), level) if len(covers) else (np.nan, np.nan)
        power = float(rejects.mean()) if len(rejects) else float("nan")
        p_low, p_high = clopper_pearson(int(rejects.sum()), len(rejects), level) if len(rejects) else (np.nan, np.nan)
        out.append(dict(zip(keys, key)) | dict(
            replications=n, failed=int(len(part) - n),
            mean_truth=float(truth[ok].mean()) if truth[ok].notna().any() else np.nan,
            mean_estimate=float(estimate[ok].mean()) if n and not band else np.nan,
            bias=float(error.mean()) if len(error) else np.nan,
            bias_mc_se=float(error.std(ddof=1) / math.sqrt(len(error))) if len(error) > 1 else np.nan,
            empirical_se=float(estimate[ok].std(ddof=1)) if n > 1 and not band else np.nan,
            error_sd=float(error.std(ddof=1)) if len(error) > 1 else np.nan,
            mean_se=float(pd.to_numeric(part["se"], errors="coerce")[ok].mean()) if n and not band else np.nan,
            coverage=coverage, coverage_low=c_low, coverage_high=c_high, power=power, power_low=p_low,
            power_high=p_high, verdict=_verdict(coverage, c_low, c_high, level),
            truth_source=str(part["truth_source"].fillna("").iloc[0]) if "truth_source" in part else ""))
    table = pd.DataFrame(out, columns=list(SUMMARY_COLUMNS))
    table["month"] = table["month"].astype("Int64")
    return table


def read_rows(paths: Sequence[str | Path]) -> pd.DataFrame:
    """The rows of many replications, in the order of ``paths`` (sorted by the caller)."""
    # only an empty field is missing: the scenario "null" (and a level such as "NA") is text
    frames = [pd.read_csv(p, dtype={"scenario": str, "term": str, "method": str, "truth_source": str},
                          keep_default_na=False, na_values=[""]) for p in paths]
    if not frames:
        raise InputError("no replication rows to aggregate", hint="run some replications first")
    return pd.concat(frames, ignore_index=True)


def aggregate(paths: Sequence[str | Path], out: str | Path) -> pd.DataFrame:
    """Read the replications' rows and write chain.csv (the project's CSV, rows in key order)."""
    from mentorwijs.tables import write_csv_table

    table = summarise(read_rows(sorted(paths, key=str)))
    write_csv_table(table, out)
    return table


def replication_seeds(first: int, replications: int) -> list[int]:
    """The seeds of replications 1..``replications``: ``first`` .. ``first + replications - 1``."""
    return [int(first) + r for r in range(int(replications))]


__all__ = ["ROW_COLUMNS", "SCENARIOS", "SUMMARY_COLUMNS", "aggregate", "clopper_pearson",
           "estimator_rows", "no_effect", "read_rows", "replication_config", "replication_seeds", "run_replication",
           "subgroup_truth", "summarise"]
