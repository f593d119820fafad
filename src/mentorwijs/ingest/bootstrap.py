"""Codebook drafts from what the survey tools export about their items.

- Castor: the Excel export's variable-list sheet (``Study variable list``, ``Survey variable
  list``, ...) with its ``Field options`` sheet, or a variable list exported as CSV (``;``) with
  an optional Field options CSV. Field types map to item types (radio, dropdown -> integer with
  labels and the option range; numeric -> number with Field min/max; checkbox -> checkbox with
  options; date, datetime; string, textarea -> free_text), a field without a variable name gets
  the ``<step>.<field>|<label>`` raw name Castor's export uses.
- Qualtrics: a CSV export; the metadata columns are left out, each question becomes an item
  with its question text as description and a type guessed from the answers.

A draft is a start: canonical names, scales, reverse items and identifier items must be
reviewed before use (the file says so at the top).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from mentorwijs.codebook import CASTOR_MISSING_CODES, parse_codebook
from mentorwijs.errors import InputError
from mentorwijs.ingest.readers import QUALTRICS_META, QUALTRICS_PERSONAL_META, read_qualtrics, read_workbook
from mentorwijs.ingest.text import decode_text, split_records
from mentorwijs.ingest.values import parse_number

CASTOR_TYPES = {
    "radio": "integer",
    "dropdown": "integer",
    "slider": "number",
    "numeric": "number",
    "year": "integer",
    "calculation": "number",
    "summary": "number",
    "checkbox": "checkbox",
    "date": "date",
    "datetime": "datetime",
    "time": "text",
    "string": "free_text",
    "textarea": "free_text",
}
CASTOR_SKIPPED = ("remark", "upload", "image", "add report button", "repeated measures", "randomization")
ID_COLUMNS = {"castor_study": "Participant Id", "castor_survey": "Castor Participant ID",
              "qualtrics": "ExternalReference"}


def canonical_name(raw: str) -> str:
    """A draft canonical name: lower case, runs of other characters as ``_``."""
    name = re.sub(r"[^0-9a-z]+", "_", raw.split("|", 1)[-1].lower()).strip("_")
    return name if name and not name[0].isdigit() else f"item_{name}"


def _header_index(header: list[str]) -> dict[str, int]:
    return {" ".join(str(h).split()).lower(): i for i, h in enumerate(header)}


def _rows_from_csv(path: Path) -> list[list[str]]:
    text, _, sep = decode_text(path, fmt="castor_study")
    rows, _ = split_records(text, sep, file=path)
    return rows


def castor_draft(path: str | Path, *, source: str, fmt: str, options_path: str | Path | None = None) -> dict[str, Any]:
    """A codebook draft from a Castor variable list (Excel export or CSV) and its Field options."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        sheets = read_workbook(path)
        lists = [name for name in sheets
                 if name.lower().endswith("variable list") and not name.lower().startswith("report")]
        if not lists:
            raise InputError(f"the workbook has no variable-list sheet (sheets: {', '.join(sheets)})", file=path,
                             hint="export from Castor with the variable list included, or give the "
                                  "variable list as CSV")
        variables = [row for name in lists for row in (sheets[name] if name == lists[0] else sheets[name][1:])]
        option_rows = next((rows for name, rows in sheets.items() if name.lower() == "field options"), [])
    else:
        variables = _rows_from_csv(path)
        option_rows = _rows_from_csv(Path(options_path)) if options_path else []
    if not variables:
        raise InputError("the variable list is empty", file=path, hint="export the variable list again")
    head = _header_index(variables[0])
    needed = ("field type", "variable name", "field label")
    absent = [n for n in needed if n not in head]
    if absent:
        raise InputError(f"this is not a Castor variable list: columns {absent} are missing", file=path, row=1,
                         hint="give the 'Study variable list' (or survey variable list) sheet or CSV")
    groups: dict[str, dict[Any, str]] = {}
    if option_rows:
        oh = _header_index(option_rows[0])
        for row in option_rows[1:]:
            try:
                group, label, value = row[oh["option group name"]], row[oh["option name"]], row[oh["option value"]]
            except (KeyError, IndexError):
                continue
            number = parse_number(value)
            code: Any = int(number) if number is not None and float(number).is_integer() else value
            groups.setdefault(group, {})[code] = label
    items, seen = [], set()
    for row in variables[1:]:
        cell = lambda key: (row[head[key]] if key in head and head[key] < len(row) else "") or ""  # noqa: E731
        kind = cell("field type").strip().lower()
        if kind in CASTOR_SKIPPED or kind not in CASTOR_TYPES:
            continue
        raw = cell("variable name").strip()
        if not raw:
            raw = f"{cell('step number').strip()}.{cell('field number').strip()}|{cell('field label').strip()}"
        name = canonical_name(raw)
        while name in seen:
            name += "_2"
        seen.add(name)
        item: dict[str, Any] = {"name": name, "raw": raw, "type": CASTOR_TYPES[kind]}
        options = groups.get(cell("optiongroup name").strip(), {})
        if kind == "checkbox":
            item["options"] = options
        elif options:
            item["labels"] = options
            codes = [c for c in options if isinstance(c, int)]
            if codes:
                item["range"] = [min(codes), max(codes)]
        else:
            low, high = parse_number(cell("field min")), parse_number(cell("field max"))
            if low is not None and high is not None and low <= high:
                item["range"] = [_plain(low), _plain(high)]
        label = cell("field label").strip()
        if label:
            item["description"] = label
        items.append(item)
    draft: dict[str, Any] = {
        "instrument": source,
        "format": fmt,
        "description": f"Draft from {path.name}",
        "id": {"column": ID_COLUMNS.get(fmt, "Participant Id"), "name": "supervisor", "pattern": "^[0-9]{6}$"},
    }
    if fmt == "castor_survey":
        draft["waves"] = {"default": {"package": "{wave}"}}
    draft["missing_codes"] = dict(CASTOR_MISSING_CODES)
    draft["items"] = items
    return draft


def _plain(number: float) -> int | float:
    return int(number) if float(number).is_integer() else number


def qualtrics_draft(path: str | Path, *, source: str) -> dict[str, Any]:
    """A codebook draft from a Qualtrics CSV export (question texts as descriptions, types guessed)."""
    path = Path(path)
    table = read_qualtrics(path)
    text, _, sep = decode_text(path, fmt="qualtrics")
    rows, _ = split_records(text, sep, file=path)
    questions = dict(zip(rows[0], rows[1])) if table.header_rows == 3 else {}
    skip = set(QUALTRICS_META) | set(QUALTRICS_PERSONAL_META) | {"ResponseSet", "RecipientName", "LocationAccuracy"}
    items, seen = [], set()
    for column in table.columns:
        if column in skip or column.startswith("(unnamed column"):
            continue
        values = [str(v).strip() for v in table.frame[column] if str(v).strip()]
        name = canonical_name(column)
        while name in seen:
            name += "_2"
        seen.add(name)
        item: dict[str, Any] = {"name": name, "raw": column}
        numbers = [parse_number(v) for v in values]
        if values and all(n is not None for n in numbers):
            whole = all(float(n).is_integer() for n in numbers)
            item["type"] = "integer" if whole else "number"
            item["range"] = [_plain(min(numbers)), _plain(max(numbers))]
        elif values and all(re.fullmatch(r"[0-9]+(,[0-9]+)+|[0-9]+", v) for v in values):
            codes = sorted({int(c) for v in values for c in v.split(",")})
            item["type"] = "multiselect"
            item["options"] = {c: f"option {c}" for c in codes}
        else:
            item["type"] = "free_text"
        if questions.get(column):
            item["description"] = questions[column]
        items.append(item)
    return {
        "instrument": source,
        "format": "qualtrics",
        "description": f"Draft from {path.name}",
        "id": {"column": "ExternalReference", "name": "person"},
        "missing_codes": {},
        "items": items,
    }


def draft_codebook(path: str | Path, *, source: str, fmt: str, options_path: str | Path | None = None) -> str:
    """The YAML text of a codebook draft (checked by the codebook parser before it is returned)."""
    if fmt in ("castor_study", "castor_survey"):
        draft = castor_draft(path, source=source, fmt=fmt, options_path=options_path)
    elif fmt == "qualtrics":
        draft = qualtrics_draft(path, source=source)
    else:
        raise InputError(f"drafts are made from Castor variable lists or Qualtrics exports, not {fmt!r}",
                         hint="use --format castor_study, castor_survey or qualtrics")
    parse_codebook(draft, f"draft of {Path(path).name}")
    head = (f"# DRAFT codebook written by `mentorwijs codebook` from {Path(path).name}.\n"
            "# Review before use: canonical names (docs/canonical-names.md), the id pattern, item types\n"
            "# (mark BSN, names, birth date, postal code and e-mail as 'identifier'), ranges, reverse items\n"
            "# and scales. The format is described in docs/codebooks.md.\n")
    return head + yaml.safe_dump(draft, sort_keys=False, allow_unicode=True, width=110)
