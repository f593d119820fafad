"""`mentorwijs simulate`: its options, the folder it may write into, no partial study, a complete truth."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from mentorwijs import simulate as simulate_module
from mentorwijs.cli import build_parser, main
from mentorwijs.errors import InputError
from mentorwijs.simulate import MARKER, TRUTH, simulate

CODEBOOKS = ROOT / "data" / "codebooks"


@pytest.fixture(scope="module")
def small_study(tmp_path_factory):
    """The default design with a small register pool (the pool does not change the trainees)."""
    out = tmp_path_factory.mktemp("small") / "synthetic"
    result = simulate(out, seed=3, pool_scale=0.05, codebooks=CODEBOOKS)
    return out, result


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["simulate", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    parser = build_parser()
    options = [a for a in parser._subparsers._group_actions[0].choices["simulate"]._actions if a.option_strings]
    for action in options:
        assert action.option_strings[-1] in text
        assert action.help, f"{action.option_strings} has no help"


def test_the_study_has_its_marker_truth_and_every_file_the_config_names(small_study):
    out, result = small_study
    assert (out / MARKER).is_file() and (out / TRUTH).is_file()
    import yaml

    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    prefix = config["synthetic"]["out"].rstrip("/") + "/"
    named = set()
    for source in config["sources"].values():
        named |= {source["file"]} if "file" in source else set(source["waves"].values())
    named.add(config["register"]["key"]["path"])
    for value in config["register"]["files"].values():
        named |= set(value) if isinstance(value, list) else {value}
    written = {prefix + name for name in result.files}
    assert named <= written, sorted(named - written)


def test_truth_holds_effects_defects_and_every_part(small_study):
    out, _ = small_study
    truth = json.loads((out / TRUTH).read_text(encoding="utf-8"))
    for key in ("meta", "flow", "effects", "survival", "subgroups", "supervisors", "process", "employees",
                "realism", "parameters", "defects"):
        assert key in truth, key
    assert truth["meta"]["seed"] == 3 and truth["defects"]
    kinds = {d["kind"] for d in truth["defects"]}
    # the defects of real exports the foundation issue lists, each planted at least once
    assert {"test_participant", "duplicate_superseded", "partial", "user_missing_numeric", "user_missing_text",
            "user_missing_date", "semicolon_replaced", "checkbox_truncated_header", "unnamed_field_header",
            "out_of_range", "status_preview", "status_test", "id_leading_zero_stripped", "non_r_person", "death",
            "emigration", "correction", "renumbered_job", "out_of_window"} <= kinds


def test_a_folder_with_other_files_is_refused_and_left_alone(tmp_path, capsys):
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "export.csv").write_text("real data", encoding="utf-8")
    code = main(["simulate", "--out", str(folder), "--seed", "1", "--codebooks", str(CODEBOOKS)])
    assert code == 1
    message = capsys.readouterr().err
    assert "may hold real data" in message and "Traceback" not in message
    assert sorted(p.name for p in folder.iterdir()) == ["export.csv"]


def test_an_earlier_synthetic_study_may_be_overwritten(small_study, tmp_path):
    import shutil

    out, _ = small_study
    copy = tmp_path / "synthetic"
    shutil.copytree(out, copy)
    (copy / "stray.txt").write_text("left from an earlier run", encoding="utf-8")
    simulate_module._check_target(copy)  # no error: the marker says it is a synthetic study


@pytest.mark.parametrize("wave", ["T2", "wave4"])
def test_add_wave_must_be_a_new_wave(tmp_path, wave):
    with pytest.raises(InputError, match="add-wave"):
        simulate(tmp_path / "out", seed=1, add_waves=[wave], codebooks=CODEBOOKS)


def test_a_failure_leaves_no_partial_study(tmp_path, monkeypatch):
    from mentorwijs.simulate import register

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(register, "write_register", broken)
    out = tmp_path / "synthetic"
    with pytest.raises(RuntimeError, match="disk full"):
        simulate(out, seed=1, pool_scale=0.05, codebooks=CODEBOOKS)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_an_integer_scale_from_config_gives_the_same_bytes_as_a_float_from_the_command_line(small_study, tmp_path):
    out, _ = small_study  # written with scale 1.0, as the command line passes it
    again = tmp_path / "synthetic"
    simulate(again, seed=3, scale=1, pool_scale=0.05, codebooks=CODEBOOKS)  # config.yaml's `scale: 1` is an int
    assert (again / TRUTH).read_bytes() == (out / TRUTH).read_bytes()
