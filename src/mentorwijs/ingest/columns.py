"""Which raw column holds which codebook item, in one file and wave.

Header names match case-insensitively with Castor's old names mapped to the new ones; a
Castor field without a variable name (header ``4.4|Field label``) matches its field number or
its label; a Castor checkbox has one 0/1 column per option, ``raw#Option_label`` with the
label's spaces turned to ``_``, punctuation dropped and labels longer than 40 characters cut
to 40 with ``0`` appended. Every column the codebook declares for the wave is required.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from mentorwijs.codebook import Codebook, Item
from mentorwijs.errors import InputError
from mentorwijs.ingest.readers import RawTable, normalise_header

CASTOR_LABEL_LENGTH = 40


@dataclass(frozen=True)
class ItemColumns:
    """The raw column(s) of one item; for a checkbox one column per option code."""

    item: Item
    columns: tuple[str, ...]
    option_codes: tuple[Any, ...] = ()


def castor_option_label(label: str) -> str:
    """The column suffix Castor writes for a checkbox option label, before any cut: spaces to
    ``_``, punctuation dropped."""
    return "".join(ch for ch in str(label).replace(" ", "_") if ch.isalnum() or ch == "_")


def option_matches(suffix: str, label: str, code: object) -> bool:
    """Whether a checkbox column suffix names this option: the whole label, the option code, or
    a long label cut short with ``0`` appended (Castor cuts long labels; genuine exports cut
    them to 40 characters)."""
    full = castor_option_label(label).lower()
    suffix = suffix.lower()
    if suffix in (full, str(code).lower()):
        return True
    return (suffix.endswith("0") and len(suffix) > CASTOR_LABEL_LENGTH // 2 and full.startswith(suffix[:-1])
            and len(full) > len(suffix) - 1)


def _split_field(name: str) -> tuple[str, str] | None:
    if "|" in name:
        number, label = name.split("|", 1)
        if re.fullmatch(r"\s*[0-9]+(\.[0-9]+)*\s*", number):
            return number.strip(), label
    return None


def find_column(header: Sequence[str], raw: str) -> str | None:
    """The header name that holds raw item ``raw``, or None."""
    index = {normalise_header(h): h for h in header}
    key = normalise_header(raw)
    if key in index:
        return index[key]
    wanted = _split_field(raw)
    for name in header:
        field = _split_field(name)
        if field is None:
            continue
        number, label = field
        if wanted is not None and wanted[0] == number:
            return name
        if wanted is None and (key == number or key == normalise_header(label)):
            return name
    return None


def checkbox_columns(header: Sequence[str], item: Item, raw: str) -> tuple[list[tuple[Any, str]], list[str]]:
    """(option code, column) per option found, and the codes without a column."""
    prefix = normalise_header(raw) + "#"
    candidates = {normalise_header(h)[len(prefix):]: h for h in header if normalise_header(h).startswith(prefix)}
    found, absent = [], []
    for code, label in item.options.items():
        match = next((column for suffix, column in candidates.items() if option_matches(suffix, label, code)), None)
        if match is None:
            absent.append(f"{raw}#{castor_option_label(label)}")
        else:
            found.append((code, match))
    return found, absent


def required_meta(fmt: str) -> tuple[str, ...]:
    """Metadata columns the cleaning rules need, per format (normalised names)."""
    if fmt == "castor_survey":
        return ("survey package name", "survey progress", "survey completed on")
    if fmt == "castor_study":
        return ("site abbreviation",)
    if fmt == "qualtrics":
        return ("status", "finished")
    return ()


def resolve_columns(table: RawTable, codebook: Codebook, wave: str | None) -> dict[str, ItemColumns]:
    """Map every item of ``wave`` to its raw column(s); a missing declared column is an error."""
    header = table.columns
    missing: list[tuple[str, str]] = []
    if find_column(header, codebook.id_column) is None:
        missing.append((codebook.id_column, f"the id ({codebook.id_name})"))
    for meta in required_meta(table.format):
        if find_column(header, meta) is None:
            missing.append((meta.title(), f"{table.format} metadata"))
    resolved: dict[str, ItemColumns] = {}
    items = codebook.items_in_wave(wave) if wave is not None else list(codebook.items)
    for item in items:
        raw = item.raw_name(wave) if wave is not None else (item.raw if isinstance(item.raw, str) else None)
        if raw is None:
            continue
        if item.type == "checkbox":
            found, absent = checkbox_columns(header, item, raw)
            if absent and item.required:
                missing.extend((name, f"option of item {item.name}") for name in absent)
            resolved[item.name] = ItemColumns(item, tuple(c for _, c in found), tuple(code for code, _ in found))
            continue
        column = find_column(header, raw)
        if column is None:
            if item.required:
                missing.append((raw, f"item {item.name}"))
            continue
        resolved[item.name] = ItemColumns(item, (column,))
    if missing:
        first, what = missing[0]
        more = (f" (and {len(missing) - 1} more: {', '.join(m for m, _ in missing[1:6])}"
                f"{', ...' if len(missing) > 6 else ''})" if len(missing) > 1 else "")
        where = f" for wave {wave}" if wave is not None else ""
        raise InputError(
            f"the column {first!r} ({what}) that the codebook declares{where} is missing{more}",
            file=table.file, row=1 if table.header_rows else None, column=first,
            hint=f"export again including this column, or correct its raw name in {codebook.source or 'the codebook'} "
            "(a column that may be absent needs 'required: false')",
        )
    return resolved


def _metadata_keys(fmt: str) -> set[str]:
    """Normalised names of the export's own metadata columns (never declared in a codebook)."""
    from mentorwijs.ingest.readers import (CASTOR_STUDY_META, CASTOR_SURVEY_META, QUALTRICS_LEGACY_NAMES,
                                           QUALTRICS_META)

    if fmt in ("castor_study", "castor_survey"):
        return {normalise_header(n) for n in CASTOR_STUDY_META + CASTOR_SURVEY_META}
    if fmt == "qualtrics":
        names = QUALTRICS_META + tuple(QUALTRICS_LEGACY_NAMES) + tuple(QUALTRICS_LEGACY_NAMES.values())
        return {normalise_header(n) for n in names} | {"locationaccuracy", "recipientname", "responseset"}
    return set()


def undeclared_columns(table: RawTable, codebook: Codebook, wave: str | None,
                       resolved: dict[str, ItemColumns]) -> list[str]:
    """Warnings for columns of the file that no item of the wave reads: each names the column,
    says that it is not read and how to declare it. The export's metadata, the id and unnamed
    empty columns are not reported."""
    used = {c for cols in resolved.values() for c in cols.columns}
    used.add(find_column(table.columns, codebook.id_column))
    for meta in required_meta(table.format):
        used.add(find_column(table.columns, meta))
    metadata = _metadata_keys(table.format)
    other_waves: dict[str, list[str]] = {}
    if wave is not None:
        for item in codebook.items:
            if item.in_wave(wave):
                continue
            names = item.raw.items() if isinstance(item.raw, Mapping) else [(None, item.raw)]
            for _, raw in names:
                other_waves.setdefault(normalise_header(raw), []).append(item.name)
    book = codebook.source or "the codebook"
    in_wave = f" for wave {wave}" if wave is not None else ""
    notes = []
    for name in table.columns:
        key = normalise_header(name)
        if name in used or key in metadata or (table.format == "qualtrics" and key.startswith("q_")):
            continue
        if name.startswith("(unnamed column"):
            continue
        if key in other_waves:
            items = ", ".join(other_waves[key])
            notes.append(f"column {name!r} is declared in {book} (item {items}) but not{in_wave}: it is not read; "
                         f"to read it, add {wave} to the item's waves")
            continue
        how = (f"an item with 'raw: {name}' and 'waves: {wave}+' (or '[{wave}]')" if wave is not None
               else f"an item with 'raw: {name}'")
        notes.append(f"column {name!r} is not declared in {book}{in_wave}: it is not read; to read it, add {how} "
                     "to the codebook (docs/codebooks.md)")
    return notes


def optional_absent(table: RawTable, codebook: Codebook, wave: str | None,
                    resolved: dict[str, ItemColumns]) -> list[str]:
    """Warnings for optional items (``required: false``) whose column is absent: what will be missing."""
    notes = []
    items = codebook.items_in_wave(wave) if wave is not None else list(codebook.items)
    in_wave = f" in wave {wave}" if wave is not None else ""
    for item in items:
        if item.required:
            continue
        raw = item.raw_name(wave) if wave is not None else (item.raw if isinstance(item.raw, str) else None)
        if raw is None:
            continue
        cols = resolved.get(item.name)
        if cols is None or (item.type == "checkbox" and not cols.columns):
            notes.append(f"optional column {raw!r} (item {item.name}) is absent from the file: {item.name} will be "
                         f"missing for every record{in_wave}")
        elif item.type == "checkbox" and len(cols.columns) < len(item.options):
            notes.append(f"optional item {item.name}: {len(item.options) - len(cols.columns)} of its option columns "
                         f"are absent from the file: those options will be missing{in_wave}")
    return notes
