"""Report and factsheet on the fixture tables: content, order, languages, pages, tags, no local paths.

PDF rendering is slowish, so each document is rendered once per module: the full report in
Dutch on the default scenario, and the factsheet in both languages for all three scenarios.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

from conftest import FIXTURES
from mentorwijs.aggregates import read_aggregate_tables
from mentorwijs.errors import InputError
from mentorwijs.figures import draw_figures
from mentorwijs.findings import NO_CLEAR_EFFECT
from mentorwijs.messages import load_messages
from mentorwijs.report import ReportSettings, report_context, write_factsheet, write_report
from pdfbytes import inflate, page_count

TABLES = FIXTURES / "tables"
SCENARIOS = ("default", "null", "harmful")
ANCHORS = {"reference_month": -3, "covariate_window_months": 12, "marker_window_months": 24, "panel_first_month": -24,
           "followup_months": 12, "placebo_reference_month": -24, "placebo_post_months": [-23, -15], "job_gap_months": 1}
PAIRS = {"Rivierenland": ["Noord-Oost Brabant"], "Helmond-De Peel": ["Noord-Limburg"]}
PROVENANCE = {"config_hash": "ab" * 32, "commit": None, "dirty": False, "seed": 20190501,
              "versions": {"python": "3.11.9", "mentorwijs": "0.1.0", "weasyprint": "70.0"},
              "inputs": {"reports/tables/flow.csv": "cd" * 32}}


def _settings(language="nl", **extra):
    return ReportSettings(language=language, synthetic=True, seed=20190501, anchors=ANCHORS, region_pairs=PAIRS,
                          analysis_settings={"matching": {"caliper": 0.2, "k": 5}}, **extra)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The Dutch report and factsheet of the default scenario, HTML and PDF."""
    out = tmp_path_factory.mktemp("report-default-nl")
    tables = read_aggregate_tables(TABLES / "default")
    draw_figures(tables, out / "figures", load_messages("nl"), synthetic=True, reference_month=-3)
    result = write_report(tables, out / "figures", _settings(), html_path=out / "report.html", pdf_path=out / "report.pdf",
                          provenance=PROVENANCE)
    return out, result


@pytest.fixture(scope="module", params=[(s, lang) for s in SCENARIOS for lang in ("nl", "en")], ids=lambda p: f"{p[0]}-{p[1]}")
def factsheet(request, tmp_path_factory):
    scenario, language = request.param
    out = tmp_path_factory.mktemp(f"factsheet-{scenario}-{language}")
    tables = read_aggregate_tables(TABLES / scenario)
    draw_figures(tables, out / "figures", load_messages(language), synthetic=True, names=["factsheet"])
    result = write_factsheet(tables, out / "figures", _settings(language), html_path=out / "factsheet.html", pdf_path=out / "factsheet.pdf")
    return scenario, language, out, result


def _no_local_reference(data: bytes, folder) -> None:
    assert b"file:" not in data
    assert str(folder).encode() not in data
    assert b"/tmp/" not in data and b"/home/" not in data


# ------------------------------------------------------------------------------------ report


def test_report_sections_in_the_publications_order(report):
    _, result = report
    ids = [s["id"] for s in result["context"]["sections"]]
    assert ids == ["summary", "flow", "characteristics", "employment", "modifiers", "supervisors", "process",
                   "survival", "sensitivity", "limitations", "methods", "warnings", "provenance"]


def test_report_tables_and_figures_are_numbered_in_order(report):
    out, result = report
    html = (out / "report.html").read_text(encoding="utf-8")
    tables = [int(n) for n in re.findall(r"Tabel (\d+)\.</span>", html)]
    figures = [int(n) for n in re.findall(r"Figuur (\d+)\.</span>", html)]
    assert tables == list(range(1, len(tables) + 1)) and len(tables) >= 20
    assert figures == list(range(1, 10))


def test_report_html_embeds_images_and_refers_to_no_local_file(report):
    out, _ = report
    html = (out / "report.html").read_bytes()
    _no_local_reference(html, out)
    sources = re.findall(rb'<img src="([^"]{0,40})', html)
    assert len(sources) == 9 and all(s.startswith(b"data:image/png;base64,") for s in sources)
    assert b'alt=""' not in html


def test_report_pdf_is_tagged_with_alt_texts_and_refers_to_no_local_file(report):
    out, result = report
    data = (out / "report.pdf").read_bytes()
    text = inflate(data)
    _no_local_reference(text, out)
    assert b"/StructTreeRoot" in text and b"/MarkInfo" in text and b"pdfuaid" in text
    assert len(re.findall(rb"/Alt\s*[(<]", text)) == 9
    assert b"/CreationDate" not in text and b"/ModDate" not in text and b"/ID [" not in text
    assert page_count(data) == result["pages"] >= 10
    assert all("SYNTHETISCHE DATA" in margin for margin in result["margin_texts"])


def test_report_speaks_dutch_with_decimal_commas_and_names_the_warnings(report):
    out, result = report
    text = " ".join(result["page_texts"])
    assert "1.526" in text and "Kandidaten in de controleregio's" in text
    assert re.search(r"\d,\d", text) and not re.search(r"\b0\.\d\d\b", text)
    assert "placebo_regions" in text and "did not converge" in text  # the non-converged sensitivity model
    assert "Onderdrukte cellen" in text and "km.csv" in text  # suppressed cells counted per table
    assert "RINPERSOONS not R" in text  # exclusions by reason
    assert "Maand 0 is de kalendermaand" in text and "maand \u22123" in text  # methods from the config
    assert "matching.caliper" in text and "0,2" in text
    assert "Leidinggevenden kozen zelf" in text  # limitations of study.md


def test_missing_optional_tables_are_named_and_required_ones_refused(tmp_path):
    directory = tmp_path / "tables"
    shutil.copytree(TABLES / "default", directory, ignore=shutil.ignore_patterns("*.py"))
    for name in ("placebo", "process", "sensitivity"):
        (directory / f"{name}.csv").unlink()
    tables = read_aggregate_tables(directory)
    draw_figures(tables, tmp_path / "figures", load_messages("en"), names=["flow", "factsheet", "sensitivity"])
    result = write_report(tables, tmp_path / "figures", _settings("en"), html_path=tmp_path / "report.html")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    for name in ("placebo", "process", "sensitivity"):
        assert f"{name}.csv: absent, so not in this report" in html
    assert "Figure km.png is missing from figures.json" in html  # drawn only flow and factsheet here
    assert "Difference (percentage points)" in html and "1,526" in html
    assert result["context"]["lang"] == "en"
    (directory / "rmst.csv").unlink()
    with pytest.raises(InputError, match="rmst"):
        write_report(directory, tmp_path / "figures", _settings("en"), html_path=tmp_path / "again.html")
    assert not (tmp_path / "again.html").exists()


# ------------------------------------------------------------------------------------ factsheet


def test_factsheet_is_two_a4_pages(factsheet):
    scenario, language, out, result = factsheet
    data = (out / "factsheet.pdf").read_bytes()
    assert result["pages"] == 2 and page_count(data) == 2
    assert re.search(rb"/MediaBox\s*\[\s*0\s+0\s+595\.\d*\s+841\.\d*", inflate(data))  # A4 in points


def test_factsheet_marks_synthetic_data_on_every_page(factsheet):
    _, language, _, result = factsheet
    mark = load_messages(language).t("document.synthetic_mark")
    assert result["margin_texts"] == (mark, mark)


def test_factsheet_wording_follows_the_estimates(factsheet):
    scenario, language, out, result = factsheet
    m = load_messages(language)
    context = result["context"]
    text = " ".join(result["page_texts"])
    assert context["means"] == m.t(f"factsheet.means_{context['primary_verdict']}")
    assert context["means"] in text.replace("\u00ad", "")
    expected = {"default": "effect", "null": NO_CLEAR_EFFECT, "harmful": "possible_harm"}[scenario]
    assert context["primary_verdict"] == expected
    if scenario == "null":
        assert context["claims_no_effect"]
        assert all(s.verdict == NO_CLEAR_EFFECT for s in context["statements"][:3])
    assert ("leidinggevenden" in text) == (language == "nl")
    assert ("1.526" if language == "nl" else "1,526") in text and "73" in text


def test_factsheet_has_a_figure_with_alt_text_and_no_local_reference(factsheet):
    _, language, out, _ = factsheet
    html = (out / "factsheet.html").read_bytes()
    pdf = inflate((out / "factsheet.pdf").read_bytes())
    _no_local_reference(html, out)
    _no_local_reference(pdf, out)
    assert html.count(b'<img src="data:image/png;base64,') == 1
    assert len(re.findall(rb"/Alt\s*[(<]", pdf)) == 1
    assert f'lang="{language}"'.encode() in html and f"/Lang ({language})".encode() in pdf


def test_factsheet_links_the_full_report_when_given_a_url(tmp_path):
    tables = read_aggregate_tables(TABLES / "default")
    draw_figures(tables, tmp_path / "figures", load_messages("en"), names=["factsheet"])
    write_factsheet(tables, tmp_path / "figures", _settings("en", full_report="https://example.org/mentorwijs/report.pdf",
                                                              contact="Research team, mentorwijs@example.org"),
                    html_path=tmp_path / "factsheet.html")
    html = (tmp_path / "factsheet.html").read_text(encoding="utf-8")
    assert '<a href="https://example.org/mentorwijs/report.pdf">' in html and "Contact: Research team" in html


def test_report_context_is_pure_and_needs_no_files():
    tables = read_aggregate_tables(TABLES / "null")
    context = report_context(tables, [], _settings("en"))
    summary = context["sections"][0]["blocks"][1]["items"]
    assert [s.verdict for s in summary[:3]] == [NO_CLEAR_EFFECT] * 3


def test_report_names_the_primary_method_and_shows_the_other_in_the_sensitivity_table():
    """The pooled-effect table and the summary name the DiD estimator of effects.primary_method;
    the sensitivity table carries the other estimator's pooled effect on the primary outcome."""
    tables = read_aggregate_tables(TABLES / "default")
    pooled = tables.get("did_pooled").query("outcome == 'employed_1h'").set_index("method")
    for method, other in (("matched", "adjusted"), ("adjusted", "matched")):
        settings = ReportSettings(language="en", synthetic=True, seed=20190501, anchors=ANCHORS, region_pairs=PAIRS,
                                  analysis_settings={"effects": {"primary_method": method}})
        text = json.dumps(report_context(tables, [], settings), ensure_ascii=False, default=str)
        name = {"matched": "matched difference-in-differences",
                "adjusted": "regression-adjusted matched difference-in-differences"}[method]
        assert f"Pooled effect over the follow-up, per outcome ({name})" in text
        assert f"Method: {name}." in text
        label = {"adjusted": "Regression-adjusted DiD (month × covariates)",
                 "matched": "Matched DiD without regression adjustment"}[other]
        assert label in text
        assert f"{float(pooled.loc[other, 'estimate']) * 100:.1f}" in text  # its pooled estimate, in points
