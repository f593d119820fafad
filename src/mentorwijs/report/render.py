"""HTML from the templates, and the PDF laid out by WeasyPrint with the shipped fonts and no
dates (the same input gives the same bytes)."""

from __future__ import annotations

import base64
import contextlib
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from mentorwijs.errors import InputError
from mentorwijs.figures import FigureRecord

#: Fonts embedded in every PDF (files in ``mentorwijs/fonts``): family, weight, file.
#: The figures' SVG text names 'DejaVu Sans' (matplotlib's font): it is served from the same
#: shipped files, never from the system's fonts.
FONTS = tuple((family, weight, filename) for family in ("Mentorwijs Sans", "DejaVu Sans")
              for weight, filename in ((400, "DejaVuSans.ttf"), (700, "DejaVuSans-Bold.ttf")))



def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("mentorwijs", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def figure_sources(figures: Sequence[FigureRecord], directory: str | Path, medium: str) -> dict[str, str]:
    """Figure name -> ``data:`` URI of the file for the medium (PNG for HTML, SVG for PDF)."""
    fmt, mime = ("png", "image/png") if medium == "html" else ("svg", "image/svg+xml")
    out = {}
    for record in figures:
        name = record.files.get(fmt)
        if name is None:
            raise InputError(f"figure {record.name!r} has no {fmt.upper()} file", file=Path(directory) / "figures.json",
                             hint="draw the figures with both formats (png, svg)")
        path = Path(directory) / name
        if not path.is_file():
            raise InputError("figure file is missing", file=path, hint="draw the figures again (rule figures)")
        out[record.name] = data_uri(path.read_bytes(), mime)
    return out


def render_html(template: str, context: Mapping[str, Any], *, medium: str, sources: Mapping[str, str]) -> str:
    """Fill ``template`` (``report.html.j2`` or ``factsheet.html.j2``) for ``medium`` (html or pdf)."""
    if medium not in ("html", "pdf"):
        raise ValueError(f"medium {medium!r} is not html or pdf")
    return _environment().get_template(template).render(**context, medium=medium, sources=sources)


FONT_SCHEME = "mentorwijs-font"


def font_css() -> str:
    """``@font-face`` rules of the shipped fonts, addressed as ``mentorwijs-font:<file>``.

    :func:`render_pdf`'s URL fetcher serves those names from the package; no path of the
    file system ever appears in a stylesheet or in the PDF (fonts are embedded as data).
    """
    return "\n".join(
        f"@font-face {{ font-family: '{family}'; font-weight: {weight}; font-style: normal; "
        f"src: url({FONT_SCHEME}:{filename}) format('truetype'); }}"
        for family, weight, filename in FONTS
    )


def _fetcher():
    """A WeasyPrint URL fetcher for ``data:`` URIs and the shipped fonts, and nothing else."""
    import weasyprint
    from weasyprint.urls import URLFetcherResponse

    class ShippedOnly(weasyprint.URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith(FONT_SCHEME + ":"):
                name = url[len(FONT_SCHEME) + 1:]
                if name not in {f for _, _, f in FONTS}:
                    raise ValueError(f"not a shipped font: {name}")
                data = resources.files("mentorwijs").joinpath("fonts", name).read_bytes()
                return URLFetcherResponse(url, body=data, headers={"Content-Type": "font/ttf"})
            return super().fetch(url, headers)

    return ShippedOnly(allowed_protocols={"data", FONT_SCHEME})


@dataclass(frozen=True)
class RenderedPdf:
    """A rendered PDF: its bytes, its number of pages and the text laid out on each page.

    ``margin_texts``: per page, the text of the page margins (running header, page numbers).
    ``beyond_margin``: every run of text in the page body whose right end lies beyond the text
    block's right edge (into the right margin or off the paper): page (from 1), the text, and by
    how many points it passes the edge. Empty for a document whose tables fit.
    """

    data: bytes
    pages: int
    page_texts: tuple[str, ...] = ()
    margin_texts: tuple[str, ...] = ()
    beyond_margin: tuple[tuple[int, str, float], ...] = ()


def _page_texts(document: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The text of every page as laid out, and of its margin boxes, for checks of what a page shows."""
    from weasyprint.formatting_structure import boxes

    def walk(box: Any) -> Iterator[str]:
        if isinstance(box, boxes.TextBox):
            yield box.text
        for child in getattr(box, "children", ()) or ():
            yield from walk(child)

    pages, margins = [], []
    for page in document.pages:
        root = page._page_box
        pages.append(" ".join(walk(root)))
        margins.append(" ".join(text for child in root.children if isinstance(child, boxes.MarginBox)
                                for text in walk(child)))
    return tuple(pages), tuple(margins)


#: CSS pixels (WeasyPrint's unit of layout) per PDF point.
PX_PER_PT = 96 / 72
#: Overshoot below this many points is rounding, not a word in the margin.
MARGIN_TOLERANCE_PT = 0.5


def _beyond_margin(document: Any) -> tuple[tuple[int, str, float], ...]:
    """Runs of text that pass the right edge of the text block, from the positions WeasyPrint
    laid them out at (the same coordinates it writes into the PDF): page, text, overshoot (pt).

    Text of the page margin boxes (running header, page numbers) is outside the text block by
    design and not checked; text inside figures is part of the SVG image, which the image box
    holds within the block.
    """
    from weasyprint.formatting_structure import boxes

    found = []

    def walk(box: Any, page: int, right: float) -> None:
        if isinstance(box, boxes.MarginBox):
            return
        if isinstance(box, boxes.TextBox) and box.text.strip():
            over = (box.position_x + box.width - right) / PX_PER_PT
            if over > MARGIN_TOLERANCE_PT:
                found.append((page, box.text.strip(), round(over, 1)))
        for child in getattr(box, "children", ()) or ():
            walk(child, page, right)

    for number, page in enumerate(document.pages, start=1):
        root = page._page_box
        walk(root, number, root.content_box_x() + root.width)
    return tuple(found)


def render_pdf(html: str) -> RenderedPdf:
    """Lay out ``html`` as a tagged PDF/UA-1 document with the shipped fonts and no dates.

    No base URL and a fetcher that accepts ``data:`` URIs and the shipped fonts only: nothing
    else is read from the file system and no ``file://`` link can arise. WeasyPrint writes no
    creation date without a ``dcterms.created`` meta element, and no file identifier unless
    asked; fonts are subset deterministically.
    """
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    fetcher = _fetcher()
    fonts = FontConfiguration()
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=fetcher).render(
        stylesheets=[weasyprint.CSS(string=font_css(), font_config=fonts, url_fetcher=fetcher)], font_config=fonts,
    )
    with _fixed_source_date():
        data = document.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=False)
    return RenderedPdf(data, len(document.pages), *_page_texts(document), beyond_margin=_beyond_margin(document))


#: SOURCE_DATE_EPOCH while fonts are subset: 2022-01-01T00:00:00Z, the fixed date of every
#: file the project writes (see mentorwijs.simulate.writers.FIXED_TIMESTAMP).
SOURCE_DATE_EPOCH = "1640995200"


@contextlib.contextmanager
def _fixed_source_date() -> Iterator[None]:
    """Set ``SOURCE_DATE_EPOCH`` for the duration of the block, then restore it.

    Where WeasyPrint subsets fonts with fontTools (no HarfBuzz subsetter on the system),
    fontTools stamps the current time into each embedded font's ``head`` table unless this
    variable is set (the reproducible-builds convention).
    """
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = SOURCE_DATE_EPOCH
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before
