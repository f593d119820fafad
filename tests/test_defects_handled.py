"""Every defect the synthetic study plants in its raw files is found and handled by the pipeline.

One run of the default synthetic study (the shipped config, scale 1): the questionnaire part
(`run_questionnaires`) and the register part (`run_register`, effects and export included) in
a temporary repository. `truth.json["defects"]` lists every planted defect (`file, kind, row,
column, record, detail, value`); each kind has a check below that reads what the pipeline wrote
(exclusions, missing reasons, warnings, interim and processed tables) and compares it with the
raw file or with a hand computation from its rows; of the library only the codebooks (the names
of items) and the pseudonym function (the keys) are used.
A planted kind without a check fails `test_every_planted_kind_has_a_check`, so a new kind of
defect in the generator needs a new check here.

The last test reads every identifier of the raw files (BSN, names, e-mail addresses,
postcodes, birth dates, IP addresses, study numbers and Castor ids, free text) and looks for
each in every file under data/interim, data/processed, export and reports.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from mentorwijs.codebook import Codebook, Item, load_codebook
from mentorwijs.pseudonymise import DEMO_KEY, pseudonym
from support.synthetic_study import config_of, truth_of

OUTPUT_FOLDERS = ("data/interim", "data/processed", "export", "reports")
CASTOR_MISSING = re.compile(r"^##USER_MISSING_(\d+)##$")
CASTOR_MISSING_DATE = re.compile(r"^01-01-29(\d\d)$")


# --- the run and what it wrote --------------------------------------------------------------
@dataclass
class Run:
    root: Path
    config: dict[str, Any]
    truth: dict[str, Any]
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def raw(self) -> Path:
        return self.root / self.config["synthetic"]["out"]

    def source_wave(self, file: str) -> tuple[str, str | None]:
        """The config source (and wave) reading the raw file `file` (relative to the synthetic folder)."""
        path = f"{self.config['synthetic']['out']}/{file}"
        for source, spec in self.config["sources"].items():
            if spec.get("file") == path:
                return source, None
            for wave, wave_path in (spec.get("waves") or {}).items():
                if wave_path == path:
                    return source, wave
        raise AssertionError(f"no source of config.yaml reads {path}")

    def cached(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def codebook(self, source: str) -> Codebook:
        return self.cached(f"codebook:{source}",
                           lambda: load_codebook(self.root / self.config["sources"][source]["codebook"]))

    def item(self, source: str, wave: str, raw_column: str) -> Item:
        found = [i for i in self.codebook(source).items_in_wave(wave) if i.raw_name(wave) == raw_column]
        assert len(found) == 1, f"{source} {wave}: no codebook item reads column {raw_column!r}"
        return found[0]

    def pseudonym(self, source: str, raw_id: str) -> str:
        return pseudonym(raw_id, DEMO_KEY, self.codebook(source).id_namespace)

    def exclusions(self, source: str, wave: str | None) -> pd.DataFrame:
        stage = f"ingest_{source}" + (f"_{wave}" if wave else "")

        def read() -> pd.DataFrame:
            table = pd.read_csv(self.root / f"data/interim/exclusions/{stage}.csv", dtype=str, keep_default_na=False)
            parts = table["record"].str.split(":", n=1, expand=True)
            return table.assign(row=parts[0].astype(int), pseudonym=parts[1])
        return self.cached(f"exclusions:{stage}", read)

    def missing(self, source: str) -> pd.DataFrame:
        return self.cached(f"missing:{source}",
                           lambda: pd.read_parquet(self.root / f"data/interim/missing/{source}.parquet"))

    def interim(self, source: str) -> pd.DataFrame:
        return self.cached(f"interim:{source}", lambda: pd.read_parquet(self.root / f"data/interim/{source}.parquet"))

    def interim_row(self, source: str, wave: str, raw_id: str) -> pd.Series:
        table = self.interim(source)
        id_name = self.codebook(source).id_name
        rows = table[(table[id_name] == self.pseudonym(source, raw_id)) & (table["wave"] == wave)]
        assert len(rows) == 1, f"{source} {wave}: {len(rows)} interim rows of {raw_id}"
        return rows.iloc[0]

    def processed(self, name: str) -> pd.DataFrame:
        return self.cached(f"processed:{name}", lambda: pd.read_parquet(self.root / f"data/processed/{name}.parquet"))

    def register(self, name: str) -> pd.DataFrame:
        return self.cached(f"register:{name}",
                           lambda: pd.read_parquet(self.root / f"data/interim/register/{name}.parquet"))

    def register_exclusions(self, stage: str) -> dict[str, int]:
        table = pd.read_csv(self.root / f"data/interim/exclusions/{stage}.csv")
        return dict(zip(table["reason"], table["n"].astype(int)))

    @cached_property
    def window(self) -> tuple[int, int]:
        return (month_code(self.config["register"]["window"]["first"]),
                month_code(self.config["register"]["window"]["last"]))


@pytest.fixture(scope="module")
def run(synthetic_run) -> Run:
    """The default synthetic study as the whole workflow wrote it (the session's one run)."""
    return Run(synthetic_run, config_of(synthetic_run), truth_of(synthetic_run))


# --- reading the raw files as a user would ----------------------------------------------------
def read_raw_rows(path: Path, fmt: str) -> tuple[list[str], dict[int, dict[str, str]]]:
    """Header and data rows of a raw questionnaire file, each row by its 1-based line (sheet row) number."""
    if fmt == "castor_study":
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True)
        rows = [["" if v is None else str(v) for v in row] for row in book["Study results"].iter_rows(values_only=True)]
        book.close()
        header, first = rows[0], 2
        body = rows[1:]
    else:
        encoding, delimiter = {"castor_survey": ("utf-8-sig", ";"), "qualtrics": ("utf-8-sig", ","),
                               "dutch_csv": ("cp1252", ";")}[fmt]
        text = path.read_text(encoding=encoding)
        rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
        assert len(rows) == len(text.splitlines()), f"{path.name}: a record spans lines, line numbers would shift"
        skip = 3 if fmt == "qualtrics" else 1
        header, first = rows[0], skip + 1
        body = rows[skip:]
    return header, {first + i: dict(zip(header, row)) for i, row in enumerate(body)}


def raw_rows(run: Run, file: str) -> tuple[list[str], dict[int, dict[str, str]]]:
    source, _ = run.source_wave(file)
    return run.cached(f"raw:{file}", lambda: read_raw_rows(run.raw / file, run.config["sources"][source]["format"]))


def month_code(text: str) -> int:
    """`YYYY-MM` or `YYYYMMDD` as year * 12 + month - 1 (the register part's integer months)."""
    digits = text.replace("-", "")
    return int(digits[:4]) * 12 + int(digits[4:6]) - 1


# --- the checks, one per planted kind --------------------------------------------------------
CHECKS: dict[str, Callable[[Run, list[dict]], None]] = {}


def check(*kinds: str):
    def register(function):
        for kind in kinds:
            CHECKS[kind] = function
        return function
    return register


def _excluded(run: Run, d: dict) -> pd.Series:
    """The one exclusion row of the planted row `d`; its pseudonym is the raw id's (empty without an id)."""
    source, wave = run.source_wave(d["file"])
    table = run.exclusions(source, wave)
    hits = table[table["row"] == d["row"]]
    assert len(hits) == 1, f"{d['file']} row {d['row']} ({d['kind']}): {len(hits)} exclusion rows"
    hit = hits.iloc[0]
    expected = run.pseudonym(source, d["record"]) if d["record"] else ""
    assert hit["pseudonym"] == expected, f"{d['file']} row {d['row']}: excluded under another record"
    assert hit["n"] == "1"
    return hit


def _absent_from_wave(run: Run, d: dict) -> None:
    source, wave = run.source_wave(d["file"])
    table = run.interim(source)
    id_name = run.codebook(source).id_name
    assert not ((table[id_name] == run.pseudonym(source, d["record"])) & (table["wave"] == wave)).any(), \
        f"{d['file']} row {d['row']}: {d['record']} never completed the wave yet has an interim row"


@check("test_participant")
def castor_test_participants(run: Run, defects: list[dict]) -> None:
    sites = run.config["ingest"]["test_sites"]
    for d in defects:
        site = next(s for s in sites if d["value"].startswith(s))
        assert _excluded(run, d)["reason"] == f"test participant (site {site})"
        _absent_from_wave(run, d)


@check("not_started", "partial")
def incomplete_surveys(run: Run, defects: list[dict]) -> None:
    for d in defects:
        assert int(d["value"]) < run.config["ingest"]["complete_progress"]
        assert _excluded(run, d)["reason"] == f"incomplete (progress {int(d['value'])}%)"
        _absent_from_wave(run, d)


@check("status_preview", "status_test", "status_spam")
def qualtrics_status(run: Run, defects: list[dict]) -> None:
    for d in defects:
        assert int(d["value"]) not in run.config["ingest"]["qualtrics_keep_status"]
        assert re.fullmatch(rf"Qualtrics status {d['value']} \(.+\) not kept", _excluded(run, d)["reason"])


@check("unfinished")
def unfinished_responses(run: Run, defects: list[dict]) -> None:
    for d in defects:
        assert _excluded(run, d)["reason"] == "not finished"


@check("duplicate_superseded")
def superseded_duplicates(run: Run, defects: list[dict]) -> None:
    for d in defects:
        source, wave = run.source_wave(d["file"])
        match = re.fullmatch(r"duplicate submission with conflicting answers: row (\d+) kept \(latest complete\)",
                             _excluded(run, d)["reason"])
        assert match, d
        kept = int(match.group(1))
        header, rows = raw_rows(run, d["file"])
        id_column = run.codebook(source).id_column
        same = [n for n, row in rows.items() if row[id_column] == d["record"]]
        assert kept in same and kept > d["row"] and d["row"] in same, (d, same)
        run.interim_row(source, wave, d["record"])  # exactly one row of the respondent is kept


def _missing_code(d: dict) -> int:
    """The user-missing code written in the raw cell, in any of Castor's three forms."""
    value = d["value"]
    if match := CASTOR_MISSING.match(value):
        code = -int(match.group(1))
    elif match := CASTOR_MISSING_DATE.match(value):
        code = -int(match.group(1))
    else:
        code = int(value)
    assert f"code {code}" in d["detail"], d
    return code


@check("user_missing_numeric", "user_missing_text", "user_missing_date")
def user_missing_codes(run: Run, defects: list[dict]) -> None:
    for d in defects:
        source, wave = run.source_wave(d["file"])
        item = run.item(source, wave, d["column"])
        code = _missing_code(d)
        missing = run.missing(source)
        if item.type == "free_text":  # the open answer is dropped with its item, code and all
            assert item.name not in run.interim(source).columns
            assert not (missing["item"] == item.name).any()
            continue
        rows = missing[(missing["wave"] == wave) & (missing["item"] == item.name)
                       & (missing["record"] == run.pseudonym(source, d["record"]))]
        assert len(rows) == 1, d
        assert rows["code"].iloc[0] == code
        assert rows["reason"].iloc[0] == run.codebook(source).missing_codes[code]
        assert pd.isna(run.interim_row(source, wave, d["record"])[item.name])


@check("out_of_range")
def out_of_range_answers(run: Run, defects: list[dict]) -> None:
    for d in defects:
        source, wave = run.source_wave(d["file"])
        item = run.item(source, wave, d["column"])
        low, high = item.range
        assert not low <= float(d["value"]) <= high
        missing = run.missing(source)
        rows = missing[(missing["wave"] == wave) & (missing["item"] == item.name)
                       & (missing["record"] == run.pseudonym(source, d["record"]))]
        assert rows[["reason"]].to_dict("records") == [{"reason": "out of range"}] and rows["code"].isna().all()
        assert pd.isna(run.interim_row(source, wave, d["record"])[item.name])


@check("too_few_items")
def scales_with_too_few_items(run: Run, defects: list[dict]) -> None:
    for d in defects:
        source, wave = run.source_wave(d["file"])
        book = run.codebook(source)
        scale = run.item(source, wave, d["column"]).scale
        row = run.interim_row(source, wave, d["record"])
        items = [i.name for i in book.scale_items(scale, wave)]
        answered = int(row[items].notna().sum())
        assert answered < book.scales[scale].min_items and pd.isna(row[scale]), d
        missing = run.missing(source)
        reasons = missing[(missing["wave"] == wave) & (missing["record"] == row[book.id_name])
                          & missing["item"].isin(items)]
        assert sorted(reasons["reason"]) == ["no answer"] * (len(items) - answered)


@check("semicolon_replaced")
def semicolons_in_free_text(run: Run, defects: list[dict]) -> None:
    for d in defects:
        source, wave = run.source_wave(d["file"])
        header, rows = raw_rows(run, d["file"])
        line = (run.raw / d["file"]).read_text(encoding="utf-8-sig").splitlines()[d["row"] - 1]
        assert line.count(";") == len(header) - 1  # the row has exactly the header's fields
        assert rows[d["row"]][d["column"]] == d["value"]
        assert d["row"] not in set(run.exclusions(source, wave)["row"])
        run.interim_row(source, wave, d["record"])  # parsed and kept
        item = run.item(source, wave, d["column"])
        assert item.type == "free_text" and item.name not in run.interim(source).columns


def _option_code(item: Item, header_label: str) -> Any:
    """The checkbox option whose label, as Castor writes it in a header, starts the (cut) header label."""
    def written(label: str) -> str:
        return re.sub(r"[^\w]", "", label.replace(" ", "_"))

    stem = header_label[:-1] if header_label.endswith("0") else header_label
    codes = [code for code, label in item.options.items() if written(label).startswith(stem)]
    assert len(codes) == 1, (header_label, codes)
    return codes[0]


def _kept_raw_values(run: Run, d: dict, column: str) -> list[tuple[str, str]]:
    """(raw id, raw value) of every kept row of the file in `column`."""
    source, wave = run.source_wave(d["file"])
    header, rows = raw_rows(run, d["file"])
    excluded = set(run.exclusions(source, wave)["row"])
    id_column = run.codebook(source).id_column
    return [(row[id_column], row[column]) for n, row in rows.items() if n not in excluded]


@check("checkbox_truncated_header")
def truncated_checkbox_headers(run: Run, defects: list[dict]) -> None:
    for d in defects:
        source, wave = run.source_wave(d["file"])
        raw_item, label = d["value"].split("#", 1)
        assert len(label) == 41 and label.endswith("0")  # cut to 40 characters, '0' appended
        item = next(i for i in run.codebook(source).items_in_wave(wave) if i.raw_name(wave) == raw_item)
        column = f"{item.name}_{_option_code(item, label)}"
        compared = ones = 0
        for raw_id, value in _kept_raw_values(run, d, d["value"]):
            interim = run.interim_row(source, wave, raw_id)[column]
            if value == "":
                assert pd.isna(interim)
                continue
            assert interim == int(value), (raw_id, value, interim)
            compared, ones = compared + 1, ones + int(value)
        assert compared > 100 and ones > 10, (compared, ones)


@check("unnamed_field_header")
def unnamed_field_headers(run: Run, defects: list[dict]) -> None:
    for d in defects:
        source, wave = run.source_wave(d["file"])
        item = run.item(source, wave, d["column"])
        compared = 0
        for raw_id, value in _kept_raw_values(run, d, d["column"]):
            interim = run.interim_row(source, wave, raw_id)[item.name]
            if value.lstrip("-").isdigit() and item.range[0] <= int(value) <= item.range[1]:
                assert interim == int(value), (raw_id, value, interim)
                compared += 1
            else:
                assert pd.isna(interim)
        assert compared > 100


@check("empty_trailing_column")
def empty_trailing_columns(run: Run, defects: list[dict]) -> None:
    for d in defects:
        source, wave = run.source_wave(d["file"])
        header, rows = raw_rows(run, d["file"])
        assert header[-1] == "" and all(row[""] == "" for row in rows.values())
        book = run.codebook(source)
        expected = {book.id_name, "wave"}
        for item in book.items_in_wave(wave):
            if item.type in ("checkbox", "multiselect"):
                expected |= {f"{item.name}_{code}" for code in item.options}
            elif item.type not in ("free_text", "identifier"):
                expected.add(item.name)
        assert set(run.interim(source).columns) == expected


@check("id_leading_zero_stripped")
def stripped_leading_zeros(run: Run, defects: list[dict]) -> None:
    for d in defects:
        source, wave = run.source_wave(d["file"])
        item = run.item(source, wave, d["column"])
        width = int(re.fullmatch(r"\^\[0-9\]\{(\d+)\}\$", item.pattern).group(1))
        repaired = d["value"].zfill(width)
        assert repaired != d["value"]
        quality = pd.read_csv(run.root / f"data/interim/data_quality/ingest_{source}_{wave}.csv", dtype=str)
        warning = quality[(quality["column"] == item.name) & (quality["row"] == str(d["row"]))]
        assert len(warning) == 1 and "leading zeros" in warning["check"].iloc[0], quality
        supervisor = pseudonym(repaired, DEMO_KEY, item.refers_to or "supervisor")
        assert run.interim_row(source, wave, d["record"])[item.name] == supervisor
        # the employee still reaches the CBS hand-over with the right supervisor and training group
        header, invited = read_raw_rows(run.raw / "study/uitnodigingen.csv", "dutch_csv")
        group = next(row["groep"] for row in invited.values() if row["castor_nummer"] == repaired)
        trainees = run.processed("trainees").set_index("person")
        person = run.pseudonym(source, d["record"])
        assert (trainees.loc[person, "supervisor"], trainees.loc[person, "training_group"]) == (supervisor, group)


# register defects ---------------------------------------------------------------------------
def _rin(record: str) -> tuple[str, str]:
    """('R', '012345678') from a defect's record 'R 012345678' or 'R 012345678 IKVID 123'."""
    kind, number = record.split()[:2]
    return kind, number


def _persons(run: Run) -> pd.DataFrame:
    return run.cached("persons_by_rin", lambda: run.register("persons").set_index("rin"))


def raw_payroll(run: Run, kind: str, number: str) -> pd.DataFrame:
    """The raw payroll rows (text) of one person (`RINPERSOONS`, `RINPERSOON`); the files are read once."""
    def read() -> tuple[pd.DataFrame, dict]:
        frames = []
        for path in run.config["register"]["files"]["payroll"]:
            table = pacsv.read_csv(run.root / path, convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in PAYROLL_TEXT}))
            frames.append(table.to_pandas())
        payroll = pd.concat(frames, ignore_index=True)
        return payroll, payroll.groupby(["RINPERSOONS", "RINPERSOON"]).indices

    payroll, rows_of = run.cached("payroll", read)
    return payroll.iloc[rows_of.get((kind, number), [])]


PAYROLL_TEXT = ["RINPERSOONS", "RINPERSOON", "IKVID", "SBEID", "SDATUMAANVANGIKO", "SDATUMEINDEIKO",
                "SDATUMAANVANGIKVORG", "SBASISUREN", "SCONTRACTSOORT", "STIJDVAKTYPE"]


def monthly_hours_by_hand(rows: pd.DataFrame, window: tuple[int, int], *, net: bool = True) -> dict[int, float]:
    """Paid hours per calendar month from raw payroll rows: the rows of a job and pay period summed
    (`net=False`: corrections ignored, only positive rows), periods left at or below zero dropped,
    each period spread over its months by the days it covers, months outside the window left out."""
    rows = rows.assign(hours=rows["SBASISUREN"].astype(float))
    if not net:
        rows = rows[rows["hours"] > 0]
    periods = rows.groupby(["IKVID", "SBEID", "SDATUMAANVANGIKO", "SDATUMEINDEIKO"])["hours"].sum()
    months: dict[int, float] = defaultdict(float)
    for (job, employer, start, end), hours in periods.items():
        if hours <= 0:
            continue
        first = dt.date(int(start[:4]), int(start[4:6]), int(start[6:]))
        last = dt.date(int(end[:4]), int(end[4:6]), int(end[6:]))
        days = (last - first).days + 1
        day = first
        while day <= last:
            month = day.year * 12 + day.month - 1
            if window[0] <= month <= window[1]:
                months[month] += hours / days
            day += dt.timedelta(days=1)
    return dict(months)


def _check_hours_by_hand(run: Run, rins: list[str]) -> int:
    """Person-month hours of these R persons equal the hand computation; returns the months compared."""
    persons = _persons(run)
    person_months = run.register("person_months")
    compared = 0
    for rin in rins:
        rows = raw_payroll(run, "R", rin)
        expected = monthly_hours_by_hand(rows, run.window)
        pid = persons.loc["R" + rin, "pid"]
        got = person_months[person_months["pid"] == pid].set_index("month")["hours"]
        got = got[got > 0]
        expected = {m: h for m, h in expected.items() if h > 0}
        assert sorted(got.index) == sorted(expected), rin
        assert np.allclose(got.loc[sorted(expected)].to_numpy(), [expected[m] for m in sorted(expected)],
                           atol=0.006), rin
        compared += len(expected)
    return compared


@check("non_r_person")
def persons_outside_the_population_register(run: Run, defects: list[dict]) -> None:
    statements = sum(int(d["detail"].split()[0]) for d in defects)
    assert run.register_exclusions("register_payroll")["RINPERSOONS other than R"] == statements
    persons = _persons(run)
    for d in defects:
        kind, number = _rin(d["record"])
        assert kind != "R" and kind + number not in persons.index


@check("correction")
def netted_corrections(run: Run, defects: list[dict]) -> None:
    persons = _persons(run)
    rins = sorted({_rin(d["record"])[1] for d in defects if _rin(d["record"])[0] == "R"
                   and "R" + _rin(d["record"])[1] in persons.index})
    sample = rins[:: max(1, len(rins) // 25)]  # 25 persons spread over the list
    assert _check_hours_by_hand(run, sample) > 100
    differs = 0
    for rin in sample:  # the corrections matter: ignoring them gives other hours
        rows = raw_payroll(run, "R", rin)
        differs += monthly_hours_by_hand(rows, run.window) != monthly_hours_by_hand(rows, run.window, net=False)
    assert differs == len(sample)


@check("rin_collision")
def shared_person_numbers(run: Run, defects: list[dict]) -> None:
    persons = _persons(run)
    for d in defects:
        kind, number = _rin(d["record"])
        assert kind != "R" and kind + number not in persons.index and "R" + number in persons.index
        assert len(raw_payroll(run, kind, number)) > 0  # the other person's statements exist ...
        assert _check_hours_by_hand(run, [number]) > 0  # ... and are not the R person's


@check("out_of_window")
def periods_outside_the_window(run: Run, defects: list[dict]) -> None:
    # a statement of a person known only under RINPERSOONS S or A is excluded by that rule first
    of_r = [d for d in defects if _rin(d["record"])[0] == "R"]
    assert run.register_exclusions("register_payroll")["pay period outside the study window (trimmed)"] == len(of_r)
    months = run.register("person_months")["month"]
    assert months.min() >= run.window[0] and months.max() <= run.window[1]


@check("straddles_window")
def periods_across_the_window_edge(run: Run, defects: list[dict]) -> None:
    counts = run.register_exclusions("register_payroll")
    of_r = [d for d in defects if _rin(d["record"])[0] == "R"]  # others are excluded as not R first
    assert counts["pay period partly outside the study window (months outside trimmed)"] == len(of_r)
    persons = _persons(run)
    rins = sorted({_rin(d["record"])[1] for d in defects if "R" + _rin(d["record"])[1] in persons.index})
    assert _check_hours_by_hand(run, rins[:10]) > 0  # the months inside the window keep their days' share


@check("lower_case_contract")
def lower_case_contract_codes(run: Run, defects: list[dict]) -> None:
    from mentorwijs.register.payroll import CONTRACT_FIXED, CONTRACT_NA, CONTRACT_OPEN

    person_months = run.register("person_months")
    assert (person_months["contract"] != 0).all()  # every month's contract code was read
    letters = {"b": CONTRACT_FIXED, "o": CONTRACT_OPEN, "n": CONTRACT_NA}
    persons = _persons(run)
    contract_of = person_months.set_index(["pid", "month"])["contract"]
    compared = 0
    for d in defects:
        kind, number = _rin(d["record"])
        if kind + number not in persons.index:
            continue
        job = d["record"].split("IKVID")[1].strip()
        rows = raw_payroll(run, kind, number)
        first = (rows["SDATUMAANVANGIKO"].str[:4].astype(int) * 12
                 + rows["SDATUMAANVANGIKO"].str[4:6].astype(int) - 1).to_numpy()
        last = (rows["SDATUMEINDEIKO"].str[:4].astype(int) * 12
                + rows["SDATUMEINDEIKO"].str[4:6].astype(int) - 1).to_numpy()
        own = (rows["IKVID"] == job).to_numpy()
        lower = own & rows["SCONTRACTSOORT"].str.islower().to_numpy()
        assert lower.any()
        pid = persons.loc[kind + number, "pid"]
        for i in np.flatnonzero(lower & (first == last)):  # a statement within one month ...
            others = ~own & (first <= first[i]) & (last >= first[i])
            if others.any() or (pid, first[i]) not in contract_of.index:
                continue  # ... in which this job is the person's only one: it describes the month
            assert contract_of[(pid, first[i])] == letters[rows["SCONTRACTSOORT"].iloc[i]], (d, first[i])
            compared += 1
    assert compared > 50


def _unit_months(run: Run, units: pd.DataFrame) -> pd.DataFrame:
    """The panel rows of `units` with their calendar month."""
    panel = run.processed("panel")
    panel = panel[panel["unit"].isin(units["unit"])].copy()
    panel["calendar"] = panel["cohort"].map(month_code).astype(int) + panel["month"].astype(int)
    return panel


def _matched_units_of(run: Run, rins: set[str]) -> pd.DataFrame:
    persons = _persons(run)
    person_of = {persons.loc[r, "person"]: r for r in rins if r in persons.index}
    matched = run.processed("matched")
    return matched[matched["person"].isin(person_of)].assign(rin=lambda m: m["person"].map(person_of))


def _observed_by_hand(run: Run) -> Callable[[str, int], bool]:
    """Alive and living in the country in a calendar month, from the raw death and migration files."""
    files = run.config["register"]["files"]
    deaths = pd.read_csv(run.root / files["deaths"], dtype=str)
    death = {r + n: month_code(d)
             for r, n, d in zip(deaths["RINPERSOONS"], deaths["RINPERSOON"], deaths["GBADatumOverlijden"])}
    moves = pd.read_csv(run.root / files["migration"], dtype=str).sort_values("GBADATUMVESTIGING")
    events: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for r, n, day, kind in zip(moves["RINPERSOONS"], moves["RINPERSOON"], moves["GBADATUMVESTIGING"],
                               moves["GBAVESTIGINGSTYPE"]):
        events[r + n].append((month_code(day), kind))

    def observed(rin: str, month: int) -> bool:
        if month >= death.get(rin, 10**9):
            return False
        abroad = events[rin][0][1] == "I" if events[rin] else False  # before a first immigration: abroad
        for when, kind in events[rin]:
            if when > month:
                break
            abroad = kind == "E"
        return not abroad

    return observed


def _check_unobserved_months(run: Run, defects: list[dict]) -> None:
    """Panel `observed` equals the hand computation for every matched unit of these persons, and
    their survival times stop before the first unobserved month of follow-up."""
    rins = {"".join(_rin(d["record"])) for d in defects}
    units = _matched_units_of(run, rins)
    assert len(units) > 0, "no matched unit of these persons: nothing is checked"
    observed = _observed_by_hand(run)
    panel = _unit_months(run, units).merge(units[["unit", "rin"]], on="unit")
    expected = [int(observed(r, m)) for r, m in zip(panel["rin"], panel["calendar"])]
    assert panel["observed"].tolist() == expected
    assert (panel["observed"] == 0).any()
    unobserved = panel[panel["employed_1h"].isna()]
    assert set(unobserved.index) >= set(panel[panel["observed"] == 0].index)
    survival = run.processed("survival").set_index("unit")
    followup = run.config["anchors"]["followup_months"]
    gone = (panel[(panel["observed"] == 0) & (panel["month"] >= 1) & (panel["month"] <= followup)]
            .groupby("unit")["month"].min())
    for unit, first_gone in gone.items():
        for outcome in ("job", "work"):
            time, event = survival.loc[unit, f"time_{outcome}"], survival.loc[unit, f"event_{outcome}"]
            assert time < first_gone if event else time <= first_gone - 1, (unit, outcome, time, event, first_gone)


@check("death")
def deaths(run: Run, defects: list[dict]) -> None:
    persons = _persons(run)
    for d in defects:
        assert persons.loc["".join(_rin(d["record"])), "death_month"] == month_code(d["detail"])
    _check_unobserved_months(run, defects)


@check("emigration")
def emigrations(run: Run, defects: list[dict]) -> None:
    persons = _persons(run)
    migrations = run.register("migrations")
    moved = set(zip(migrations["pid"], migrations["month"], migrations["emigration"]))
    for d in defects:
        assert (persons.loc["".join(_rin(d["record"])), "pid"], month_code(d["detail"]), 1) in moved
    _check_unobserved_months(run, defects)


@check("unknown_value")
def unknown_values(run: Run, defects: list[dict]) -> None:
    import pyreadstat

    raw, _ = pyreadstat.read_sav(str(run.root / run.config["register"]["files"]["persons"]))
    year_of = dict(zip(raw["RINPERSOONS"] + raw["RINPERSOON"], raw["GBAGEBOORTEJAAR"]))
    persons = _persons(run)
    unknown_month = run.config["candidates"]["unknown_birth_month"]
    for d in defects:
        rin = "".join(_rin(d["record"]))
        birth = persons.loc[rin, "birth_month"]
        if d["detail"] == "birth month unknown":
            assert birth == int(year_of[rin]) * 12 + unknown_month - 1, d
        elif d["detail"] == "birth year and month unknown":
            assert pd.isna(birth), d
        else:
            raise AssertionError(f"no check for an unknown value of this kind: {d['detail']!r}")


@check("renumbered_job")
def renumbered_jobs(run: Run, defects: list[dict]) -> None:
    rins = {"".join(_rin(d["record"])) for d in defects}
    units = _matched_units_of(run, rins)
    panel = _unit_months(run, units).set_index(["unit", "month"])
    reference = run.config["anchors"]["reference_month"]
    checked = 0
    for d in defects:
        rin = "".join(_rin(d["record"]))
        employer = re.search(r"SBEID (\S+)\)", d["detail"]).group(1)
        month = month_code(re.search(r"from (\d{8})", d["detail"]).group(1))
        for unit in units[(units["rin"] == rin)
                          & (units["employer"] == pseudonym(employer, DEMO_KEY, "employer"))].itertuples():
            t = month - month_code(unit.cohort)
            if not (reference < t <= run.config["anchors"]["followup_months"]):
                continue
            before, at = panel.loc[(unit.unit, t - 1)], panel.loc[(unit.unit, t)]
            if before["job_held"] == 1 and before["observed"] == 1 and at["observed"] == 1:
                assert at["job_held"] == 1, (d, unit.unit, t)  # a new IKVID at the same SBEID does not end the job
                checked += 1
    assert checked > 0, "no renumbering of a matched unit's baseline job inside its panel: nothing is checked"


# --- the tests -------------------------------------------------------------------------------
def test_every_planted_kind_has_a_check(run):
    planted = {d["kind"] for d in run.truth["defects"]}
    assert not planted - set(CHECKS), f"planted defects without a check in this file: {sorted(planted - set(CHECKS))}"


@pytest.mark.parametrize("kind", sorted(CHECKS))
def test_planted_defects_are_handled(run, kind):
    defects = [d for d in run.truth["defects"] if d["kind"] == kind]
    assert defects, f"the synthetic study no longer plants {kind!r}: its check cannot fail"
    CHECKS[kind](run, defects)


# --- no raw identifier in any output ----------------------------------------------------------
QUALTRICS_METADATA = ("IPAddress", "RecipientLastName", "RecipientFirstName", "RecipientEmail", "ResponseId",
                      "LocationLatitude", "LocationLongitude")


def raw_identifiers(run: Run) -> set[str]:
    """Every identifier and open answer in the raw questionnaire files (and their reformatted
    dates and postcodes): values of `identifier` and `free_text` items, the respondents' ids, and
    Qualtrics' own personal metadata."""
    values: set[str] = set()
    for source, spec in run.config["sources"].items():
        book = run.codebook(source)
        files = {None: spec["file"]} if "file" in spec else spec["waves"]
        for wave, path in files.items():
            header, rows = read_raw_rows(run.root / path, spec["format"])
            columns = {i.raw_name(wave or "T0") for i in book.items
                       if i.type in ("identifier", "free_text") and i.raw_name(wave or "T0")}
            free_text = {i.raw_name(wave or "T0") for i in book.items if i.type == "free_text"}
            if book.id_namespace is not None:  # a personal id (a training group's code is not)
                columns.add(book.id_column)
            if spec["format"] == "qualtrics":
                columns |= set(QUALTRICS_METADATA)
            for row in rows.values():
                for column in columns & set(header):
                    value = row[column].strip()
                    if column in free_text and len(value) < 6:
                        continue  # a one-word remark ('test') identifies nobody and is an ordinary word
                    if value and not CASTOR_MISSING.match(value):
                        values.add(value)
                        if match := re.fullmatch(r"(\d\d)-(\d\d)-(\d{4})", value):  # a date: also as ISO
                            values.add(f"{match.group(3)}-{match.group(2)}-{match.group(1)}")
                        if re.fullmatch(r"\d{4} [A-Z]{2}", value):  # a postcode: also without the space
                            values.add(value.replace(" ", ""))
    return values


def output_cells(path: Path) -> tuple[set[str], str]:
    """The cells (as text) of an output file, and its text (of a parquet file: its text cells)."""
    if path.suffix == ".parquet":
        table = pd.read_parquet(path)
        cells: set[str] = {str(c) for c in table.columns}
        texts: set[str] = set(cells)
        for column in table.columns:
            values = table[column].dropna()
            if pd.api.types.is_float_dtype(values) and len(values):
                whole = values[np.isfinite(values) & (values == np.round(values))]
                cells |= {str(int(v)) for v in whole.unique()}
            unique = {str(v) for v in values.unique()}
            cells |= unique
            if not pd.api.types.is_numeric_dtype(values):
                texts |= unique
        return cells, "\n".join(sorted(texts))
    if path.suffix == ".png":  # pixels only; the figures' text is checked in their SVG twins
        return set(), ""
    if path.suffix == ".pdf":  # the document's text streams, inflated
        from support.pdfbytes import inflate

        text = inflate(path.read_bytes()).decode("latin-1")
        return set(re.findall(r"[\w.@+-]+", text)), text
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".csv":
        return {cell for row in csv.reader(text.splitlines()) for cell in row}, text
    return set(re.findall(r"[\w.@+-]+", text)), text


def test_no_raw_identifier_reaches_any_output(run):
    identifiers = raw_identifiers(run)
    assert len(identifiers) > 500  # 164 supervisors, 118 employees with name, BSN, e-mail, ...
    long_text = {v for v in identifiers if len(v) >= 6 and not v.isdigit()}  # safe to look for inside other text
    files = sorted(p for folder in OUTPUT_FOLDERS for p in (run.root / folder).rglob("*") if p.is_file())
    assert len(files) > 50
    leaks = []
    for path in files:
        cells, text = output_cells(path)
        found = (cells & identifiers) | {v for v in long_text if v in text}
        leaks += [(path.relative_to(run.root).as_posix(), v) for v in sorted(found)]
    assert not leaks, leaks[:20]
