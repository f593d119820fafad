"""Report and factsheet on the fixture tables: content, order, languages, pages, tags, no local paths.

PDF rendering is slowish, so each document is rendered once per module: the full report in
Dutch on the default scenario, and the factsheet in both languages for all three scenarios.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser

import pandas as pd
import pytest
import yaml

from conftest import FIXTURES, ROOT
from mentorwijs.aggregates import AggregateTables, read_aggregate_tables
from mentorwijs.errors import InputError
from mentorwijs.figures import draw_figures
from mentorwijs.findings import NO_CLEAR_EFFECT
from mentorwijs.messages import load_messages
from mentorwijs.report import ReportSettings, render_pdf, report_context, write_factsheet, write_report
from support.pdfbytes import inflate, page_count

TABLES = FIXTURES / "tables"
SCENARIOS = ("default", "null", "harmful")
ANCHORS = {"reference_month": -3, "covariate_window_months": 12, "marker_window_months": 24, "panel_first_month": -24,
           "followup_months": 12, "placebo_reference_month": -24, "placebo_post_months": [-23, -15],
           "job_gap_months": 1}
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
    result = write_report(tables, out / "figures", _settings(), html_path=out / "report.html",
                          pdf_path=out / "report.pdf", provenance=PROVENANCE)
    return out, result


@pytest.fixture(scope="module")
def report_en(tmp_path_factory):
    """The English report of the default scenario, HTML and PDF."""
    out = tmp_path_factory.mktemp("report-default-en")
    tables = read_aggregate_tables(TABLES / "default")
    draw_figures(tables, out / "figures", load_messages("en"), synthetic=True, reference_month=-3)
    result = write_report(tables, out / "figures", _settings("en"), html_path=out / "report.html",
                          pdf_path=out / "report.pdf", provenance=PROVENANCE)
    return out, result


@pytest.fixture(scope="module", params=[(s, lang) for s in SCENARIOS for lang in ("nl", "en")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def factsheet(request, tmp_path_factory):
    scenario, language = request.param
    out = tmp_path_factory.mktemp(f"factsheet-{scenario}-{language}")
    tables = read_aggregate_tables(TABLES / scenario)
    draw_figures(tables, out / "figures", load_messages(language), synthetic=True, names=["factsheet"])
    result = write_factsheet(tables, out / "figures", _settings(language), html_path=out / "factsheet.html",
                             pdf_path=out / "factsheet.pdf")
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
    # the non-converged sensitivity model
    assert "Placeboregio's" in text and "convergeerde niet in 100 iteraties" in text
    assert "Onderdrukte cellen" in text and "km.csv" in text  # suppressed cells counted per table
    assert "RINPERSOONS is niet R" in text and "onvolledig (voortgang 40%)" in text  # exclusions by reason, in Dutch
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
    write_factsheet(tables, tmp_path / "figures",
                    _settings("en", full_report="https://example.org/mentorwijs/report.pdf",
                              contact="Research team, mentorwijs@example.org"),
                    html_path=tmp_path / "factsheet.html")
    html = (tmp_path / "factsheet.html").read_text(encoding="utf-8")
    assert '<a href="https://example.org/mentorwijs/report.pdf">' in html and "Contact: Research team" in html


def test_report_context_is_pure_and_needs_no_files():
    tables = read_aggregate_tables(TABLES / "null")
    context = report_context(tables, [], _settings("en"))
    summary = context["sections"][0]["blocks"][1]["items"]
    assert [s.verdict for s in summary[:3]] == [NO_CLEAR_EFFECT] * 3


# ------------------------------------------------------------------------------------ one language, within the page


class _Text(HTMLParser):
    """The text a reader sees in an HTML document, without the content of ``<code>`` (names of
    files and settings, shown as they are typed), and the text of every table cell."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.cells: list[str] = []
        self._skip = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "code", "title"):
            self._skip += 1
        elif tag in ("td", "th"):
            self._cell = []
        self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in ("style", "script", "code", "title"):
            self._skip -= 1
        elif tag in ("td", "th") and self._cell is not None:
            self.cells.append(" ".join("".join(self._cell).split()))
            self._cell = None
        self.parts.append(" ")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)
            if self._cell is not None:
                self._cell.append(data)


def _reader_text(path):
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return " ".join("".join(parser.parts).split()), parser.cells


def _canonical_names() -> set[str]:
    """Names of variables as the code and the tables write them: the backticked names of
    docs/canonical-names.md and the covariates, modifiers and outcomes of config.yaml."""
    names = set(re.findall(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)",
                           (ROOT / "docs" / "canonical-names.md").read_text(encoding="utf-8")))
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    names |= {c["name"] for c in config["matching"]["covariates"]}
    names |= set(config["effects"]["adjusted_covariates"]) | {m["name"] for m in config["effects"]["modifiers"]}
    names |= set(config["supervisors"]["baseline_covariates"]) | set(config["effects"]["outcomes"])
    names |= {f"{c}_T0" for c in config["supervisors"]["constructs"]}
    return {n for n in names if "_" in n}


#: English words that are canonical names of a single word: none belongs in a Dutch document.
ENGLISH_SINGLE_NAMES = ("age", "sex", "education", "knowledge", "intention", "behaviour", "treated", "primary")


def _assert_one_language(path, language):
    text, cells = _reader_text(path)
    names = _canonical_names()
    assert {"years_supervisor", "employer_size", "org_size", "migration_background", "months_worked"} <= names
    # the code itself anywhere; its words (the form a missing label falls back to) anywhere in a
    # Dutch text, and in an English one where a cell starts with them in lower case (a label
    # such as "Employer size" is English)
    found = sorted(n for n in names if re.search(rf"\b{re.escape(n)}\b", text)
                   or (language == "nl"
                       and re.search(rf"\b{re.escape(n.replace('_', ' '))}\b", text, flags=re.IGNORECASE))
                   or any(re.match(rf"{re.escape(n.replace('_', ' '))}\b", c) for c in cells))
    assert found == [], f"{path.name} ({language}) names variables by their code: {found}"
    raw = sorted({c for c in cells if re.fullmatch(r"[^:]+: -?\d+", c) or re.search(r"\b[a-z_]+=[a-z0-9_]+", c)})
    assert raw == [], f"{path.name} ({language}) shows raw codes: {raw[:5]}"
    if language == "nl":
        english = sorted(w for w in ENGLISH_SINGLE_NAMES if re.search(rf"\b{w}\b", text, flags=re.IGNORECASE))
        assert english == [], f"{path.name}: English names in the Dutch text: {english}"


def test_the_dutch_report_names_every_variable_and_category_in_dutch(report):
    out, result = report
    _assert_one_language(out / "report.html", "nl")
    text, cells = _reader_text(out / "report.html")
    # the characteristics of Table 12 and the terms of the Cox models, from the catalogue and codebook
    for label in ("Omvang organisatie: 50 tot 250 medewerkers", "Sector organisatie: overheid", "Jaren leidinggevende",
                  "Kennis op T0", "Migratieachtergrond: tweede generatie", "Opleiding: laag",
                  "Maanden gewerkt (laatste 12)", "Sector: zakelijke dienstverlening"):
        assert label in cells, label


def test_the_english_report_names_every_variable_and_category_in_english(report_en):
    out, result = report_en
    _assert_one_language(out / "report.html", "en")
    _, cells = _reader_text(out / "report.html")
    for label in ("Size of the organisation: 50 to 250 employees", "Sector of the organisation: government",
                  "Years as a supervisor", "Knowledge at T0", "Migration background: second generation",
                  "Education: low"):
        assert label in cells, label


def test_the_factsheet_names_no_variable_by_its_code(factsheet):
    _, language, out, _ = factsheet
    _assert_one_language(out / "factsheet.html", language)


def test_the_scan_finds_codes_where_a_document_shows_them(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<p>years supervisor</p><table><tr><td>Sector: 3</td><td><code>org_size</code></td></tr></table>",
                    encoding="utf-8")
    with pytest.raises(AssertionError, match="years_supervisor"):
        _assert_one_language(page, "nl")
    page.write_text("<table><tr><td>Sector: 3</td><td><code>org_size</code></td></tr></table>", encoding="utf-8")
    with pytest.raises(AssertionError, match="Sector: 3"):
        _assert_one_language(page, "en")


def test_supervisor_answer_codes_carry_the_codebooks_labels_in_both_languages():
    codebook = yaml.safe_load((ROOT / "data" / "codebooks" / "supervisors_study.yaml").read_text(encoding="utf-8"))
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    categorical = [v for v, kind in config["supervisors"]["baseline_covariates"].items() if kind == "categorical"]
    nl, en = load_messages("nl"), load_messages("en")
    checked = 0
    for item in codebook["items"]:
        if item["name"] not in categorical or "labels" not in item:
            continue
        for code, label in item["labels"].items():
            assert nl.category(item["name"], code).casefold() == str(label).casefold(), (item["name"], code)
            assert en.has(f"labels.category_{item['name']}.{code}"), (item["name"], code)
            checked += 1
        assert nl.label("variable", item["name"]) != item["name"].replace("_", " ")
        assert en.label("variable", item["name"]) != item["name"].replace("_", " ")
    assert checked >= 11  # sex, org_size, sector, sheltered_workplace


def test_no_word_of_the_report_passes_the_right_margin(report, report_en):
    for out, result in (report, report_en):
        assert result["pages"] >= 10
        assert result["beyond_margin"] == (), result["beyond_margin"][:5]


def test_no_word_of_the_factsheet_passes_the_right_margin(factsheet):
    _, _, _, result = factsheet
    assert result["pages"] == 2 and result["beyond_margin"] == ()


def test_the_margin_check_finds_a_word_in_the_margin():
    wide = ("<html><body><table><tr><td style='white-space: nowrap'>" + "breed " * 60
            + "einde</td></tr></table></body></html>")
    found = render_pdf(wide).beyond_margin
    assert found and found[0][0] == 1 and found[0][2] > 100 and "einde" in found[0][1]
    assert render_pdf("<html><body><p>" + "smal " * 200 + "</p></body></html>").beyond_margin == ()


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


def _tables_with_caption(context, start: str) -> list[dict]:
    """Every table block of a report context whose caption starts with ``start``."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("kind") == "table" and str(node.get("caption", "")).startswith(start):
                found.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v)

    walk(context)
    return found


def test_the_rmst_table_shows_the_primary_method_and_the_sensitivity_table_the_other():
    """The RMST table holds the rows of effects.primary_method and names it; the sensitivity table
    carries the other estimator's RMST difference of the primary survival outcome, in months."""
    tables = read_aggregate_tables(TABLES / "default")
    rmst = tables.get("rmst").query("outcome == 'job'").set_index("method")
    # the sensitivity analysis "primary" (the matched estimators, as effects.sensitivity lists it)
    sensitivity = tables.get("sensitivity")
    primary = sensitivity[sensitivity["analysis"] == "odds_weights"].assign(analysis="primary")
    tables = AggregateTables({**tables.tables, "sensitivity": pd.concat([primary, sensitivity], ignore_index=True)},
                             tables.missing)
    for method, other in (("matched", "adjusted"), ("adjusted", "matched")):
        settings = ReportSettings(language="en", synthetic=True, seed=20190501, anchors=ANCHORS, region_pairs=PAIRS,
                                  analysis_settings={"effects": {"primary_method": method}})
        context = report_context(tables, [], settings)
        name = {"matched": "matched, area under the Kaplan-Meier curves",
                "adjusted": "regression-adjusted on pseudo-values"}[method]
        (restricted,) = _tables_with_caption(context, "Restricted mean survival time (RMST)")
        assert restricted["caption"] == f"Restricted mean survival time (RMST) ({name})"
        assert len(restricted["rows"]) == 2  # job and work, one estimator
        job = restricted["rows"][0]  # rows in table order: job, then work
        assert job[0] == load_messages("en").label("outcome", "job")
        assert job[4] == f"{float(rmst.loc[method, 'difference']):+.2f}".replace("-", "\u2212")
        (sensitivity,) = _tables_with_caption(context, "Sensitivity analyses")
        label = {"adjusted": "Regression-adjusted RMST (pseudo-values × covariates)",
                 "matched": "Matched RMST without regression adjustment"}[other]
        rows = [r for r in sensitivity["rows"] if r[0] == label]
        assert len(rows) == 1
        assert rows[0][3] == f"{float(rmst.loc[other, 'difference']):+.2f}".replace("-", "\u2212")
        assert rows[0][2] == "Difference in months with the employer (12 months)"
        # "Primary analysis" names the primary method's estimates only: with the adjusted method
        # the matched DiD and RMST rows appear under their own name, the Cox row stays
        estimands = sorted(r[2] for r in sensitivity["rows"] if r[0] == "Primary analysis")
        assert estimands == (["Difference in months with the employer (12 months)", "Hazard ratio (Cox)",
                              "Pooled difference (percentage points)"] if method == "matched"
                             else ["Hazard ratio (Cox)"])


def test_modifier_table_of_the_report_shows_the_primary_methods_rows():
    """The modifiers table holds both DiD estimators; the report's table shows only the rows of
    effects.primary_method (one row per level, its estimate)."""
    tables = read_aggregate_tables(TABLES / "default")
    modifiers = tables.get("modifiers")
    for method in ("matched", "adjusted"):
        settings = ReportSettings(language="en", synthetic=True, seed=20190501, anchors=ANCHORS, region_pairs=PAIRS,
                                  analysis_settings={"effects": {"primary_method": method}})
        section = next(s for s in report_context(tables, [], settings)["sections"] if s["id"] == "modifiers")
        table = next(b for b in section["blocks"] if b["kind"] == "table")
        shown = [r for r in table["rows"] if isinstance(r, list)]
        mine = modifiers[modifiers["method"] == method]
        assert len(shown) == len(mine)
        row = mine[(mine["modifier"] == "employer_size") & (mine["level"] == "large")].iloc[0]
        expected = f"{float(row['estimate']) * 100:.1f}"
        assert [r for r in shown if r[0] == "large"][0][2] == expected
