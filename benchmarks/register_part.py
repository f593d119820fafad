"""Time and peak memory of the register part (person-months, candidates, matching, panel, effects, export).

    python benchmarks/register_part.py                 # small, medium and large (2,000 / 20,000 / 100,000 persons)
    python benchmarks/register_part.py --persons 5000  # one size
    python benchmarks/register_part.py --persons 100000 --months 36 --persons 1000000 --months 72  # national scale
    python benchmarks/register_part.py --persons 100000 --compare-src /other/checkout/src  # one extract, two versions
                                                       # (--compare-max-persons: sizes the comparison runs for)

Wall-clock and CPU seconds are both given: on a shared machine the wall clock includes waiting.
For each size a register-shaped raw extract of N persons x M months from 2018-01 (``--months``,
36 by default: 2018-01..2020-12; the i-th ``--months`` goes with the i-th ``--persons``) is
generated into a temporary folder (payroll with monthly and four-weekly payers, a second job
for some, corrections; SECM spells; residence, addresses and regions; deaths, emigrations;
business register; a linkage key and 150 trainees in 12 cohorts of 3 region pairs); about
1.1 jobs per employed person-month and three million payroll rows at 100,000 persons. The
register part then runs in a fresh interpreter, exactly as ``mentorwijs run --part register``
does, and the script prints the seconds per step and the interpreter's peak resident memory.
Budget (design.md): 100,000 persons x 36 months in at most 60 s and 4 GB; at national scale
(issue 13) 1,000,000 persons x 72 months in at most 5 minutes and 8 GB on 2 cores. The generator also
serves as a smoke test of the whole part at scale. The payroll files are generated and written in
pieces of at most three million rows (jobs of consecutive rows), so generating 1,000,000 persons
x 72 months takes about the memory of 100,000 x 36.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mentorwijs.config import load_config  # noqa: E402
from mentorwijs.pseudonymise import DEMO_KEY, pseudonymise  # noqa: E402
from mentorwijs.register.calendar import civil_from_days, first_day  # noqa: E402
from mentorwijs.simulate.writers import write_sav  # noqa: E402

FIRST = 2018 * 12  # 2018-01; the last month follows from --months
#: Payroll rows per piece generated and written (bounds the generator's memory).
PIECE_ROWS = 3_000_000
PAIRS = {"Rivierenland": ["Noord-Oost Brabant"], "Helmond-De Peel": ["Noord-Limburg"],
         "Foodvalley": ["Stedendriehoek en Noord-West Veluwe"]}
COHORTS = ["2019-03", "2019-06", "2019-09", "2019-12"]
RAW = "data/raw/bench/cbs"
EPOCH = np.datetime64("1970-01-01")


def _ymd(days: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 -> 'YYYYMMDD' strings."""
    return np.char.replace((EPOCH + days.astype("timedelta64[D]")).astype("datetime64[D]").astype(str), "-", "")


def _month_first_day(month: np.ndarray) -> np.ndarray:
    return first_day(np.asarray(month, dtype=np.int64)).astype(np.int64)


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({c: pa.array(frame[c].astype(str).to_numpy(), type=pa.string()) for c in frame.columns})
    pcsv.write_csv(table, path, write_options=pcsv.WriteOptions(quoting_style="needed"))


def _ymd_text(days: np.ndarray) -> pa.Array:
    """Days since 1970-01-01 -> 'YYYYMMDD' text, vectorised in Arrow (the payroll's millions of dates)."""
    y, m, d = civil_from_days(days)
    return pc.cast(pa.array(y * 10000 + m * 100 + d), pa.string())


def _number_text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _payroll_pieces(rng, *, holders, start, end, employer, hours, four_weekly, sheltered, benefit, contract, first,
                    last, rin_text: pa.Array, employer_text: pa.Array):
    """Payroll rows of consecutive jobs, a piece of at most PIECE_ROWS rows at a time: (year of each row, table)."""
    k = len(holders)
    anchor = (np.datetime64("2017-12-25") - EPOCH).astype(np.int64)
    # rows per job, to cut the jobs into pieces
    months = np.maximum(np.minimum(end, last) - np.maximum(start, first) + 1, 0)
    per_job = np.where(four_weekly, months * 13 // 12 + 2, months) + 1
    bounds = [0]
    total = 0
    for j, n in enumerate(per_job):
        if total + n > PIECE_ROWS and j > bounds[-1]:
            bounds.append(j)
            total = 0
        total += n
    bounds.append(k)
    codes = {"contract": pa.array(["B", "O"]), "job_type": pa.array(["1", "3"]), "flag": pa.array(["0", "1"]),
             "period": pa.array(["5", "1"])}
    for j0, j1 in zip(bounds[:-1], bounds[1:]):
        chunk = np.arange(j0, j1)
        # monthly payers: one statement per calendar month of the window
        m_idx = chunk[~four_weekly[chunk]]
        lo, hi = np.maximum(start[m_idx], first), np.minimum(end[m_idx], last)
        count = np.maximum(hi - lo + 1, 0)
        rep = np.repeat(m_idx, count)
        month = np.repeat(lo, count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
        m_start = _month_first_day(month)
        m_end = _month_first_day(month + 1) - 1
        m_hours = hours[rep]
        # four-weekly payers: 28-day periods from 2017-12-25 (a Monday)
        f_idx = chunk[four_weekly[chunk]]
        first_day = np.maximum(_month_first_day(np.maximum(start[f_idx], first)), anchor)
        last_day = _month_first_day(np.minimum(end[f_idx], last) + 1) - 1
        p0 = (first_day - anchor) // 28
        p1 = (last_day - anchor) // 28
        count_f = np.maximum(p1 - p0 + 1, 0)
        rep_f = np.repeat(f_idx, count_f)
        period = np.repeat(p0, count_f) + (np.arange(count_f.sum()) - np.repeat(np.cumsum(count_f) - count_f, count_f))
        f_start = anchor + 28 * period
        f_end = f_start + 27
        f_hours = (hours[rep_f] * 12 / 13).round(2)

        job = np.concatenate([rep, rep_f])
        p_start, p_end = np.concatenate([m_start, f_start]), np.concatenate([m_end, f_end])
        p_hours = np.concatenate([m_hours, f_hours])
        # corrections: 1% of statements get an extra +5 hours and its -5 correction
        corr = rng.random(len(job)) < 0.01
        job = np.concatenate([job, job[corr], job[corr]])
        p_start = np.concatenate([p_start, p_start[corr], p_start[corr]])
        p_end = np.concatenate([p_end, p_end[corr], p_end[corr]])
        p_hours = np.concatenate([p_hours, np.full(corr.sum(), 5.0), np.full(corr.sum(), -5.0)])
        n = len(job)
        take = pa.array(job)
        table = pa.table({
            "RINPERSOONS": pa.array(np.full(n, "R", dtype=object), pa.string()),
            "RINPERSOON": rin_text.take(pa.array(holders[job])), "IKVID": _number_text(job),
            "SBEID": employer_text.take(pa.array(employer[job])),
            "SDATUMAANVANGIKO": _ymd_text(p_start), "SDATUMEINDEIKO": _ymd_text(p_end),
            "SDATUMAANVANGIKVORG": _ymd_text(_month_first_day(start[job])),
            "SBASISUREN": _number_text(p_hours.round(2)),
            "SLNINGLD": _number_text((p_hours * 15.5).round(2)),
            "SCONTRACTSOORT": codes["contract"].take(pa.array(contract[job])),
            "SSOORTBAAN": codes["job_type"].take(pa.array(sheltered[job].astype(np.int8))),
            "SCAOSECTOR": pa.array(np.full(n, "1000", dtype=object), pa.string()),
            "SIndAvrLkvDgBafSb": codes["flag"].take(pa.array(benefit[job].astype(np.int8))),
            "STIJDVAKTYPE": codes["period"].take(pa.array(four_weekly[job].astype(np.int8))),
        })
        del take
        year = civil_from_days(p_start)[0]
        yield year, table


def generate(root: Path, n_persons: int, seed: int = 1, months: int = 36) -> dict:
    """Write a register-shaped raw extract of ``n_persons`` x ``months`` months from 2018-01; return its config."""
    rng = np.random.default_rng(seed)
    last = FIRST + months - 1
    years = list(range(FIRST // 12, last // 12 + 1))
    n_trainees = 150
    n = n_persons + n_trainees
    rin = np.char.zfill(np.arange(1, n + 1).astype(str), 9)
    trainee = np.zeros(n, bool)
    trainee[n_persons:] = True
    cbs = root / RAW

    # persons
    year = rng.integers(1958, 2000, n)
    persons = pd.DataFrame({"RINPERSOONS": "R", "RINPERSOON": rin, "GBAGESLACHT": rng.choice(["1", "2"], n),
                            "GBAGEBOORTEJAAR": year.astype(str),
                            "GBAGEBOORTEMAAND": np.char.zfill(rng.integers(1, 13, n).astype(str), 2),
                            "GBAHERKOMSTGROEPERING": "6030",
                            "GBAGENERATIE": rng.choice(["0", "1", "2"], n, p=[0.7, 0.2, 0.1])})
    write_sav(persons, cbs / "GBAPERSOON2022TABV1.sav")
    del persons

    # regions: controls spread over the three control regions (5% elsewhere), trainees in intervention regions
    controls = [c[0] for c in PAIRS.values()]
    regions = controls + list(PAIRS) + ["Amersfoort"]
    municipalities = {r: [str(100 + 10 * i + j) for j in range(5)] for i, r in enumerate(regions)}
    region = np.where(rng.random(n) < 0.95, rng.choice(controls, n), "Amersfoort").astype(object)
    region[trainee] = rng.choice(list(PAIRS), n_trainees)
    region_index = pd.Series(region).map({r: i for i, r in enumerate(regions)}).to_numpy()
    gem = (100 + 10 * region_index + rng.integers(0, 5, n)).astype(str)
    objects = np.char.zfill(np.arange(1, n + 1).astype(str), 10)
    _write(pd.DataFrame({"SOORTOBJECTNUMMER": "V", "RINOBJECTNUMMER": objects, **{f"gem{y}": gem for y in years}}),
           cbs / "VSLGWB2022TAB03V1.csv")
    _write(pd.DataFrame({"RINPERSOONS": "R", "RINPERSOON": rin, "GBADATUMAANVANGADRESHOUDING": "20100101",
                         "GBADATUMEINDEADRESHOUDING": "", "SOORTOBJECTNUMMER": "V", "RINOBJECTNUMMER": objects}),
           cbs / "GBAADRESOBJECT2022BUSV1.csv")
    rows = [(y, m, "x", r) for r in regions for m in municipalities[r] for y in years]
    _write(pd.DataFrame(rows, columns=["jaar", "gemeente", "gemeentenaam", "arbeidsmarktregio"]),
           cbs / "gemeente_arbeidsmarktregio.csv")

    # jobs: a main job for 95%, a second job for 15%, a next job for 30%; monthly or four-weekly payers
    n_employers = max(n // 20, 50)
    holders = np.concatenate([np.flatnonzero(rng.random(n) < 0.95), np.flatnonzero(rng.random(n) < 0.15),
                              np.flatnonzero(rng.random(n) < 0.30)])  # a main job, a second job, a next job
    holders = np.concatenate([holders, np.flatnonzero(trainee)])
    k = len(holders)
    start = rng.integers(FIRST - 60, last - 3, k)
    start[-n_trainees:] = FIRST - 12
    end = np.minimum(start + rng.geometric(1 / 72, k), last + 6)
    employer = rng.integers(0, n_employers, k)
    hours = rng.uniform(16, 160, k).round(1)
    four_weekly = rng.random(k) < 0.25
    sheltered = rng.random(k) < 0.08
    benefit = rng.random(k) < 0.25
    contract = (rng.random(k) < 0.6).astype(np.int8)  # 0 = B (fixed term), 1 = O (open-ended)
    employer_text = pa.array(np.char.add("E", np.char.zfill(np.arange(n_employers).astype(str), 9)).tolist(),
                             pa.string())
    rin_text = pa.array(rin.tolist(), pa.string())

    files, writers, payroll_rows = [], {}, 0
    options = pcsv.WriteOptions(quoting_style="needed")
    try:
        for row_year, table in _payroll_pieces(rng, holders=holders, start=start, end=end, employer=employer,
                                               hours=hours, four_weekly=four_weekly, sheltered=sheltered,
                                               benefit=benefit, contract=contract, first=FIRST, last=last,
                                               rin_text=rin_text, employer_text=employer_text):
            payroll_rows += table.num_rows
            file_year = np.clip(row_year, years[0], years[-1])
            for y in years:
                part = table.filter(pa.array(file_year == y))
                if y not in writers:
                    path = cbs / f"SPOLISBUS{y}V1.csv"
                    writers[y] = pcsv.CSVWriter(path, table.schema, write_options=options)
                    files.append(f"{RAW}/SPOLISBUS{y}V1.csv")
                writers[y].write_table(part)
            del table
    finally:
        for writer in writers.values():
            writer.close()

    # SECM: 30% with a benefit spell
    s_idx = np.flatnonzero(rng.random(n) < 0.30)
    s_start = _month_first_day(rng.integers(FIRST - 12, last, len(s_idx)))
    s_end = s_start + rng.integers(60, 900, len(s_idx))
    secm = pd.DataFrame({"RINPERSOONS": "R", "RINPERSOON": rin[s_idx], "AANVSECM": _ymd(s_start),
                         "EINDSECM": _ymd(s_end), "SECM": rng.choice([21.0, 22.0, 24.0, 11.0], len(s_idx)),
                         "XKOPPELWERKNEMERSECM": 0.0, "XKOPPELBIJSTANDSECM": rng.choice([0.0, 1.0], len(s_idx)),
                         "XKOPPELZIEKTEAOSECM": rng.choice([0.0, 1.0], len(s_idx)), "XKOPPELWERKLUITKSECM": 0.0})
    write_sav(secm, cbs / "SECMBUS2022V1.sav")
    del secm

    e_idx = np.flatnonzero(rng.random(n) < 0.5)
    _write(pd.DataFrame({"RINPERSOONS": "R", "RINPERSOON": rin[e_idx],
                         "OPLNIVSOI2021AGG4HBMETNIRWO": rng.choice(["1111", "1221", "2111", "3111"], len(e_idx))}),
           cbs / "HOOGSTEOPL2021TABV1.csv")
    d_idx = np.flatnonzero(rng.random(n) < 0.005)
    _write(pd.DataFrame({"RINPERSOONS": "R", "RINPERSOON": rin[d_idx],
                         "GBADatumOverlijden": _ymd(_month_first_day(rng.integers(FIRST, last, len(d_idx))) + 9)}),
           cbs / "GBAOVERLIJDEN2022TABV1.csv")
    g_idx = np.flatnonzero(rng.random(n) < 0.005)
    _write(pd.DataFrame({"RINPERSOONS": "R", "RINPERSOON": rin[g_idx],
                         "GBADATUMVESTIGING": _ymd(_month_first_day(rng.integers(FIRST, last, len(g_idx))) + 14),
                         "GBAVESTIGINGSTYPE": "E"}), cbs / "GBAMIGRATIE2022BUSV1.csv")
    emp = np.repeat(np.arange(n_employers), len(years))
    _write(pd.DataFrame({"SBEID": np.char.add("E", np.char.zfill(emp.astype(str), 9)),
                         "JAAR": np.tile(years, n_employers),
                         "SBI2008": np.repeat(rng.choice(["01130", "25110", "47111", "81210", "86101"], n_employers),
                                              len(years)),
                         "GKSBS": np.repeat(rng.choice(["30", "50", "60", "82", "93"], n_employers), len(years))}),
           cbs / "BETAB2022V1.csv")

    # trainees and the key
    study = np.array([f"MW{i:05d}" for i in range(1, n_trainees + 1)])
    _write(pd.DataFrame({"studienummer": study, "RINPERSOONS": "R", "RINPERSOON": rin[trainee]}),
           cbs / "koppeltabel.csv")
    cohort = rng.choice(COHORTS, n_trainees)
    month0 = pd.to_datetime(pd.Series(cohort) + "-15")
    trainees = pd.DataFrame({
        "person": pseudonymise(study, DEMO_KEY, "study").astype(str).to_numpy(),
        "training_group": [f"G{(list(PAIRS).index(r) * 4 + COHORTS.index(c)) + 1:02d}"
                           for r, c in zip(region[trainee], cohort)],
        "region": region[trainee].astype(str), "cohort": cohort,
        "first_meeting": (month0 - pd.Timedelta(days=35)).dt.date, "last_meeting": month0.dt.date,
        "mode": "on_site", "supervisor": "s", "sup_n_employees_guided": 5, "sup_sector": 1, "sup_org_size": 2,
        "sup_sheltered_workplace": 0,
    })
    (root / "data" / "processed").mkdir(parents=True, exist_ok=True)
    trainees.to_parquet(root / "data" / "processed" / "trainees.parquet", index=False)

    config = load_config(ROOT / "config.yaml")
    config["register"]["key"]["path"] = f"{RAW}/koppeltabel.csv"
    config["register"]["files"] = {
        "persons": f"{RAW}/GBAPERSOON2022TABV1.sav", "payroll": files, "socioeconomic": f"{RAW}/SECMBUS2022V1.sav",
        "education": f"{RAW}/HOOGSTEOPL2021TABV1.csv", "residence": f"{RAW}/GBAADRESOBJECT2022BUSV1.csv",
        "addresses": f"{RAW}/VSLGWB2022TAB03V1.csv", "municipality_regions": f"{RAW}/gemeente_arbeidsmarktregio.csv",
        "deaths": f"{RAW}/GBAOVERLIJDEN2022TABV1.csv", "migration": f"{RAW}/GBAMIGRATIE2022BUSV1.csv",
        "businesses": f"{RAW}/BETAB2022V1.csv",
    }
    config["register"]["window"] = {"first": "2018-01", "last": f"{last // 12}-{last % 12 + 1:02d}"}
    config["regions"]["pairs"] = PAIRS
    config["anchors"].update(panel_first_month=-12, followup_months=12, covariate_window_months=12,
                             marker_window_months=12)
    return {"config": config, "payroll_rows": payroll_rows, "persons": n}


CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from mentorwijs.register.steps import _release_memory, register_plan
    root = Path(sys.argv[1])
    config = json.loads((root / "config.json").read_text())
    seconds, cpu = {}, {}
    started, started_cpu = time.perf_counter(), time.process_time()
    for step in register_plan(config, root=root):  # what run_register does, timed per step
        arguments = dict(step.arguments)
        if step.name == "register_flow" and arguments["fragments"] is None:  # a plan of before the step globbed itself
            arguments["fragments"] = sorted((root / "data" / "interim" / "flow").glob("*.csv"))
        wall, proc = time.perf_counter(), time.process_time()
        step.function(**arguments)
        _release_memory()
        seconds[step.name], cpu[step.name] = time.perf_counter() - wall, time.process_time() - proc
    total, total_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    try:  # peak resident memory of this interpreter (ru_maxrss would include the parent's at fork time)
        status = Path("/proc/self/status").read_text()
        peak = int(next(l for l in status.splitlines() if l.startswith("VmHWM:")).split()[1]) * 1024
    except (OSError, StopIteration):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "total": total, "total_cpu": total_cpu, "peak_bytes": peak}))
    """
)


def _run_part(root: Path, src: Path) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, str(root), str(src)], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(n_persons: int, months: int = 36, compare: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="mentorwijs-bench-") as folder:
        root = Path(folder)
        started = time.perf_counter()
        generated = generate(root, n_persons, months=months)
        gen_seconds = time.perf_counter() - started
        (root / "config.json").write_text(json.dumps(generated["config"]), encoding="utf-8")
        other = _run_part(root, compare) if compare is not None else None
        report = _run_part(root, ROOT / "src")
        flow = pd.read_csv(root / "data" / "processed" / "results" / "flow.csv")
        size_mb = sum(p.stat().st_size for p in (root / RAW).iterdir()) / 1e6
    report.update(persons=n_persons, months=months, payroll_rows=generated["payroll_rows"],
                  generate_seconds=gen_seconds, raw_mb=size_mb, flow=flow, other=other)
    return report


def _print(r: dict, label: str) -> None:
    print(f"   {label}register part: {r['total']:.1f} s ({r['total_cpu']:.1f} s CPU), peak memory "
          f"{r['peak_bytes'] / 2**30:.2f} GB")
    for step, s in r["seconds"].items():
        print(f"   {step:22s} {s:6.1f} s  ({r['cpu'][step]:5.1f} s CPU)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, action="append",
                        help="persons in the extract (repeatable); default 2000, 20000, 100000")
    parser.add_argument("--months", type=int, action="append",
                        help="months from 2018-01 (repeatable, one per --persons in order; "
                             "default 36, the last one repeats)")
    parser.add_argument("--compare-src", type=Path,
                        help="also run the part with the package under this src folder, on the same extract")
    parser.add_argument("--compare-max-persons", type=int, default=200_000,
                        help="run --compare-src only for sizes up to this many persons (default 200000)")
    args = parser.parse_args()
    sizes = args.persons or [2_000, 20_000, 100_000]
    months = args.months or [36]
    for i, n in enumerate(sizes):
        m = months[min(i, len(months) - 1)]
        r = measure(n, m, args.compare_src if n <= args.compare_max_persons else None)
        print(f"\n== {n:,} persons x {m} months: {r['payroll_rows']:,} payroll rows, {r['raw_mb']:.0f} MB raw "
              f"(generated in {r['generate_seconds']:.1f} s)")
        if r["other"] is not None:
            _print(r["other"], f"{args.compare_src}: ")
            print("   this checkout:")
        _print(r, "")
        f = r["flow"].set_index(["population", "step"])["n"]
        print(f"   matched {f[('employees', 'matched')]} of {f[('employees', 'eligible')]} trainees; "
              f"{f[('controls', 'candidate_units')]:,} candidate units; "
              f"{f[('controls', 'matched_control_persons')]:,} matched control persons",
              flush=True)


if __name__ == "__main__":
    main()
