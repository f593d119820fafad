"""The export boundary: export_tables on the committed fixture result tables, the rule `export`
run by Snakemake on the same fixtures, and the text scans the report part uses."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import FIXTURES, ROOT
from mentorwijs.disclosure import (
    REGISTRY,
    export_tables,
    hidden_cells,
    published_numbers,
    read_exported_table,
    scan_for_identifiers,
    scan_text_for_small_cells,
)
from mentorwijs.errors import InputError

from test_disclosure import M, POLICY, SECTION

RESULTS = FIXTURES / "results"
KINDS = sorted(p.stem for p in RESULTS.glob("*.csv"))


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_fixtures_cover_every_registered_kind():
    assert KINDS == sorted(REGISTRY)


def test_export_writes_checked_tables_log_and_readme(tmp_path):
    result = export_tables(RESULTS, tmp_path / "export", POLICY)
    out = tmp_path / "export"
    assert sorted(tree_bytes(out)) == sorted(result.files) == sorted(
        [f"tables/{k}.csv" for k in KINDS] + ["output_check_log.csv", "README.md", "SHA256SUMS"]
    )
    log = pd.read_csv(out / "output_check_log.csv", dtype=str, keep_default_na=False)
    assert list(log.columns) == ["table", "rule", "cell", "n", "action"]
    assert set(log["table"]) == set(KINDS)
    # the log never shows a suppressed value: n is the marker, empty, or a number its table publishes
    assert set(log.loc[log["action"] == "suppressed", "n"]) <= {M, ""}
    for row in log[~log["n"].isin([M, ""])].itertuples():
        shown = read_exported_table(out / "tables" / f"{row.table}.csv").to_numpy().ravel()
        assert row.n in set(shown), row
    assert ("flow", "exemption", "exempt") in set(zip(log["table"], log["rule"], log["action"]))
    exclusions = read_exported_table(out / "tables" / "exclusions.csv")
    assert dict(zip(zip(exclusions["stage"], exclusions["reason"]), exclusions["n"])) == {
        ("baseline", "no_paid_work"): M,  # alone in its stage: 4
        ("candidates", "no_paid_work"): "2301",
        ("candidates", "no_target_group_marker"): "15234",
        ("candidates", "outside_age_range"): "812",
        ("linkage", "refused_linkage"): "32",
        ("register", "no_key_row"): M,  # 3 and 5: both small
        ("register", "rinpersoons_not_r"): M,
        ("support", "off_common_support"): M,  # 1
    }
    readme = (out / "README.md").read_text(encoding="utf-8")
    for name in result.files:
        assert f"| {name} |" in readme, name
    for kind in KINDS:
        assert re.search(rf"\| tables/{kind}\.csv \| register \| \d+ \|", readme), kind
    assert "published flow chart" in readme  # the exemption's reason


def test_export_is_byte_identical_across_runs_and_input_order(tmp_path):
    export_tables(RESULTS, tmp_path / "a", POLICY)
    export_tables(RESULTS, tmp_path / "b", POLICY)
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    for kind in KINDS:
        table = pd.read_csv(RESULTS / f"{kind}.csv")
        table.iloc[::-1].to_csv(shuffled / f"{kind}.csv", index=False)
    export_tables(shuffled, tmp_path / "c", POLICY)
    a = tree_bytes(tmp_path / "a")
    assert a == tree_bytes(tmp_path / "b") == tree_bytes(tmp_path / "c")
    assert all(not body.endswith(b"\r\n") and body.endswith(b"\n") for body in a.values())


def test_numbers_are_written_with_eight_significant_digits_and_flags_as_integers(tmp_path):
    export_tables(RESULTS, tmp_path, POLICY, kinds=["did_by_month"])
    text = (tmp_path / "tables" / "did_by_month.csv").read_text(encoding="utf-8").splitlines()
    assert text[0] == ("outcome,method,month,estimate,se,df,ci_low,ci_high,p,se_cr1,band_low,band_high,band_critical,"
                       "band_excludes_zero,bonferroni_low,bonferroni_high,bonferroni_excludes_zero,n_treated,n_control,"
                       "clusters_treated,clusters_control,n_clusters,df_resid,converged,warnings")
    assert text[1] == ("employed_1h,matched,1,0.012345679,0.03,71.3,-0.046,0.071,0.68,0.0297,-0.08,0.1,2.9,0,"
                       "-0.081,0.1,0,73,1526,73,1480,1599,1598,1,")
    # employed_3m month 3 has 8 residual df: suppressed with month 2; its free text stays
    assert text[7] == f"employed_3m,matched,3,{','.join([M] * 20)},0,singular design in a cohort"
    assert text[6] == f"employed_3m,matched,2,{','.join([M] * 20)},1,"


def test_unregistered_file_or_microdata_leaves_nothing_behind(tmp_path):
    out = tmp_path / "export"
    export_tables(RESULTS, out, POLICY)
    before = tree_bytes(out)
    src = tmp_path / "results"
    shutil.copytree(RESULTS, src)
    (src / "matched.csv").write_text("unit,person,cohort,treated,weight\nu1,p1,2019-06,1,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="'matched' is not a registered aggregate table kind"):
        export_tables(src, out, POLICY)
    (src / "matched.csv").unlink()
    (src / "panel.parquet").write_bytes(b"PAR1")
    with pytest.raises(InputError, match="only registered aggregate tables"):
        export_tables(src, out, POLICY)
    (src / "panel.parquet").unlink()
    pd.read_csv(RESULTS / "km.csv").assign(person="p").to_csv(src / "km.csv", index=False)
    with pytest.raises(InputError, match="identifier") as err:
        export_tables(src, out, POLICY)
    assert Path(err.value.file).name == "km.csv" and err.value.column == "person"
    assert tree_bytes(out) == before  # the previous export is untouched, no staging folder is left
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_a_new_export_replaces_the_tables_folder_as_a_whole(tmp_path):
    export_tables(RESULTS, tmp_path, POLICY)
    export_tables(RESULTS, tmp_path, POLICY, kinds=["rmst", "km"])
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == ["km.csv", "rmst.csv"]


def test_missing_or_unreadable_result_table_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        export_tables(tmp_path, tmp_path / "out", POLICY, kinds=["rmst"])
    (tmp_path / "rmst.csv").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        export_tables(tmp_path, tmp_path / "out", POLICY, kinds=["rmst"])
    assert not (tmp_path / "out").exists()


# --- the rule `export` --------------------------------------------------------------------------


def test_rule_lists_exactly_the_registered_kinds():
    from mentorwijs.register.steps import STEPS

    listed = [Path(p).stem for p in STEPS["export"].inputs({})["tables"]]  # what the rule `export` reads
    assert sorted(listed) == sorted(REGISTRY)


def test_rule_export_runs_the_library_on_fixture_tables(tmp_path):
    pytest.importorskip("snakemake")
    work = tmp_path / "work"
    shutil.copytree(RESULTS, work / "data" / "processed" / "results")
    import yaml

    (work / "config.yaml").write_text(yaml.safe_dump({"disclosure": SECTION}), encoding="utf-8")
    (work / "Snakefile").write_text(
        f'configfile: "config.yaml"\ninclude: "{(ROOT / "workflow" / "rules" / "export.smk").as_posix()}"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "export", "--quiet", "all"],
        cwd=work, env=env, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    export_tables(RESULTS, tmp_path / "library", POLICY)
    assert tree_bytes(work / "export") == tree_bytes(tmp_path / "library")
    assert f"exported {len(KINDS)} tables" in (work / "logs" / "export.log").read_text(encoding="utf-8")


# --- scans for the report -----------------------------------------------------------------------


def test_scan_for_identifiers_finds_ids_and_not_ordinary_numbers():
    text = ("Trainee MW00017 (person 4f1c2b9d0e7a6c3b5d8e9f0a1b2c3d4e, R000012345) worked for E000012345 "
            "at 1234 AB; mail a.b@example.org; supervisor 010001.")
    assert [f.pattern for f in scan_for_identifiers(text)] == [
        "study_number", "pseudonym", "rin_or_bsn", "employer_id", "postcode", "email", "castor_id"
    ]
    ordinary = ("73 trainees and 1,526 controls (1526 persons); month 8: 0.11 (95% CI 0.01 to 0.21), "
                "p = 4.17e-05; cohorts 2019-05 to 2021-01; 100000 persons x 36 months; 12.345678 hours")
    assert scan_for_identifiers(ordinary) == []


def test_scan_text_finds_a_hidden_value_and_ignores_published_ones(tmp_path):
    export_tables(RESULTS, tmp_path, POLICY, kinds=["modifiers", "did_pooled"])
    exported = {k: read_exported_table(tmp_path / "tables" / f"{k}.csv") for k in ("modifiers", "did_pooled")}
    hidden = [c for k in exported for c in hidden_cells(pd.read_csv(RESULTS / f"{k}.csv"), exported[k], k)]
    published = published_numbers(exported)
    by_column = {(c.cell, c.column): c.value for c in hidden}
    assert by_column[("outcome=employed_1h; method=matched; modifier=temporary_contract; level=1", "n_treated")] == 6
    assert by_column[("outcome=employed_1h; method=matched; modifier=temporary_contract; level=0", "n_treated")] == 67

    leaks = ("Among employees with a temporary contract (n = 6) the effect was 0.25 (95% CI 0,01 to 0,49); "
             "the other 67 trainees showed 3.0%.")
    found = scan_text_for_small_cells(leaks, hidden, published)
    tokens = {(f.hidden.column, f.token) for f in found}
    assert ("n_treated", "n = 6") in tokens
    assert ("estimate", "0.25") in tokens
    assert ("ci_low", "0,01") in tokens
    assert ("n_treated", "67 trainees") in tokens
    assert ("estimate", "3.0%") in tokens  # level 0's 0.03 as a percentage
    clean = ("The pooled effect was 0.052 (95% CI -0.028 to 0.132; n = 73 trainees); in the government sector "
             "0.07 (n = 50) and -0.01 (23 trainees). Month 6 of 12.")
    assert scan_text_for_small_cells(clean, hidden, published) == []


def test_documented_column_contract_matches_the_registry():
    text = (ROOT / "docs" / "disclosure.md").read_text(encoding="utf-8")
    for kind, spec in REGISTRY.items():
        required = spec.required()
        optional = tuple(c for c in spec.declared() if c not in required)
        row = f"| `{kind}` | {', '.join(spec.keys)} | {', '.join(required)} | {', '.join(optional)} |"
        assert row.replace("|  |", "| |") in text.replace("|  |", "| |"), kind


def test_documented_rules_per_kind_are_the_generated_ones():
    from mentorwijs.disclosure import registry_markdown

    text = (ROOT / "docs" / "disclosure.md").read_text(encoding="utf-8")
    for line in registry_markdown().splitlines():
        assert line in text.splitlines(), line


def test_the_manifest_holds_the_sha256_of_every_other_exported_file(tmp_path):
    import hashlib

    out = tmp_path / "export"
    result = export_tables(RESULTS, out, POLICY)
    lines = (out / "SHA256SUMS").read_text(encoding="ascii").splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    assert sorted(listed) == sorted(f for f in result.files if f != "SHA256SUMS")
    for name, digest in listed.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name
    # the format sha256sum -c reads: 64 hex digits, two spaces, the path
    assert all(re.fullmatch(r"[0-9a-f]{64}  [\w./]+", line) for line in lines)
    assert "SHA256SUMS" in (out / "README.md").read_text(encoding="utf-8")
    (out / "tables" / "flow.csv").write_bytes(b"altered\n")
    altered = hashlib.sha256((out / "tables" / "flow.csv").read_bytes()).hexdigest()
    assert altered != listed["tables/flow.csv"]
