"""Languages: English, Korean and Japanese, chosen as the spec says; words made at the edge.

A coordinator's pages follow the account's language, else ``Accept-Language``, else English.
Pages behind a share link follow ``?lang=``, else the person's ``language``, else
``Accept-Language``, else English: a share view says so with ``use_share_language(person)``.
"""

from __future__ import annotations

import os

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

        chosen = getattr(current_user, "language", None) if current_user else None
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
