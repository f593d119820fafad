"""Power planner: how many trainees does the next evaluation need?

The power of a test is the share of studies in which its 95% interval excludes 0 when the effect
is real. Here it is measured, not computed from a formula: for each number of trainees the chain
validation (:mod:`mentorwijs.chain`, scenario ``effect``) simulates whole synthetic studies with the
configured effect (``synthetic.effect``) at the scale that plans that many matched trainees, runs
the register part and the effects exactly as the analysis does, and counts the replications whose
interval excludes 0. Its Monte Carlo uncertainty is the Clopper-Pearson interval of that share.

The scale of a number of trainees ``n`` is ``n / 73`` (73: the matched trainees of the published
study, the synthetic study's flow at scale 1; :func:`mentorwijs.simulate.design.flow_counts`).
Every count in the study's flow of participants scales with it, and so does the register's
candidate pool of the trainees' regions; the control regions' pool does not (``pool_scale`` 1),
so larger studies draw on a relatively thinner control pool, as a larger real evaluation in the
same regions would. The planned number of matched trainees at a scale, ``flow_counts(scale)``,
is what the table reports; the analysis may lose a trainee without a control in the caliper.

Two estimands are planned for, on the primary method (``effects.primary_method``):

- the primary effect: the pooled DiD of ``effects.primary_outcome`` (``did_pooled``);
- the RMST difference of ``effects.primary_survival_outcome`` at the follow-up horizon
  (``rmst_difference``).

The replications are the chain validation's own (the same work folder and seeds), so the rows at
scale 1 and 8 of ``docs/validation/chain.csv`` are reused rather than run again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from mentorwijs.errors import InputError

#: The columns of power.csv, in order.
POWER_COLUMNS = ("trainees", "scale", "estimator", "outcome", "term", "method", "replications", "failed",
                 "mean_truth", "empirical_se", "mean_se", "power", "power_low", "power_high")


def study_trainees() -> int:
    """The matched trainees of the published study: the synthetic flow's ``matched`` at scale 1 (73)."""
    from mentorwijs.simulate.design import flow_counts

    return int(flow_counts(1.0)["matched"])


def planned_trainees(scale: float) -> int:
    """The matched trainees the synthetic study plans at ``scale`` (``flow_counts(scale)["matched"]``)."""
    from mentorwijs.simulate.design import flow_counts

    return int(flow_counts(float(scale))["matched"])


def scale_for_trainees(trainees: int) -> float:
    """The synthetic study's scale for ``trainees`` matched trainees: ``trainees / 73``, to 4 decimals.

    1 for 73, 2 for 146, 8 for 584 (the chain validation's scales); 150 gives 2.0548.
    """
    if int(trainees) != trainees or trainees < 2:
        raise InputError(f"a number of trainees must be a whole number of at least 2, not {trainees!r}",
                         hint="e.g. --trainees 73,146,292,584")
    return round(int(trainees) / study_trainees(), 4)


def scale_text(scale: float) -> str:
    """A scale as the validation workflow names it in its paths (``scale2.0548``): ``f"{scale:g}"``."""
    return f"{float(scale):g}"


def parse_counts(text: str | Sequence[int], *, what: str, minimum: int = 1) -> list[int]:
    """``"73,146"`` (or a list) -> ``[73, 146]``; a clear error for anything else."""
    items = text.split(",") if isinstance(text, str) else list(text)
    out: list[int] = []
    for item in items:
        value = str(item).strip()
        if not value.isdigit() or int(value) < minimum:
            raise InputError(f"{what} {text!r} is not a list of whole numbers of at least {minimum}",
                             hint=f"e.g. --{what} " + ("73,146,292,584" if what == "trainees" else "200,40,40,40"))
        out.append(int(value))
    if not out:
        raise InputError(f"{what} is empty", hint=f"give at least one number, e.g. --{what} 73")
    return out


def power_table(summary: pd.DataFrame, *, scales: Sequence[float], method: str, outcome: str,
                survival_outcome: str) -> pd.DataFrame:
    """power.csv from the chain validation's summary (chain.csv's columns) of scenario ``effect``.

    One row per number of trainees and estimand: the primary effect (``did_pooled`` of
    ``outcome``) and the RMST difference of ``survival_outcome``, both of ``method``. ``power``
    is the share of replications whose 95% interval excludes 0, ``power_low``/``power_high`` its
    Clopper-Pearson limits; ``mean_truth`` the mean true effect of the replications.
    """
    wanted = {scale_text(s) for s in scales}
    data = summary[(summary["scenario"].astype(str) == "effect") & (summary["method"].astype(str) == method)].copy()
    data["_scale"] = [scale_text(s) for s in data["scale"]]
    rows = []
    for estimator, of in (("did_pooled", outcome), ("rmst_difference", survival_outcome)):
        part = data[(data["estimator"] == estimator) & (data["outcome"].astype(str) == of)
                    & data["_scale"].isin(wanted)]
        if part.empty:
            raise InputError(f"the chain validation's summary has no {estimator} rows of {of!r} ({method}) at the "
                             "requested scales",
                             hint="check effects.primary_outcome, primary_survival_outcome and primary_method")
        if part["term"].nunique() > 1:  # one pooled window and one horizon per outcome
            raise InputError(f"{estimator} of {of!r} has several terms {sorted(part['term'].unique())}",
                             hint="the power planner expects one pooled window and one RMST horizon")
        for r in part.itertuples(index=False):
            rows.append({"trainees": planned_trainees(r.scale), "scale": float(r.scale), "estimator": estimator,
                         "outcome": of, "term": r.term, "method": method, "replications": int(r.replications),
                         "failed": int(r.failed), "mean_truth": r.mean_truth, "empirical_se": r.empirical_se,
                         "mean_se": r.mean_se, "power": r.power, "power_low": r.power_low, "power_high": r.power_high})
    table = pd.DataFrame(rows, columns=list(POWER_COLUMNS))
    return table.sort_values(["estimator", "trainees"], kind="mergesort").reset_index(drop=True)


def trainees_for_power(table: pd.DataFrame, estimator: str, target: float = 0.8) -> float | None:
    """The smallest number of trainees whose measured power reaches ``target``, else None.

    A reading of the table, not an extrapolation: between the planned sizes it says nothing.
    """
    part = table[(table["estimator"] == estimator) & (pd.to_numeric(table["power"]) >= target)]
    return float(part["trainees"].min()) if len(part) else None


def power_lines(table: pd.DataFrame) -> list[str]:
    """The table as aligned text for the terminal."""
    head = f"{'estimand':<34} {'trainees':>8} {'repl.':>6} {'true effect':>12} {'power':>6}  95% MC interval"
    lines = [head, "-" * len(head)]
    for r in table.itertuples(index=False):
        name = f"{r.estimator} {r.outcome} ({r.method})"
        lines.append(f"{name:<34} {r.trainees:>8d} {r.replications:>6d} {r.mean_truth:>12.4f} {r.power:>6.2f}  "
                     f"[{r.power_low:.2f}, {r.power_high:.2f}]")
    return lines


ESTIMAND_LABELS = {"did_pooled": "Pooled DiD, {outcome} ({method})",
                   "rmst_difference": "RMST difference, {outcome} ({method})"}


def power_figure(table: pd.DataFrame, *, target: float = 0.8):
    """Power against the number of trainees, one line per estimand, with Clopper-Pearson bars."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from mentorwijs.figures import figure_style

    with figure_style():
        fig = Figure(figsize=(6.2, 3.6))
        ax = fig.add_subplot()
        for i, (estimator, part) in enumerate(table.groupby("estimator", sort=True)):
            part = part.sort_values("trainees")
            x = part["trainees"].to_numpy(float)
            y = part["power"].to_numpy(float)
            err = np.vstack([y - part["power_low"].to_numpy(float), part["power_high"].to_numpy(float) - y])
            label = ESTIMAND_LABELS.get(estimator, estimator).format(outcome=part["outcome"].iloc[0],
                                                                      method=part["method"].iloc[0])
            ax.errorbar(x * (1 + 0.015 * (2 * i - 1)), y, yerr=err, marker="o", ms=4, capsize=3, label=label,
                        color=("#1f4e79", "#c55a11")[i % 2])
        ax.axhline(target, color="#7f7f7f", linestyle="--", linewidth=1)
        ax.text(table["trainees"].min(), target + 0.02, f"power {target:.0%}",
                fontsize=7.5, color="#595959")
        ax.set_xscale("log", base=2)
        ticks = sorted(table["trainees"].unique())
        ax.set_xticks(ticks, [str(int(t)) for t in ticks])
        ax.minorticks_off()
        ax.set_ylim(0, 1)
        ax.set_xlabel("matched trainees (synthetic study at scale trainees / 73)")
        ax.set_ylabel("power (95% interval excludes 0)")
        n = ", ".join(f"{int(r)} at {int(t)}" for t, r in table.groupby("trainees")["replications"].min().items())
        ax.set_title("Power at the configured effect, by number of trainees", loc="left")
        ax.legend(loc="lower right")
        fig.text(0.01, 0.005, f"Replications (at trainees): {n}. Bars: Clopper-Pearson 95% intervals of the power.",
                 fontsize=6.5, color="#595959")
        fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def power_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """``effects.validate.power`` with its defaults (written only here), and the estimands' names
    from ``effects`` (required keys: no default)."""
    from mentorwijs.effects.settings import config_value

    effects = config.get("effects", {})
    planner = dict(effects.get("validate", {}).get("power", {}))
    return {
        "trainees": list(planner.get("trainees", [73, 146, 292, 584])),
        "replications": planner.get("replications", 40),
        "out": str(planner.get("out", "docs/validation/power.csv")),
        "figure": str(planner.get("figure", "docs/validation/power.png")),
        "target": float(planner.get("target", 0.8)),
        "method": str(config_value(config, "effects.primary_method")),
        "outcome": str(config_value(config, "effects.primary_outcome")),
        "survival_outcome": str(config_value(config, "effects.primary_survival_outcome")),
    }


def replication_counts(replications: Any, n_sizes: int) -> list[int]:
    """One replication count per size: one number for all, or one per size."""
    counts = parse_counts(replications if isinstance(replications, str) else
                          ([replications] if isinstance(replications, int) else list(replications)),
                          what="replications")
    if len(counts) == 1:
        counts = counts * n_sizes
    if len(counts) != n_sizes:
        raise InputError(f"{len(counts)} replication counts for {n_sizes} numbers of trainees",
                         hint="give one number for all, or one per number of trainees, e.g. "
                              "--replications 200,40,40,40")
    return counts


def read_power(path: str | Path) -> pd.DataFrame:
    """power.csv as written by :func:`power_table` (via the project's CSV writer)."""
    return pd.read_csv(path, dtype={"estimator": str, "outcome": str, "term": str, "method": str},
                       keep_default_na=False, na_values=[""])


__all__ = ["POWER_COLUMNS", "parse_counts", "planned_trainees", "power_figure", "power_lines", "power_settings",
           "power_table", "read_power", "replication_counts", "scale_for_trainees", "scale_text",
           "study_trainees", "trainees_for_power"]
