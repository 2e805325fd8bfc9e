"""Languages: English, Korean and Japanese, chosen as the spec says; words made at the edge.

A coordinator's pages follow the account's language, else ``Accept-Language``, else English.
Pages behind a share link follow ``?lang=``, else the person's ``language``, else
``Accept-Language``, else English: a share view says so with ``use_share_language(person)``.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time
from functools import lru_cache

from flask import Flask, g, has_request_context, request

LANGUAGES = ("en", "ko", "ja")
DEFAULT = "en"


def select_locale() -> str:
    if not has_request_context():
        return getattr(g, "language", None) or DEFAULT
    forced = getattr(g, "language", None)
    if forced:
        return forced
    if getattr(g, "share_page", False):
        asked = request.args.get("lang")
        if asked in LANGUAGES:
            return asked
        person_language = getattr(g, "share_person_language", None)
        if person_language in LANGUAGES:
            return person_language
    else:
        from flask_login import current_user

        chosen = None
        if not g.get("database_unavailable"):
            # The account is loaded from the database; an error page rendered while the
            # database is down must not fail on it (it then follows the browser's language).
            from sqlalchemy.exc import SQLAlchemyError

            try:
                chosen = getattr(current_user, "language", None) if current_user else None
            except SQLAlchemyError:
                from scheduler.extensions import db

                db.session.rollback()
                g.database_unavailable = True
        if chosen in LANGUAGES:
            return chosen
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT


def use_share_language(person=None) -> None:
    """Behind a share link: ?lang=, then the person's language, then the browser's."""
    g.share_page = True
    g.share_person_language = getattr(person, "language", None) if person is not None else None


def init_app(app: Flask, babel) -> None:
    app.config.setdefault(
        "BABEL_TRANSLATION_DIRECTORIES", os.path.join(os.path.dirname(__file__), "translations")
    )
    babel.init_app(app, locale_selector=select_locale)
    register_template_helpers(app)


# --------------------------------------------------------------------------- formatting
#
# Dates, times, ranges, zones and names as each language writes them, from Babel's CLDR data:
# 9月25日(水) 14:00～15:30, 9월 25일 (수) 오후 2:00~3:30. English keeps the site's own day-month
# forms (Wed 25 Sep 2024, 14:00–15:30). The one place pages, agenda and PDF take them from.
# Results are cached per language and value: a programme repeats the same times and days, and
# Babel's pattern formatting is the costly part of a localised page.

_DATE_FORMS = {
    # form: (English pattern, CLDR skeleton or named format for Korean and Japanese)
    "long": ("EEEE d MMMM y", "full"),  # Wednesday 25 September 2024 / 2024年9月25日水曜日
    "day": ("EEE d MMM", "MMMEd"),  # Wed 25 Sep / 9月25日(水) / 9월 25일 (수)
    "weekday_date": ("EEE dd MMM y", "yMMMEd"),  # Wed 25 Sep 2024 / 2024年9月25日(水)
    "date": ("dd MMM y", "yMMMd"),  # 25 Sep 2024 / 2024年9月25日
    "month_day": ("dd MMM", "MMMd"),  # 25 Sep / 9月25日
    "weekday": ("EEE", "ccc"),  # Wed / 水 / 수
}


def current_language() -> str:
    """en, ko or ja: the request's language (or the one forced with ``g.language``)."""
    from flask_babel import get_locale

    try:
        locale = get_locale()
    except RuntimeError:  # no application context: the CLI, plain tests
        return DEFAULT
    return locale.language if locale is not None and locale.language in LANGUAGES else DEFAULT


def _english_locale():
    from babel import Locale

    return Locale("en", "GB")  # day before month, 24-hour clock: the site's English


@lru_cache(maxsize=8192)
def _format_date(language: str, value: date, form: str) -> str:
    from babel.dates import format_date as babel_date
    from babel.dates import format_skeleton

    english, cjk = _DATE_FORMS[form]
    if language == DEFAULT:
        # "Sep", not CLDR en-GB's "Sept": the abbreviations the site has always printed.
        return babel_date(value, english, locale="en_US" if "MMM" in english else _english_locale())
    if cjk in ("full", "long", "medium", "short"):
        return babel_date(value, cjk, locale=language)
    return format_skeleton(cjk, value, locale=language)


def format_day(value: date | datetime, form: str = "weekday_date") -> str:
    """A date in the reader's language; ``form`` is one of ``_DATE_FORMS``."""
    if isinstance(value, datetime):
        value = value.date()
    return _format_date(current_language(), value, form)


@lru_cache(maxsize=8192)
def _format_clock(language: str, hour: int, minute: int) -> str:
    if language == "ko":
        from babel.dates import format_time as babel_time

        return babel_time(time(hour, minute), "a h:mm", locale="ko")  # 오후 2:00
    return f"{hour:02d}:{minute:02d}"


def format_clock(value: datetime | time) -> str:
    """A wall-clock time: 14:00; 오후 2:00 in Korean."""
    return _format_clock(current_language(), value.hour, value.minute)


@lru_cache(maxsize=16384)
def _format_clock_range(language: str, start: tuple[int, int], end: tuple[int, int]) -> str:
    if language == "ko":
        from babel.dates import format_interval

        return format_interval(time(*start), time(*end), "hm", locale="ko")  # 오후 2:00~3:30
    separator = "～" if language == "ja" else "\u2013"
    return f"{start[0]:02d}:{start[1]:02d}{separator}{end[0]:02d}:{end[1]:02d}"


def format_clock_range(start: datetime | time, end: datetime | time) -> str:
    """14:00–15:30; 14:00～15:30; 오후 2:00~3:30."""
    return _format_clock_range(
        current_language(), (start.hour, start.minute), (end.hour, end.minute)
    )


@lru_cache(maxsize=16384)
def _clock_range_parts(language: str, start: tuple[int, int], end: tuple[int, int]):
    first, last = _format_clock(language, *start), _format_clock(language, *end)
    if language == "ko":
        if (start[0] < 12) == (end[0] < 12):  # 오후 2:00~3:30: the period said once
            last = last.split(" ", 1)[-1]
        return first, "~", last
    return first, "～" if language == "ja" else "\u2013", last


def clock_range_parts(start: datetime | time, end: datetime | time) -> tuple[str, str, str]:
    """(start, separator, end) of ``format_clock_range``, for markup around each time."""
    return _clock_range_parts(
        current_language(), (start.hour, start.minute), (end.hour, end.minute)
    )


def format_when(start: datetime, end: datetime) -> str:
    """A meeting's day and times: 9月25日(水) 14:00～15:30; across midnight both days."""
    if start.date() == end.date():
        return f"{format_day(start, 'day')} {format_clock_range(start, end)}"
    dash = {"ja": "～", "ko": "~"}.get(current_language(), " \u2013 ")
    first = f"{format_day(start, 'day')} {format_clock(start)}"
    return f"{first}{dash}{format_day(end, 'day')} {format_clock(end)}"


@lru_cache(maxsize=1024)
def _format_date_range(language: str, start: date, end: date) -> str:
    if language == DEFAULT:
        if start == end:
            return f"{start.day} {start:%B %Y}"
        if (start.year, start.month) == (end.year, end.month):
            return f"{start.day}\u2013{end.day} {end:%B %Y}"
        if start.year == end.year:
            return f"{start.day} {start:%B} \u2013 {end.day} {end:%B %Y}"
        return f"{start.day} {start:%B %Y} \u2013 {end.day} {end:%B %Y}"
    from babel.dates import format_interval

    return format_interval(start, end, "yMMMd", locale=language)


def format_date_range(start: date, end: date) -> str:
    """25–27 September 2024; 2024年9月25日～27日; 2024년 9월 25일~27일."""
    return _format_date_range(current_language(), start, end)


@lru_cache(maxsize=256)
def _zone_name(language: str, zone: str) -> str:
    if language == DEFAULT:
        return zone
    from babel.dates import get_timezone_location

    try:
        return get_timezone_location(zone, locale=language)  # 日本時間, 한국 시간
    except (LookupError, ValueError):
        return zone


def zone_name(zone: str) -> str:
    """An IANA zone as the reader says it: Asia/Tokyo in English, 日本時間, 일본 시간."""
    return _zone_name(current_language(), zone)


@lru_cache(maxsize=1024)
def _language_name(language: str, code: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(language).languages.get(code.split("-")[0], code)
    except (ValueError, UnknownLocaleError):
        return code


def language_name(code: str) -> str:
    """A language code as the reader names it: Korean, 韓国語, 한국어 for ko."""
    return _language_name(current_language(), code)


def format_timestamp(value: datetime) -> str:
    """A moment with its date: Wed 25 Sep 2024, 14:00 / 2024年9月25日(水) 14:00."""
    return f"{format_day(value, 'weekday_date')} {format_clock(value)}"


def name_pair(latin: str | None, native: str | None) -> str:
    """A name as the reader expects it: Korean and Japanese pages put the native name first."""
    if not native:
        return latin or ""
    if not latin:
        return native
    if current_language() == DEFAULT:
        return f"{latin} ({native})"
    return f"{native} ({latin})"


def display_name(thing) -> str:
    """``name_pair`` of anything with ``name`` and ``native_name`` (person, venue, delegation)."""
    return name_pair(getattr(thing, "name", None), getattr(thing, "native_name", None))


def local_name(thing) -> str:
    """The Latin name alone on English pages; on Korean and Japanese ones the native name
    first: 湘南ヘルスイノベーションパーク (Shonan Health Innovation Park)."""
    latin = getattr(thing, "name", None)
    if current_language() == DEFAULT:
        return latin or ""
    return name_pair(latin, getattr(thing, "native_name", None))


def register_template_helpers(app: Flask) -> None:
    for function in (
        format_clock,
        format_clock_range,
        clock_range_parts,
        format_when,
        format_date_range,
    ):
        app.add_template_global(function)
    app.add_template_global(current_language)
    app.add_template_global(name_pair)
    app.add_template_filter(format_day, "day")
    app.add_template_filter(format_clock, "clock")
    app.add_template_filter(format_timestamp, "timestamp")
    app.add_template_filter(zone_name, "zone")
    app.add_template_filter(display_name, "display_name")
    app.add_template_filter(local_name, "local_name")
