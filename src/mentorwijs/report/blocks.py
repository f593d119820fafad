"""The settings a document shows and its blocks: numbered tables and figures, paragraphs, cells."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from mentorwijs.figures import FigureRecord
from mentorwijs.formatting import MISSING
from mentorwijs.messages import Messages

FORMATS = ("html", "pdf")


@dataclass(frozen=True)
class ReportSettings:
    """Plain values from the configuration that the documents show (never the whole config).

    ``anchors``: the ``anchors`` section; ``region_pairs``: ``regions.pairs``;
    ``analysis_settings``: further analysis sections (shown in the methods as they are);
    ``full_report``: where the full report is (a URL or a text; None: next to the factsheet);
    ``contact``: who to ask (None: no contact line);
    ``power``: the rows of the power planner's table (docs/validation/power.csv), from which the
    limitations state the power a study of this size had to detect the synthetic study's effect.
    """

    language: str = "nl"
    title: str | None = None
    synthetic: bool = False
    study_name: str = "Mentorwijs"
    seed: int | None = None
    anchors: Mapping[str, Any] = field(default_factory=dict)
    region_pairs: Mapping[str, Sequence[str]] = field(default_factory=dict)
    analysis_settings: Mapping[str, Any] = field(default_factory=dict)
    full_report: str | None = None
    contact: str | None = None
    alpha: float = 0.05
    power: Sequence[Mapping[str, Any]] = ()


# ---------------------------------------------------------------------------------------------
# blocks of a document


class Numbering:
    """Consecutive numbers of tables and figures in the order they are placed."""

    def __init__(self) -> None:
        self.tables = 0
        self.figures = 0

    def table(self) -> int:
        self.tables += 1
        return self.tables

    def figure(self) -> int:
        self.figures += 1
        return self.figures


def _table(numbering: Numbering, m: Messages, caption: str, header: list[str], rows: list[list[str]], align: str,
           notes: Iterable[str] = (), anchor: str = "") -> dict[str, Any]:
    number = numbering.table()
    notes = list(notes)
    flat = [_cell_text(c) for r in rows if not isinstance(r, Mapping) for c in r]
    if any(c == "<10" or "<10" in c.split() for c in flat):
        notes.append(m.t("document.suppressed_note"))
    return {"kind": "table", "id": anchor or f"table-{number}", "number": number, "caption": caption, "header": header,
            "rows": rows, "align": list(align), "notes": notes}


def group_row(text: str) -> dict[str, str]:
    """A row of a table that heads the rows under it (drawn across all columns): what they share,
    written once instead of in every row."""
    return {"group": text}


def code(text: Any) -> dict[str, str]:
    """A table cell holding a name a reader types or looks up as it is (a file, a setting of the
    configuration): shown in monospace, never translated."""
    return {"code": "" if text is None else str(text)}


def _cell_text(cell: Any) -> str:
    return cell["code"] if isinstance(cell, Mapping) else str(cell)


def _figure(numbering: Numbering, figures: Mapping[str, FigureRecord], name: str) -> dict[str, Any] | None:
    record = figures.get(name)
    if record is None:
        return None
    number = numbering.figure()
    return {"kind": "figure", "id": f"figure-{name}", "name": name, "number": number, "title": record.title,
            "caption": record.caption, "alt": record.alt}


def _p(text: str) -> dict[str, Any]:
    return {"kind": "p", "text": text}


def _cell(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    return text if text else MISSING


def _converged(m: Messages, value: Any) -> str:
    text = str(value).strip()
    return m.t("columns.yes") if text == "1" else m.t("columns.no") if text == "0" else MISSING
