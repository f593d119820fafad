"""The disclosure policy: thresholds per data origin, the exemptions and the suppression marker
(config section ``disclosure``), what each rule means, and the dominance measure producers write."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

from mentorwijs.errors import ConfigError

#: The data origins a policy exists for.
ORIGINS = ("register", "questionnaire")

#: What each rule means; the export README lists these for the output checkers.
RULES = {
    "identifiers": "no person, address, employer, job or study ids: such columns or values refuse the table",
    "extremes": "no minima or maxima: such columns refuse the table",
    "microdata": "aggregates only: person-level columns, or more than one row per key, refuse the table",
    "min_units": "every count is 0 or at least min_units; every figure (share, mean, estimate) has at least "
    "min_units units behind it in each of its n columns",
    "implied_count": "the counts a share implies (units with the value and units without it) are each at least "
    "min_units; zero, where all units of a group share one value, is group disclosure and is suppressed too",
    "min_df": "a regression row has at least min_df residual degrees of freedom",
    "dominance": "no figure whose largest dominance.n units carry more than dominance.k of its total weight",
    "secondary": "complementary suppression: in every line whose cells add up to a known total (a margin, "
    "another table, n_total = n_treated + n_control, a share and its complement) at least two cells are "
    "suppressed, and for counts the suppressed cells sum to at least min_units",
    "km_at_risk": "a Kaplan-Meier curve is cut from the first time fewer than km_min_at_risk units are at risk",
    "km_events": "a Kaplan-Meier step is published only when at least km_min_events events occurred since the "
    "previous published step; n_event then counts those events, times in between are suppressed",
    "histogram_min_bin": "a histogram bin holds 0 or at least histogram_min_bin units; smaller bins are merged "
    "with their neighbours, a group below the threshold in total is suppressed",
    "exemption": "released by the publication itself: checked for ids, extremes and microdata only",
}


@dataclass(frozen=True)
class OriginPolicy:
    """The thresholds for tables of one data origin (all counts in units, i.e. persons in a cohort)."""

    min_units: int
    min_df: int
    km_min_at_risk: int
    km_min_events: int
    histogram_min_bin: int
    group_disclosure: bool
    dominance: tuple[int, float] | None  # (n, k): the n largest units may carry at most k of a total

    @classmethod
    def from_config(cls, section: Mapping[str, Any], *, where: str) -> OriginPolicy:
        """Build from plain config values; thresholds not given default to ``min_units``."""
        if not isinstance(section, Mapping):
            raise ConfigError(f"key {where}: must be a mapping", hint="see workflow/schemas/config.schema.json")
        known = {"min_units", "min_df", "km_min_at_risk", "km_min_events", "histogram_min_bin", "group_disclosure",
                 "dominance"}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ConfigError(f"key {where}.{unknown[0]}: unknown key", hint=f"known keys: {', '.join(sorted(known))}")
        if "min_units" not in section:
            raise ConfigError(f"key {where}.min_units is required",
                              hint="the smallest number of units behind a published cell")
        min_units = _config_int(section["min_units"], f"{where}.min_units")

        def threshold(key: str) -> int:
            return _config_int(section[key], f"{where}.{key}") if key in section else min_units

        group = section.get("group_disclosure", min_units > 0)
        if not isinstance(group, bool):
            raise ConfigError(f"key {where}.group_disclosure: must be true or false")
        dominance = section.get("dominance")
        if dominance is not None:
            if not isinstance(dominance, Mapping) or set(dominance) != {"n", "k"}:
                raise ConfigError(f"key {where}.dominance: must hold exactly n and k", hint="e.g. {n: 1, k: 0.5}")
            n = _config_int(dominance["n"], f"{where}.dominance.n")
            k = dominance["k"]
            if n < 1 or isinstance(k, bool) or not isinstance(k, (int, float)) or not 0 < k <= 1:
                raise ConfigError(f"key {where}.dominance: n must be at least 1 and k in (0, 1]")
            dominance = (n, float(k))
        return cls(
            min_units=min_units,
            min_df=threshold("min_df"),
            km_min_at_risk=threshold("km_min_at_risk"),
            km_min_events=threshold("km_min_events"),
            histogram_min_bin=threshold("histogram_min_bin"),
            group_disclosure=group,
            dominance=dominance,
        )


@dataclass(frozen=True)
class DisclosurePolicy:
    """A policy per data origin, the exemptions (table -> reason) and the marker of a suppressed cell."""

    register: OriginPolicy
    questionnaire: OriginPolicy
    exemptions: Mapping[str, str] = field(default_factory=dict)
    suppressed_marker: str = "<10"

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> DisclosurePolicy:
        """Build from the config section ``disclosure`` (plain values, as the workflow passes them)."""
        if not isinstance(section, Mapping):
            raise ConfigError("key disclosure: must be a mapping", hint="see workflow/schemas/config.schema.json")
        known = {"register", "questionnaire", "exemptions", "suppressed_marker"}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ConfigError(f"key disclosure.{unknown[0]}: unknown key",
                              hint=f"known keys: {', '.join(sorted(known))}")
        for key in ("register", "questionnaire", "suppressed_marker"):
            if key not in section:
                raise ConfigError(f"key disclosure.{key} is required", hint="see workflow/schemas/config.schema.json")
        marker = section["suppressed_marker"]
        if not isinstance(marker, str) or not marker.strip() or re.fullmatch(r"-?[0-9.,eE+]+", marker):
            raise ConfigError("key disclosure.suppressed_marker: must be a non-numeric text such as '<10'")
        exemptions: dict[str, str] = {}
        for i, item in enumerate(section.get("exemptions") or []):
            if not isinstance(item, Mapping) or set(item) != {"table", "reason"}:
                raise ConfigError(f"key disclosure.exemptions.{i}: must hold exactly table and reason")
            exemptions[str(item["table"])] = str(item["reason"])
        return cls(
            register=OriginPolicy.from_config(section["register"], where="disclosure.register"),
            questionnaire=OriginPolicy.from_config(section["questionnaire"], where="disclosure.questionnaire"),
            exemptions=exemptions,
            suppressed_marker=marker,
        )

    def for_origin(self, origin: str) -> OriginPolicy:
        if origin not in ORIGINS:
            raise ValueError(f"unknown data origin {origin!r}")
        return getattr(self, origin)


def _config_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"key {where}: must be a whole number of at least 0")
    return value


def dominance_share(contributions: Iterable[float], n: int = 1) -> float:
    """Share of a figure's total carried by its ``n`` largest contributions (absolute values).

    For a weighted share or mean the contributions are the units' weights: a share above the
    policy's ``dominance.k`` means a few units determine the figure. Producers of weighted tables
    compute it per figure with the policy's ``dominance.n`` and write it as ``dominance_share``.
    """
    values = np.sort(np.abs(np.asarray(list(contributions), dtype=float)))[::-1]
    total = values.sum()
    return float(values[:n].sum() / total) if total > 0 else 0.0
