"""The settings of the rule ``effects``: one frozen object, read from the configuration once.

:class:`EffectSettings` holds every setting :func:`mentorwijs.effects.tables.effect_tables`
needs. :meth:`EffectSettings.from_config` reads them from a (validated) configuration:
:data:`CONFIG_KEYS` says which key each field comes from, and :data:`DEFAULTS` holds the one
default of each key the schema lets a configuration leave out. Keys the schema requires have no
default here (config.yaml states their values). :meth:`EffectSettings.as_params` gives the plain
values a Snakemake rule passes as ``params`` (lists, dicts, numbers, text: deterministic, so
Snakemake still sees a changed setting) and :meth:`EffectSettings.from_params` rebuilds the
object from them in the rule's script.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping

from mentorwijs.errors import ConfigError

#: Field -> the config key(s) it is read from (dotted paths). ``band_seed`` is the study seed
#: plus the band's seed offset.
CONFIG_KEYS: dict[str, tuple[str, ...]] = {
    "outcomes": ("effects.outcomes",),
    "primary_outcome": ("effects.primary_outcome",),
    "survival_outcomes": ("effects.survival_outcomes",),
    "primary_survival_outcome": ("effects.primary_survival_outcome",),
    "reference_month": ("anchors.reference_month",),
    "followup_months": ("anchors.followup_months",),
    "placebo_reference_month": ("anchors.placebo_reference_month",),
    "placebo_post_months": ("anchors.placebo_post_months",),
    "rmst_horizon": ("effects.rmst_horizon",),
    "level": ("effects.level",),
    "band_draws": ("effects.band.draws",),
    "band_seed": ("study.seed", "effects.band.seed_offset"),
    "ph_split_month": ("effects.ph_split_month",),
    "adjusted_covariates": ("effects.adjusted_covariates",),
    "primary_method": ("effects.primary_method",),
    "modifiers": ("effects.modifiers",),
    "min_subgroup_trainees": ("effects.min_subgroup_trainees",),
    "sensitivity": ("effects.sensitivity",),
    "dominance_units": ("disclosure.register.dominance.n",),
}

#: The default of each key the schema lets a configuration leave out within its section (the
#: only place it is written). Without a dominance rule the tables still carry the share of the
#: largest unit. A section itself (``effects``) is needed whole by the rules that read it.
DEFAULTS: dict[str, Any] = {
    "disclosure.register.dominance.n": 1,
}


def config_value(config: Mapping[str, Any], dotted: str) -> Any:
    """The value at ``dotted`` (``section.key...``); a missing (or null) section or key takes its
    :data:`DEFAULTS` entry, and is a :class:`ConfigError` where there is none."""
    node: Any = config
    keys = dotted.split(".")
    for depth, key in enumerate(keys):
        node = node.get(key) if isinstance(node, Mapping) else None
        if node is None:
            if dotted in DEFAULTS:
                return DEFAULTS[dotted]
            raise ConfigError(f"key {'.'.join(keys[:depth + 1])} is required",
                              hint="see workflow/schemas/config.schema.json")
    return node


@dataclass(frozen=True)
class EffectSettings:
    """Every setting of the effect tables (config sections ``effects``, ``anchors``, ``study.seed``
    and the register's dominance rule)."""

    outcomes: tuple[str, ...]
    primary_outcome: str
    survival_outcomes: tuple[str, ...]
    primary_survival_outcome: str
    reference_month: int
    followup_months: int
    placebo_reference_month: int
    placebo_post_months: tuple[int, ...]
    rmst_horizon: int  # months of the restricted mean survival time
    level: float  # of every interval and of the simultaneous band
    band_draws: int  # multiplier draws of the simultaneous band
    band_seed: int  # the same for every outcome
    ph_split_month: int
    adjusted_covariates: tuple[str, ...]  # empty: only the matched estimators
    primary_method: str  # matched or adjusted: the one the E-values and the report use
    modifiers: tuple[Mapping[str, Any], ...]
    min_subgroup_trainees: int
    sensitivity: tuple[str, ...]
    dominance_units: int  # the dominance rule's n: units whose share of the weight is reported

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EffectSettings:
        """Read every field from its key (:data:`CONFIG_KEYS`), defaults from :data:`DEFAULTS`."""
        values = {name: [config_value(config, key) for key in keys] for name, keys in CONFIG_KEYS.items()}
        seed, offset = values.pop("band_seed")
        plain = {name: value for name, (value,) in values.items()}
        return cls.from_params({**plain, "band_seed": int(seed) + int(offset)})

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> EffectSettings:
        """Rebuild from :meth:`as_params`' plain values (e.g. a Snakemake rule's ``params``)."""
        unknown = sorted(set(params) - set(CONFIG_KEYS))
        missing = [name for name in CONFIG_KEYS if name not in params]
        if unknown or missing:
            raise ConfigError(f"effect settings: unknown {unknown}, missing {missing}",
                              hint="build them with EffectSettings.from_config(config).as_params()")
        return cls(
            outcomes=tuple(params["outcomes"]),
            primary_outcome=params["primary_outcome"],
            survival_outcomes=tuple(params["survival_outcomes"]),
            primary_survival_outcome=params["primary_survival_outcome"],
            reference_month=int(params["reference_month"]),
            followup_months=int(params["followup_months"]),
            placebo_reference_month=int(params["placebo_reference_month"]),
            placebo_post_months=tuple(int(m) for m in params["placebo_post_months"]),
            rmst_horizon=int(params["rmst_horizon"]),
            level=float(params["level"]),
            band_draws=int(params["band_draws"]),
            band_seed=int(params["band_seed"]),
            ph_split_month=int(params["ph_split_month"]),
            adjusted_covariates=tuple(params["adjusted_covariates"]),
            primary_method=str(params["primary_method"]),
            modifiers=tuple(dict(m) for m in params["modifiers"]),
            min_subgroup_trainees=int(params["min_subgroup_trainees"]),
            sensitivity=tuple(params["sensitivity"]),
            dominance_units=int(params["dominance_units"]),
        )

    def as_params(self) -> dict[str, Any]:
        """Plain values by field name (tuples as lists, modifiers as dicts), in field order."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = ([dict(v) if isinstance(v, Mapping) else v for v in value] if isinstance(value, tuple)
                           else value)
        return out


__all__ = ["CONFIG_KEYS", "DEFAULTS", "EffectSettings", "config_value"]
