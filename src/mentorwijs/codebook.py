"""Questionnaire codebooks as data.

A codebook (YAML, under ``data/codebooks/``) says, per instrument and wave, which raw item
becomes which canonical name, its type and valid range, whether it is reverse-worded, which
scale it belongs to, how many answered items a scale score needs, and what the missing codes
mean. Code never names a raw item: readers, cleaning, scales and the synthetic study all go
through a :class:`Codebook`. The file format is documented in ``docs/codebooks.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from mentorwijs.config import read_yaml
from mentorwijs.errors import InputError

ITEM_TYPES = (
    "integer",  # whole numbers, usually a rating scale
    "number",  # decimal numbers
    "text",  # categorical text codes
    "free_text",  # open answers: personal data, dropped after ingest
    "date",  # a date (Castor dd-mm-yyyy, Qualtrics YYYY-MM-DD)
    "datetime",
    "checkbox",  # Castor checkbox: one 0/1 column per option, `raw#Option_label`
    "multiselect",  # Qualtrics multi-answer: option codes comma-joined in one cell
    "identifier",  # a direct identifier (BSN, name, birth date, postcode, e-mail)
    "reference",  # the id of another unit (e.g. the supervisor's Castor id)
)


#: Castor's user-missing codes, used when a Castor codebook declares none.
CASTOR_MISSING_CODES = {
    -95: "measurement failed",
    -96: "not applicable",
    -97: "not asked",
    -98: "asked but unknown",
    -99: "not done",
}

#: Pseudonym namespace per canonical id name (see mentorwijs.pseudonymise); other ids (a
#: training group code) are not personal and are kept as they are.
ID_NAMESPACES = {"supervisor": "supervisor", "person": "study"}


def _id_namespace(ident: Mapping[str, Any]) -> str | None:
    if "namespace" in ident:
        return None if ident["namespace"] in (None, False, "") else str(ident["namespace"])
    return ID_NAMESPACES.get(str(ident["name"]))


def _reference_namespace(name: str, kind: str, given: Any) -> str | None:
    """A reference's namespace: ``refers_to``, else the item name without ``_ref``."""
    if kind != "reference":
        return None
    if given:
        return ID_NAMESPACES.get(str(given), str(given))
    base = name[:-4] if name.endswith("_ref") else name
    return ID_NAMESPACES.get(base, base)


def wave_number(wave: str) -> int:
    """The number of a wave name ``T<k>``."""
    if not (isinstance(wave, str) and wave[:1] == "T" and wave[1:].isdigit()):
        raise ValueError(f"wave names are T0, T1, ...: got {wave!r}")
    return int(wave[1:])


@dataclass(frozen=True)
class Item:
    """One questionnaire item: a raw column in one or more waves, one canonical name.

    ``waves`` is ``"all"``, ``"T<k>+"`` (wave k and every later one, so a new wave needs no
    codebook change) or an explicit tuple of wave names. ``raw`` is the raw column name in
    every wave, or a mapping wave -> raw name where it differs between waves.
    """

    name: str
    raw: str | Mapping[str, str]
    waves: str | tuple[str, ...] = "all"
    type: str = "integer"
    range: tuple[float, float] | None = None
    scale: str | None = None
    reverse: bool = False
    labels: Mapping[Any, str] = field(default_factory=dict)
    options: Mapping[Any, str] = field(default_factory=dict)  # checkbox / multiselect options
    pattern: str | None = None  # regular expression a reference or identifier must match
    required: bool = True  # the column must exist in every wave file that declares it
    description: str = ""
    refers_to: str | None = None  # reference: pseudonym namespace of the unit it points to
    recode: Mapping[Any, Any] = field(default_factory=dict)  # text: raw value -> canonical value

    def in_wave(self, wave: str) -> bool:
        if isinstance(self.raw, Mapping):
            return wave in self.raw
        if self.waves == "all":
            return True
        if isinstance(self.waves, str) and self.waves.endswith("+"):
            return wave_number(wave) >= wave_number(self.waves[:-1])
        return wave in self.waves

    def raw_name(self, wave: str) -> str | None:
        """The raw column name of this item in ``wave``, or None if the wave does not have it."""
        if not self.in_wave(wave):
            return None
        return self.raw[wave] if isinstance(self.raw, Mapping) else self.raw


@dataclass(frozen=True)
class Scale:
    """A sum score's definition: its items come from the items' ``scale`` field."""

    name: str
    min_items: int
    description: str = ""


@dataclass(frozen=True)
class Codebook:
    """A parsed codebook. ``source`` is the path it was read from (for messages)."""

    instrument: str
    format: str
    id_column: str
    id_name: str
    id_pattern: str | None
    wave_settings: Mapping[str, Any]
    missing_codes: Mapping[int, str]
    items: tuple[Item, ...]
    scales: Mapping[str, Scale]
    source: str = ""
    description: str = ""
    id_namespace: str | None = None  # pseudonym namespace of the id (None: not pseudonymised)

    def items_in_wave(self, wave: str) -> list[Item]:
        return [item for item in self.items if item.in_wave(wave)]

    def scale_items(self, scale: str, wave: str) -> list[Item]:
        return [i for i in self.items if i.scale == scale and i.in_wave(wave)]

    def wave_setting(self, wave: str, key: str, default: Any = None) -> Any:
        """A per-wave setting (e.g. Castor's ``package`` name), ``{wave}`` filled in.

        Settings under ``waves.<wave>`` win over ``waves.default``.
        """
        specific = (self.wave_settings.get(wave) or {}).get(key)
        value = specific if specific is not None else (self.wave_settings.get("default") or {}).get(key, default)
        return value.format(wave=wave) if isinstance(value, str) else value

    def declares_wave(self, wave: str) -> bool:
        """True when at least one item is declared for ``wave`` (else the wave is unknown)."""
        return bool(self.items_in_wave(wave))

    def item(self, name: str) -> Item:
        for item in self.items:
            if item.name == name:
                return item
        raise KeyError(name)


def _fail(path: Path, problem: str, hint: str | None = None) -> InputError:
    return InputError(problem, file=path, hint=hint or "see docs/codebooks.md for the codebook format")


def parse_codebook(data: Mapping[str, Any], path: str | Path = "<codebook>") -> Codebook:
    """Check and parse a codebook mapping (as read from YAML)."""
    path = Path(path)
    if not isinstance(data, Mapping):
        raise _fail(path, "a codebook must be a mapping")
    for key in ("instrument", "format", "id", "items"):
        if key not in data:
            raise _fail(path, f"missing top-level key {key!r}")
    wave_settings = data.get("waves") or {}
    if not isinstance(wave_settings, Mapping):
        raise _fail(path, "'waves' must map 'default' or a wave name (T0, T1, ...) to its settings")
    for wave in wave_settings:
        if wave != "default":
            try:
                wave_number(str(wave))
            except ValueError as exc:
                raise _fail(path, f"'waves': {exc}") from None
    ident = data["id"]
    if not isinstance(ident, Mapping) or "column" not in ident or "name" not in ident:
        raise _fail(path, "'id' needs 'column' (raw) and 'name' (canonical)")
    items: list[Item] = []
    seen: set[str] = set()
    for position, entry in enumerate(data["items"], start=1):
        if not isinstance(entry, Mapping) or "name" not in entry or "raw" not in entry:
            raise _fail(path, f"item {position}: needs 'name' and 'raw'")
        name = str(entry["name"])
        if name in seen:
            raise _fail(path, f"item {name!r} is defined twice")
        seen.add(name)
        items.append(_parse_item(entry, name, path))
    scales = _parse_scales(data, items, path)
    if "missing_codes" in data:
        missing = {int(k): str(v) for k, v in (data.get("missing_codes") or {}).items()}
    else:
        missing = dict(CASTOR_MISSING_CODES) if str(data["format"]).startswith("castor") else {}
    return Codebook(
        instrument=str(data["instrument"]),
        format=str(data["format"]),
        id_column=str(ident["column"]),
        id_name=str(ident["name"]),
        id_pattern=ident.get("pattern"),
        wave_settings={str(w): dict(v or {}) for w, v in wave_settings.items()},
        missing_codes=missing,
        items=tuple(items),
        scales=scales,
        source=path.as_posix(),
        description=str(data.get("description", "")),
        id_namespace=_id_namespace(ident),
    )


def _parse_item(entry: Mapping[str, Any], name: str, path: Path) -> Item:
    """One entry of ``items``: its raw column(s) and waves, type, range and the rest as declared."""
    raw = entry["raw"]
    waves = entry.get("waves", "all")
    try:
        if isinstance(raw, Mapping):
            raw = {str(w): str(r) for w, r in raw.items()}
            for wave in raw:
                wave_number(wave)
            waves = tuple(raw)
        else:
            raw = str(raw)
            if isinstance(waves, (list, tuple)):
                waves = tuple(str(w) for w in waves)
                for wave in waves:
                    wave_number(wave)
            elif waves != "all":
                waves = str(waves)
                wave_number(waves[:-1] if waves.endswith("+") else "")
    except ValueError as exc:
        raise _fail(path, f"item {name!r}: {exc}", hint="give 'waves' as all, T1+ or a list of wave names") from None
    kind = str(entry.get("type", "integer"))
    if kind not in ITEM_TYPES:
        raise _fail(path, f"item {name!r}: unknown type {kind!r}", hint=f"use one of {', '.join(ITEM_TYPES)}")
    rng = entry.get("range")
    if rng is not None:
        if not (isinstance(rng, (list, tuple)) and len(rng) == 2 and rng[0] <= rng[1]):
            raise _fail(path, f"item {name!r}: 'range' must be [low, high]")
        rng = (rng[0], rng[1])
    return Item(
        name=name,
        raw=raw,
        waves=waves,
        type=kind,
        range=rng,
        scale=entry.get("scale"),
        reverse=bool(entry.get("reverse", False)),
        labels=dict(entry.get("labels", {}) or {}),
        options=dict(entry.get("options", {}) or {}),
        pattern=entry.get("pattern"),
        required=bool(entry.get("required", True)),
        description=str(entry.get("description", "")),
        refers_to=_reference_namespace(name, kind, entry.get("refers_to")),
        recode=dict(entry.get("recode", {}) or {}),
    )


def _parse_scales(data: Mapping[str, Any], items: Sequence[Item], path: Path) -> dict[str, Scale]:
    """The declared scales; each has items, and every item's scale is declared."""
    scales: dict[str, Scale] = {}
    for scale_name, spec in (data.get("scales") or {}).items():
        spec = spec or {}
        members = [i for i in items if i.scale == scale_name]
        if not members:
            raise _fail(path, f"scale {scale_name!r} has no items")
        min_items = int(spec.get("min_items", len(members)))
        scales[str(scale_name)] = Scale(str(scale_name), min_items, str(spec.get("description", "")))
    undeclared = sorted({i.scale for i in items if i.scale} - set(scales))
    if undeclared:
        raise _fail(path, f"items refer to undeclared scales {undeclared}")
    return scales


def load_codebook(path: str | Path) -> Codebook:
    """Read and check a codebook file."""
    return parse_codebook(read_yaml(path), path)
