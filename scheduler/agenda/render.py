"""The agenda as HTML (the share page, the coordinator page) and as PDF, from one template.

The PDF is WeasyPrint over the same HTML with the print rules of ``agenda.css``; the page
size comes from a one-line stylesheet added per paper. The fonts are the package's own
(Noto Sans KR and JP under ``static/vendor/fonts``, see ``fonts.py``), given by
``@font-face``: the screen page links the WOFF2 rules, the PDF the WOFF ones (WeasyPrint
decodes those fast), and WeasyPrint embeds them whatever the system's fontconfig has. Nothing
is fetched from the network: the only resources WeasyPrint may open are files in the static
folder.

Needs an application context (for the templates), never a request.
"""

from __future__ import annotations

import re
import threading
from datetime import date
from functools import cache
from importlib.resources import files
from pathlib import Path
from urllib.parse import unquote, urlsplit

import weasyprint.css
from flask import render_template
from flask_babel import gettext
from weasyprint import CSS, HTML, Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetchingError

from scheduler import i18n
from scheduler.agenda.assemble import Agenda, PersonLine
from scheduler.agenda.fonts import FontReport
from scheduler.itinerary.memory import cycle_collection_paused

STATIC_DIR = (Path(__file__).resolve().parent.parent / "static").resolve()
STYLESHEET = "agenda.css"
FONTS_STYLESHEET = "vendor/fonts/fonts.css"  # for browsers; static-relative like STYLESHEET
PDF_FONTS_STYLESHEET = "vendor/fonts/fonts-pdf.css"  # for WeasyPrint
TEMPLATE = "agenda/agenda.html"

PAPER_SIZES = {"a4": "A4", "letter": "letter"}
DEFAULT_PAPER = "a4"


class PaperError(ValueError):
    """A paper size we do not print on."""


def paper_size(paper: str | None) -> str:
    """The paper key for a ``?paper=`` value: ``a4`` (the default) or ``letter``."""
    if paper is None or paper == "":
        return DEFAULT_PAPER
    key = paper.strip().lower()
    if key not in PAPER_SIZES:
        raise PaperError(f"paper must be one of {', '.join(PAPER_SIZES)}, not {paper!r}")
    return key


class LocalFilesOnly(URLFetcher):
    """Lets WeasyPrint read files under one folder and nothing else: no network, no /etc."""

    def __init__(self, root: Path = STATIC_DIR):
        super().__init__(allowed_protocols=("file",))
        self.root = root.resolve()
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        path = None
        if url.startswith("file://"):
            path = Path(unquote(urlsplit(url).path)).resolve()
        if path is None or not path.is_relative_to(self.root) or not path.is_file():
            self.refused.append(url)
            raise URLFetchingError(f"the agenda may only read files in {self.root}, not {url}")
        return super().fetch(url, headers)


def date_range(start: date, end: date) -> str:
    """25–27 September 2024; 2024年9月25日～27日; 2024년 9월 25일~27일."""
    return i18n.format_date_range(start, end)


def long_date(day: date) -> str:
    """Wednesday 25 September 2024; 2024年9月25日水曜日; 2024년 9월 25일 수요일."""
    return i18n.format_day(day, "long")


def version_line(agenda: Agenda) -> str:
    """Version 7, as of 25 Sep 2024 14:00 JST, in the reader's language."""
    as_of = agenda.as_of
    return gettext(
        "Version %(revision)d, as of %(when)s %(zone)s",
        revision=agenda.revision,
        when=f"{i18n.format_day(as_of, 'date')} {i18n.format_clock(as_of)}",
        zone=as_of.strftime("%Z"),
    )


def page_footer_css() -> str:
    """The printed page number in the reader's words: Page 2 of 4; 2 / 4쪽; 2 / 4ページ."""
    words = gettext("Page %(page)s of %(pages)s", page="\0page\0", pages="\0pages\0")
    parts = []
    for piece in words.split("\0"):
        if piece in ("page", "pages"):
            parts.append(f"counter({piece})")
        elif piece:
            parts.append('"' + re.sub(r'[\\"<>]', "", piece) + '"')
    return "@page { @bottom-right { content: " + " ".join(parts) + "; } }"


def pdf_line_language(person: PersonLine) -> str | None:
    """The one language of a printed attendee line's native names, if it needs saying.

    Only the shapes of Han glyphs depend on it, and the PDF's fonts are Korean-first: so
    Japanese or Chinese, when every native name on the line is in it. Set on the line, it
    spares WeasyPrint a span per name (the Latin text is drawn the same in either face).
    """
    languages = {
        n.lang for n in (person.name, person.organization) if n is not None and n.native and n.lang
    }
    if len(languages) == 1 and languages != {"ko"}:
        return languages.pop()
    return None


def render_agenda_html(
    agenda: Agenda,
    *,
    stylesheet_href: str,
    fonts_href: str | None = None,
    links: dict[str, str] | None = None,
    for_pdf: bool = False,
    font_problems: FontReport | None = None,
) -> str:
    """The agenda page. ``links`` are the screen-only actions (PDF downloads, spreadsheet).

    ``fonts_href`` defaults to the font stylesheet beside ``agenda.css`` (relative, as the
    PDF's base URL is the static folder). ``font_problems``, a font check that found
    characters the vendored fonts cannot draw, is shown to coordinators as a warning.
    """
    if fonts_href is None:
        fonts_href = PDF_FONTS_STYLESHEET if for_pdf else FONTS_STYLESHEET
    return render_template(
        TEMPLATE,
        agenda=agenda,
        stylesheet_href=stylesheet_href,
        fonts_href=fonts_href,
        font_problems=font_problems if font_problems is not None and not font_problems.ok else None,
        links=links or {},
        for_pdf=for_pdf,
        date_range=date_range,
        long_date=long_date,
        version_line=version_line,
        page_footer_css=page_footer_css() if for_pdf else None,
        native_first=i18n.current_language() != i18n.DEFAULT,
        pdf_line_language=pdf_line_language,
    )


# WeasyPrint's user-agent stylesheet gives every element five footnote and note
# pseudo-elements (``::footnote-call { ... }`` matches any element). WeasyPrint computes a
# style for each, for thousands of elements: an eighth of a 100-page agenda's time. The
# agenda has no footnotes, so it is laid out with the stock sheet minus those rules.
_NOTE_RULE = re.compile(r"^::(?:footnote|note)-[a-z]+ \{[^}\n]*\}\n", re.MULTILINE)


def lean_user_agent_css(stock: str) -> str:
    """WeasyPrint's user-agent CSS without the footnote and note pseudo-element rules."""
    return _NOTE_RULE.sub("", stock)


@cache
def _user_agent_stylesheet() -> CSS | None:
    stock = (files(weasyprint.css) / "html5_ua.css").read_text("utf-8")
    lean = lean_user_agent_css(stock)
    if lean == stock:  # a WeasyPrint that words them differently: keep its own sheet
        return None
    return CSS(string=lean)


class AgendaHTML(HTML):
    """WeasyPrint's HTML, laid out with the lean user-agent stylesheet (same look)."""

    def _ua_stylesheets(self, forms=False):
        sheets = super()._ua_stylesheets(forms)
        lean = _user_agent_stylesheet()
        if lean is None or not sheets:
            return sheets
        return [lean, *sheets[1:]]


_font_config: FontConfiguration | None = None


def _fonts() -> FontConfiguration:
    """One fontconfig set-up per process: building it scans the system fonts."""
    global _font_config
    if _font_config is None:
        _font_config = FontConfiguration()
    return _font_config


def layout_agenda(agenda: Agenda, *, paper: str = DEFAULT_PAPER) -> Document:
    """The agenda laid out in pages (WeasyPrint's document), before it is written as PDF."""
    size = PAPER_SIZES[paper_size(paper)]
    html = render_agenda_html(agenda, stylesheet_href=STYLESHEET, for_pdf=True)
    fetcher = LocalFilesOnly()
    fonts = _fonts()
    source = AgendaHTML(string=html, base_url=f"{STATIC_DIR.as_uri()}/", url_fetcher=fetcher)
    page = CSS(string=f"@page {{ size: {size}; }}", font_config=fonts, url_fetcher=fetcher)
    return source.render(stylesheets=[page], font_config=fonts)


class RenderCounter:
    """How many PDFs this process has laid out: lets tests and the benchmark see cache hits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self) -> None:
        with self._lock:
            self.count += 1


pdf_renders = RenderCounter()


def render_agenda_pdf(agenda: Agenda, *, paper: str = DEFAULT_PAPER) -> bytes:
    """The agenda as a PDF on A4 or US Letter, fonts embedded.

    WeasyPrint allocates millions of objects laying out a 100-page agenda and the cycle
    collector walks them over and over: a third of the layout time (5.6 s -> 3.9 s for the
    300-meeting bench), for about 100 MiB more at the peak while it is paused.
    """
    with cycle_collection_paused():
        pdf = layout_agenda(agenda, paper=paper).write_pdf()
    pdf_renders.add()
    return pdf
