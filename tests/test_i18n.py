"""Korean and Japanese everywhere people read: complete catalogs, pages without English left.

The catalog's msgids are the English interface strings; a Korean or Japanese page must show
none of them (data such as titles and names aside), and say its language in ``<html lang>``.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from scheduler import i18n
from tests.test_access_web import (  # noqa: F401 (fixture)
    KEY,
    ROLES,
    SPARE,
    VALUES,
    _client,
    accounts,
)

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "scheduler" / "translations"
LANGUAGES = ("ko", "ja")


def _catalog(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


def _ids(catalog) -> set:
    return {m.id for m in catalog if m.id}


# --------------------------------------------------------------------------- the catalogs


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_has_a_translation_none_fuzzy(language):
    catalog = _catalog(language)
    assert len(_ids(catalog)) > 300
    untranslated = [
        m.id
        for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == []
    assert fuzzy == []
    assert not catalog.obsolete


def test_the_catalog_is_up_to_date_with_the_code(tmp_path):
    """Extraction now finds exactly the catalog's messages: nothing new, nothing gone."""
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "lazy_gettext",
            "-k",
            "_l",
            "-o",
            str(pot),
            str(ROOT / "scheduler"),
        ]
    )
    with open(pot, "rb") as f:
        extracted = _ids(read_po(f))
    assert len(extracted) > 300
    for language in LANGUAGES:
        known = _ids(_catalog(language))
        assert sorted(map(str, extracted - known)) == [], f"new messages for {language}"
        assert sorted(map(str, known - extracted)) == [], (
            f"messages gone from the code ({language})"
        )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogs_are_up_to_date_with_the_po_files(language):
    compiled = io.BytesIO()
    write_mo(compiled, _catalog(language))
    shipped = (TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo").read_bytes()
    assert shipped == compiled.getvalue(), "run: pybabel compile -d scheduler/translations"


# --------------------------------------------------------------------------- formatting


def test_dates_and_times_as_each_language_writes_them(app):
    from datetime import date, datetime

    start, end = datetime(2024, 9, 25, 14, 0), datetime(2024, 9, 25, 15, 30)
    seen = {}
    for language in ("en", "ko", "ja"):
        with app.test_request_context(f"/share/x?lang={language}"):
            i18n.use_share_language()
            seen[language] = (
                i18n.format_when(start, end),
                i18n.format_day(start, "long"),
                i18n.format_date_range(date(2024, 9, 25), date(2024, 9, 27)),
                i18n.zone_name("Asia/Tokyo"),
                i18n.name_pair("Kim Min-su", "김민수"),
            )
    assert seen["ja"] == (
        "9月25日(水) 14:00～15:30",
        "2024年9月25日水曜日",
        "2024年9月25日～27日",
        "日本時間",
        "김민수 (Kim Min-su)",
    )
    assert seen["ko"] == (
        "9월 25일 (수) 오후 2:00~3:30",
        "2024년 9월 25일 수요일",
        "2024년 9월 25일~27일",
        "일본 시간",
        "김민수 (Kim Min-su)",
    )
    assert seen["en"] == (
        "Wed 25 Sep 14:00–15:30",
        "Wednesday 25 September 2024",
        "25–27 September 2024",
        "Asia/Tokyo",
        "Kim Min-su (김민수)",
    )


# --------------------------------------------------------------------------- the pages


class _VisibleText(HTMLParser):
    """The text a reader sees (and hears: labels, titles, placeholders), scripts aside."""

    SKIP = {"script", "style", "code"}
    SPOKEN = ("aria-label", "title", "placeholder", "alt")

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.lang: str | None = None
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag in self.SKIP:
            self._skipping += 1
        for name in self.SPOKEN:
            if attrs.get(name):
                self.parts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping and data.strip():
            self.parts.append(data)


def _visible(html: str) -> tuple[str | None, str]:
    parser = _VisibleText()
    parser.feed(html)
    return parser.lang, "\n".join(parser.parts)


def _data_strings(document) -> list[str]:
    """Every string of the reference document: titles, names, notes (data, not interface)."""
    found = []
    if isinstance(document, dict):
        for value in document.values():
            found += _data_strings(value)
    elif isinstance(document, list):
        for value in document:
            found += _data_strings(value)
    elif isinstance(document, str):
        found.append(document)
    return found


_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}|<[^>]+>")


def _english_fragments() -> dict[str, str]:
    """Fragment of English -> the msgid it comes from: the words between placeholders.

    A fragment is left out where the translations use it too (PDF, https, A4) and where it
    has no letters to speak of.
    """
    translated = " ".join(
        " ".join(m.string if isinstance(m.string, tuple) else (m.string,))
        for language in LANGUAGES
        for m in _catalog(language)
        if m.id
    )
    fragments = {}
    for message in _catalog("ko"):
        if not message.id:
            continue
        for msgid in message.id if isinstance(message.id, tuple) else (message.id,):
            for piece in _PLACEHOLDER.split(msgid):
                piece = piece.strip(" .,:;()“”'\"–-")
                if len(re.sub(r"[^A-Za-z]", "", piece)) < 3 or piece in translated:
                    continue
                fragments[piece] = msgid
    return fragments


def _english_left(text: str, data: list[str], fragments: dict[str, str]) -> list[str]:
    for value in sorted(set(data), key=len, reverse=True):
        if len(value) > 1:
            text = text.replace(value, " ")
    left = []
    for piece, msgid in fragments.items():
        if re.search(rf"(?<![A-Za-z]){re.escape(piece)}(?![A-Za-z])", text):
            left.append(f"{piece!r} (from {msgid!r})")
    return left


# A release's review lists conflicts stored as their JSON (no details to word them from):
# their sentences stay English there for now; every other word on the page is checked.
KNOWN_GAPS: set[str] = set()


def _get_pages(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        # The API's own pages are the OpenAPI contract for developers, in English.
        if (
            "GET" in rule.methods
            and rule.endpoint != "static"
            and not rule.rule.startswith("/api/")
        ):
            yield rule


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_reads_in_korean_and_japanese(app, accounts, reference_document, language):  # noqa: F811
    client = _client(app, "admin")
    anonymous = app.test_client()
    fragments = _english_fragments()
    # Data: the document's strings, the other visit, accounts' addresses, zone names.
    data = _data_strings(reference_document) + [
        "Somebody else's visit",
        *(f"{role}@example.org" for role in ROLES),  # owner@example.org is data, not a word
        SPARE,
        "Asia/Tokyo",
        "Asia/Seoul",
        "Delegation scheduler",  # never shown in ko/ja: checked below by its translation
    ]
    data.remove("Delegation scheduler")
    checked, problems = 0, {}
    for rule in _get_pages(app):
        url = rule.build({k: accounts[k] for k in rule.arguments}, append_unknown=False)[1]
        share = rule.endpoint.startswith("share.") and "token" in rule.arguments
        who = anonymous if share or rule.endpoint == "auth.login" else client
        if share:
            response = who.get(f"{url}?lang={language}")
        else:
            response = who.get(url, headers={"Accept-Language": f"{language},en;q=0.5"})
        if response.mimetype != "text/html" or response.status_code != 200:
            continue
        lang, text = _visible(response.get_data(as_text=True))
        checked += 1
        found = _english_left(text, data, fragments)
        if lang != language:
            found.append(f"<html lang={lang!r}>")
        if rule.endpoint in KNOWN_GAPS:
            found = [f for f in found if "%(" not in f]  # conflict sentences, see above
        if found:
            problems[url] = found
    # An error page too, in both doors' languages.
    missing = client.get(f"/delegations/{KEY}/meetings/nope", headers={"Accept-Language": language})
    lang, text = _visible(missing.get_data(as_text=True))
    assert missing.status_code == 404 and lang == language
    assert _english_left(text, data, fragments) == []
    assert checked >= 20
    assert problems == {}


def test_share_pages_follow_lang_then_the_person_then_the_browser(app, accounts):  # noqa: F811
    from sqlalchemy import select

    from scheduler.extensions import db
    from scheduler.models import Person

    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.key == VALUES["person_key"]))
        person.language = "ja"
        token = person.share_token
        db.session.commit()
    client = app.test_client()

    def lang_of(url, **headers):
        return _visible(client.get(url, headers=headers).get_data(as_text=True))[0]

    assert lang_of(f"/share/{token}", **{"Accept-Language": "ko"}) == "ja"  # the person's
    assert lang_of(f"/share/{token}?lang=ko") == "ko"  # ?lang= first
    assert lang_of(f"/share/{token}?lang=xx", **{"Accept-Language": "ko"}) == "ja"
    delegation = accounts["token"]  # the whole delegation: no person, so the browser's
    assert lang_of(f"/share/{delegation}", **{"Accept-Language": "ko"}) == "ko"
    assert lang_of(f"/share/{delegation}") == "en"
    page = client.get(f"/share/{delegation}?lang=ja").get_data(as_text=True)
    assert 'href="?lang=ko"' in page and 'href="?lang=en"' in page  # the switcher
    assert "日本語" in page and "한국어" in page
    agenda = client.get(f"/share/{token}/agenda").get_data(as_text=True)
    assert '<html lang="ja">' in agenda and "連絡先" in agenda


def test_coordinator_pages_follow_the_browser_then_english(app, accounts):  # noqa: F811
    client = _client(app, "admin")
    ko = client.get("/delegations", headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    assert '<html lang="ko">' in ko.get_data(as_text=True)
    assert "방문단" in ko.get_data(as_text=True)
    en = client.get("/delegations", headers={"Accept-Language": "fr"})
    assert '<html lang="en">' in en.get_data(as_text=True)


def test_conflict_messages_are_made_in_the_readers_language_and_check_json_stays_english(
    app,
    accounts,  # noqa: F811
):
    client = _client(app, "admin")
    ja = client.get(f"/delegations/{KEY}/conflicts", headers={"Accept-Language": "ja"})
    en = client.get(f"/delegations/{KEY}/conflicts", headers={"Accept-Language": "en"})
    ja_text, en_text = (
        _visible(ja.get_data(as_text=True))[1],
        _visible(en.get_data(as_text=True))[1],
    )
    assert "No conflicts" not in en_text  # the reference visit has travel-time errors
    assert "予定の競合" in ja_text
    runner = app.test_cli_runner()
    result = runner.invoke(args=["check", KEY, "--json"], env={"LANG": "ja_JP.UTF-8"})
    assert "予定" not in result.output


# --------------------------------------------------------------------------- the PDF

PDF_WORDS = {
    "ko": ("일정표", "연락처", "장소", "2024년 9월 25일 수요일", "오후"),
    "ja": ("日程表", "連絡先", "会場", "2024年9月25日水曜日", "14:00～"),
}


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_reference_agenda_pdf_in_korean_and_japanese(app, accounts, language, tmp_path):  # noqa: F811
    import pypdf

    client, url = app.test_client(), f"/share/{accounts['token']}/agenda.pdf?lang={language}"
    response = client.get(url)
    if response.status_code == 202:  # the "being prepared" page; the job ran after it
        response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for word in PDF_WORDS[language]:
        assert word in text, word
    for english in ("Contacts", "Venue", "All times are local time", "At a glance"):
        assert english not in text
    (tmp_path / f"agenda-{language}.pdf").write_bytes(response.data)
    english = app.test_client().get(f"/share/{accounts['token']}/agenda.pdf?lang=en")
    assert english.data != response.data  # the cache keeps one copy per language
