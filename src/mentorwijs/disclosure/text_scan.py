"""Scanning text that leaves the environment: identifier-looking tokens (:func:`scan_for_identifiers`),
and numbers in the report's HTML and PDF text that give away a suppressed value
(:func:`hidden_cells`, :func:`scan_text_for_small_cells`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from mentorwijs.disclosure.render import is_missing, render_count, render_key, render_number
from mentorwijs.disclosure.specs import TableSpec, table_spec

#: Identifier-looking tokens in text (names as reported by :func:`scan_for_identifiers`).
IDENTIFIER_PATTERNS: dict[str, re.Pattern[str]] = {
    "pseudonym": re.compile(r"(?<![0-9A-Fa-f])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{32,64}(?![0-9A-Fa-f])"),
    "rin_or_bsn": re.compile(r"(?<![\w.,])[RSA]?[0-9]{9}(?![\w]|[.,][0-9])"),
    "employer_id": re.compile(r"(?<![\w])E[0-9]{9}(?![\w])"),
    "study_number": re.compile(r"(?<![\w])MW[0-9]{5}(?![\w])"),
    "castor_id": re.compile(r"(?<![\w.,])(?:0[0-9]{5}|TES[0-9]{3})(?![\w]|[.,][0-9])"),
    "email": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    "postcode": re.compile(r"(?<![\w])[1-9][0-9]{3} ?(?!SA|SD|SS)[A-Z]{2}(?![\w])"),
}


@dataclass(frozen=True)
class IdentifierFinding:
    """An identifier-looking token in text: what it looks like, the token and its position."""

    pattern: str
    token: str
    position: int


def scan_for_identifiers(text: str) -> list[IdentifierFinding]:
    """Identifier-looking tokens in text (pseudonyms, RIN/BSN numbers, employer ids, study
    numbers, Castor ids, e-mail addresses, postcodes), in order of position.

    Meant for the report's HTML and PDF text and for text cells of exported tables; a finding is
    a reason to look, not proof (a nine-digit number may be something else).
    """
    found = []
    for name, pattern in IDENTIFIER_PATTERNS.items():
        for match in pattern.finditer(text):
            found.append(IdentifierFinding(name, match.group(0), match.start()))
    return sorted(found, key=lambda f: (f.position, f.pattern))


@dataclass(frozen=True)
class HiddenCell:
    """A value present in a raw result table and not published (suppressed, merged or coarsened)."""

    table: str
    cell: str
    column: str
    value: float
    count: bool  # a count of units (matched as a whole number in count context)


def read_exported_table(path: str | Path) -> pd.DataFrame:
    """Read an exported table as text cells (markers and numbers exactly as written)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def hidden_cells(raw: pd.DataFrame, exported: pd.DataFrame, kind: str | TableSpec, *,
                 name: str | None = None) -> list[HiddenCell]:
    """The values of ``raw`` that ``exported`` (read back as text) does not show.

    Rows are matched on the key; a raw row without an exported row (a merged histogram bin) hides
    all its values, an exported cell whose text differs from the raw value's text hides it.
    """
    spec = table_spec(kind)
    name = name or spec.kind
    frame = raw.copy()
    frame.columns = [str(c) for c in frame.columns]
    keys = [k for k in spec.keys if k in frame.columns]
    counts = set(spec.count_columns())
    values = [c for c in list(counts) + list(spec.estimate_columns()) if c in frame.columns]
    shown = exported.fillna("").astype(str)
    index = {tuple(shown.at[i, k] if k in shown.columns else "" for k in keys): i for i in range(len(shown))}
    found = []
    for i in range(len(frame)):
        key = tuple(render_key(frame.at[i, k]) for k in keys)
        where = "; ".join(f"{k}={v}" for k, v in zip(keys, key))
        j = index.get(key)
        for col in sorted(values):
            value = frame.at[i, col]
            if is_missing(value):
                continue
            text = render_count(value) if col in counts else render_number(value)
            if j is None or col not in shown.columns or shown.at[j, col] != text:
                found.append(HiddenCell(name, where, col, float(value), col in counts))
    return found


@dataclass(frozen=True)
class TextFinding:
    """A number in text that equals a hidden value (and no published one) at the text's precision."""

    hidden: HiddenCell
    token: str
    position: int
    context: str


_NUMBER = re.compile(r"(?<![\w.,])-?[0-9]+(?:[.,][0-9]+)?(?:\s?%)?(?![0-9])")
_COUNT_CUES = (
    r"\bn\s*[=:]\s*{v}\b",
    r"\(\s*{v}\s*\)",
    r"(?<![\w.,]){v}\s*(?:/|of|van|out of|uit)\s*[0-9]",
    r"(?<![\w.,]){v}\s+(?:persons?|personen|people|mensen|units?|trainees?|werknemers?|employees?|deelnemers?|"
    r"participants?|controls?|controles?|events?|supervisors?|leidinggevenden)\b",
)


_TIME_WORD = re.compile(r"(?:month|maand|week|wave|T)(?:s|en)?\s*$", re.IGNORECASE)


def published_numbers(exported: Mapping[str, pd.DataFrame]) -> set[float]:
    """Every number the exported tables show (to compare text numbers against)."""
    numbers: set[float] = set()
    for table in exported.values():
        for value in table.astype(str).to_numpy().ravel():
            try:
                numbers.add(float(value))
            except ValueError:
                continue
    return numbers


def scan_text_for_small_cells(
    text: str,
    hidden: Iterable[HiddenCell],
    published: Iterable[float] = (),
    *,
    context: int = 40,
) -> list[TextFinding]:
    """Numbers in ``text`` that give away a hidden value.

    A hidden count is found as a whole number next to a count cue (``n = 6``, ``(6)``, ``6 of 73``,
    ``6 trainees``; not after "month" or "week": ``month 6 of 12``); any other hidden value as a number with at least
    two decimals (decimal point or comma; a percentage with at least one) that equals the hidden value rounded to the
    number's precision. A number that a published value explains at the same precision is not reported.
    """
    published = list(published)
    findings = []
    for cell in hidden:
        if cell.count and float(cell.value).is_integer():
            v = int(cell.value)
            if float(v) in published:
                continue
            for cue in _COUNT_CUES:
                for match in re.finditer(cue.format(v=v), text, flags=re.IGNORECASE):
                    if not _TIME_WORD.search(text[max(0, match.start() - 12) : match.start()]):
                        findings.append(_finding(cell, text, match, context))
            continue
        for match in _NUMBER.finditer(text):
            token = match.group(0)
            percent = token.endswith("%")
            digits = token.rstrip("%").strip().replace(",", ".")
            decimals = len(digits.split(".")[1]) if "." in digits else 0
            if decimals < (1 if percent else 2):
                continue
            number = float(digits)
            scale = 100.0 if percent else 1.0
            if round(cell.value * scale, decimals) != round(number, decimals):
                continue
            if any(round(p * scale, decimals) == round(number, decimals) for p in published):
                continue
            findings.append(_finding(cell, text, match, context))
    return sorted(findings, key=lambda f: (f.position, f.hidden.table, f.hidden.cell, f.hidden.column))


def _finding(cell: HiddenCell, text: str, match: re.Match[str], context: int) -> TextFinding:
    start, end = match.start(), match.end()
    return TextFinding(cell, match.group(0), start, text[max(0, start - context) : end + context])
