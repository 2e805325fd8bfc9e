"""The agenda PDF: read back with pypdf, as an attendee's phone or printer would read it."""

from __future__ import annotations

import gc
import io

import pytest
import weasyprint.html
from pypdf import PdfReader

from scheduler.agenda.assemble import build_agenda
from scheduler.agenda.render import (
    STATIC_DIR,
    AgendaHTML,
    LocalFilesOnly,
    _user_agent_stylesheet,
    layout_agenda,
    lean_user_agent_css,
)
from scheduler.extensions import db
from scheduler.itinerary.conflicts import check_delegation
from scheduler.itinerary.document import load_delegation
from scheduler.itinerary.memory import cycle_collection_paused
from tests.conftest import fetch_pdf, minimal_document
from tests.test_agenda import (
    KEY,
    NATIVE_NAMES,
    NOTES,
    share_token,
    titles_attended_by,
    with_cancelled_meeting,
)

A4 = (595.28, 841.89)
LETTER = (612.0, 792.0)


def pdf_text(data: bytes) -> str:
    """All the text of the PDF with line breaks folded, so a wrapped title still matches."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def folded(text: str) -> str:
    return " ".join(text.split())


def page_sizes(data: bytes) -> set[tuple[float, float]]:
    reader = PdfReader(io.BytesIO(data))
    return {
        (round(float(p.mediabox.width), 2), round(float(p.mediabox.height), 2))
        for p in reader.pages
    }


def embedded_fonts(data: bytes) -> set[str]:
    """Base names of the fonts whose program is embedded in the file."""
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0].get_object() if descendants else font)["/FontDescriptor"]
            descriptor = descriptor.get_object()
            if any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                names.add(str(font["/BaseFont"]).split("+", 1)[-1])
    return names


@pytest.mark.parametrize("person", ["lim", "yoon", "nakamura", "interp-kim"])
def test_person_pdf_has_every_meeting_they_attend_and_none_other(
    app, client, load_document, reference_document, person
):
    document = with_cancelled_meeting(reference_document)
    load_document(document)
    response = fetch_pdf(client, f"/share/{share_token(app, person)}/agenda.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    shown, hidden = titles_attended_by(document, person)
    assert shown
    for title in shown:
        assert folded(title) in text
    for title in hidden:
        assert folded(title) not in text
    for note in NOTES:
        assert note not in text


def test_delegation_pdf_has_the_korean_and_japanese_names_and_no_notes(
    app, client, load_document, reference_document
):
    load_document(with_cancelled_meeting(reference_document))
    response = fetch_pdf(client, f"/share/{share_token(app)}/agenda.pdf")
    text = pdf_text(response.data)
    shown, _ = titles_attended_by(reference_document, None)
    for title in shown:
        assert folded(title) in text
    for name in NATIVE_NAMES:
        assert name in text, name
    for note in NOTES:
        assert note not in text
    assert "Dinner with the prefectural governor" not in text
    assert "Contacts" in text and "Page 1 of" in text


def test_pdf_embeds_the_vendored_noto_fonts(app, client, load_document, reference_document):
    load_document(reference_document)
    fonts = embedded_fonts(fetch_pdf(client, f"/share/{share_token(app)}/agenda.pdf").data)
    # Korean names in the Korean face, Japanese ones in the Japanese face: the package's own
    # files (static/vendor/fonts), not the system's Noto CJK, even where it is installed.
    assert {"Noto-Sans-KR", "Noto-Sans-JP"} <= fonts, fonts
    assert not any("CJK" in name for name in fonts), fonts


@pytest.mark.parametrize(("paper", "size"), [(None, A4), ("a4", A4), ("letter", LETTER)])
def test_pdf_paper_sizes(app, client, load_document, reference_document, paper, size):
    load_document(reference_document)
    query = f"?paper={paper}" if paper else ""
    response = fetch_pdf(client, f"/share/{share_token(app, 'lim')}/agenda.pdf{query}")
    assert page_sizes(response.data) == {size}
    expected = paper or "a4"
    assert f"-{expected}.pdf" in response.headers["Content-Disposition"]


def test_coordinator_pdf_adds_notes_and_needs_sign_in(
    app, client, login, load_document, reference_document
):
    load_document(reference_document)
    response = fetch_pdf(client, f"/delegations/{KEY}/agenda.pdf?paper=letter")
    assert response.status_code == 200 and page_sizes(response.data) == {LETTER}
    text = pdf_text(response.data)
    for note in NOTES:
        assert note in text
    assert "Coordinator copy" in text
    with app.app_context():
        conflicts = check_delegation(db.session, load_delegation(db.session, KEY))
    assert conflicts
    for conflict in conflicts:
        assert folded(conflict.message) in text
    shared = pdf_text(fetch_pdf(client, f"/share/{share_token(app)}/agenda.pdf").data)
    assert "needs 80 min" in text and "needs 80 min" not in shared
    stranger = app.test_client()
    assert fetch_pdf(stranger, f"/delegations/{KEY}/agenda.pdf").status_code == 302


def _boxes(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from _boxes(child)


def _classes(box) -> set[str]:
    element = getattr(box, "element", None)
    if element is None or "::" in box.element_tag:  # a ::marker or ::before, not the element
        return set()
    return set((element.get("class") or "").split())


def _many_days_of_uneven_meetings() -> dict:
    """Twenty days of two to five meetings of uneven length: day headings land all over the page."""
    document = minimal_document(key="long-visit", start_date="2024-09-01", end_date="2024-09-20")
    document["venues"] = [{"key": "v", "name": "Venue", "timezone": "Asia/Tokyo"}]
    n = 0
    for day in range(1, 21):
        for slot in range(2 + day % 4):
            n += 1
            document["meetings"].append(
                {
                    "key": f"m{n}",
                    "title": f"Meeting {n}",
                    "start": f"2024-09-{day:02d}T{9 + slot:02d}:00",
                    "end": f"2024-09-{day:02d}T{9 + slot:02d}:45",
                    "venue": "v",
                    "agenda": " ".join(["Discussion of the next steps."] * (1 + (n * 7) % 9)),
                }
            )
    return document


def test_no_day_heading_is_left_alone_at_the_foot_of_a_page(app, load_document):
    """Every page that shows a day heading shows that day's first meeting after it."""
    load_document(_many_days_of_uneven_meetings())
    with app.app_context():
        agenda = build_agenda(load_delegation(db.session, "long-visit"))
        document = layout_agenda(agenda, paper="a4")
    headings_seen = 0
    for number, page in enumerate(document.pages, start=1):
        order: list[tuple[str, object]] = []
        for box in _boxes(page._page_box):
            classes = _classes(box)
            kind = (
                "heading"
                if "day-heading" in classes
                else "meeting"
                if "meeting" in classes
                else None
            )
            if kind and all(element is not box.element for _, element in order):
                order.append((kind, box.element))
        for index, (kind, _) in enumerate(order):
            if kind == "heading":
                headings_seen += 1
                follows = order[index + 1][0] if index + 1 < len(order) else None
                assert follows == "meeting", f"a day heading is alone at the foot of page {number}"
    assert headings_seen == len(agenda.days) == 20


def test_weasyprint_may_read_only_the_static_folder():
    fetcher = LocalFilesOnly()
    stylesheet = fetcher.fetch((STATIC_DIR / "agenda.css").as_uri())
    assert b"@page" in stylesheet.read()
    stylesheet.close()
    for url in (
        "http://example.org/track.css",
        "https://fonts.googleapis.com/css2?family=Noto+Sans",
        "file:///etc/passwd",
        (STATIC_DIR / ".." / "__init__.py").as_uri(),
    ):
        with pytest.raises(Exception, match="may only read files"):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 4


def test_lean_user_agent_stylesheet_drops_only_the_note_pseudo_elements():
    """If a WeasyPrint upgrade words these rules differently, the speed-up is gone: say so."""
    stock = weasyprint.html.UA
    removed = set(stock.splitlines()) - set(lean_user_agent_css(stock).splitlines())
    assert len(removed) == 5
    assert all(line.startswith(("::footnote-", "::note-")) for line in removed), removed
    assert len(stock.splitlines()) - len(lean_user_agent_css(stock).splitlines()) == 5
    sheets = AgendaHTML(string="<p>x</p>")._ua_stylesheets()
    assert sheets == [_user_agent_stylesheet()]
    assert AgendaHTML(string="<p>x</p>")._ua_stylesheets(forms=True)[1:] == [
        weasyprint.html.UA_FORM_STYLESHEET
    ]


def test_the_collector_is_paused_only_while_rendering_and_restored_after_errors():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), cycle_collection_paused():
        assert not gc.isenabled()
        raise RuntimeError("layout failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with cycle_collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # it was off before: left off
    finally:
        gc.enable()


def test_the_reference_visit_prints_on_at_most_three_pages_with_the_cover_on_the_first(
    app, load_document, reference_document
):
    """Paper layout (issue 18): the cover shares its page with the first day; days flow on."""
    load_document(reference_document)
    with app.app_context():
        agenda = build_agenda(load_delegation(db.session, KEY))
        document = layout_agenda(agenda, paper="a4")
    assert len(document.pages) <= 3
    first_page = {c for box in _boxes(document.pages[0]._page_box) for c in _classes(box)}
    assert {"cover", "day-heading", "meeting"} <= first_page
