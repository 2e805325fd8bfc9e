"""Bad input stops at the door: one check of every request's address, query and form fields.

A control character or bytes that are not UTF-8 in the path, a query-string key or value, or
a form field (name or value) answer 400 with a message naming the field, before any view or
the database sees them: PostgreSQL refuses NUL in text, a CR/LF in ``next=`` would reach a
``Location`` header, and a key with a control character would break every URL built from it.
Form values may hold tabs and line breaks (textareas); nothing else below U+0020 is text.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from flask import Flask, abort, current_app, request

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def init_app(app: Flask) -> None:
    app.before_request(check_request)


def check_request() -> None:
    if _CONTROL.search(request.path):
        _refuse("The address contains a control character: check the link.")
    limit = current_app.config["QUERY_VALUE_MAX_CHARS"]
    for name, value in _raw_pairs(request.query_string, "query parameter"):
        _check_field(name, value, "query parameter", _CONTROL, limit)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    limit = current_app.config["FORM_FIELD_MAX_CHARS"]
    if request.mimetype == "application/x-www-form-urlencoded":
        # The raw bytes, kept for the form parser: werkzeug would replace bad UTF-8 silently.
        for name, value in _raw_pairs(request.get_data(cache=True), "form field"):
            _check_field(name, value, "form field", _CONTROL_IN_TEXT, limit)
    elif request.mimetype == "multipart/form-data":
        for name, value in request.form.items(multi=True):
            _check_field(name, value, "form field", _CONTROL_IN_TEXT, limit)
        for name, upload in request.files.items(multi=True):
            if upload.filename and _CONTROL.search(upload.filename):
                _refuse(
                    f"The name of the file in the field '{_shown(name)}' has a control character."
                )


def _raw_pairs(data: bytes, kind: str):
    """(name, value) of an urlencoded string, each decoded as UTF-8 or refused naming it."""
    for part in data.split(b"&"):
        if not part:
            continue
        raw_name, _, raw_value = part.partition(b"=")
        name = _decoded(raw_name, kind, None)
        yield name, _decoded(raw_value, kind, name)


def _decoded(raw: bytes, kind: str, name: str | None) -> str:
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        if name is None:
            _refuse(f"A {kind} name is not UTF-8 text.")
        _refuse(f"The {kind} '{_shown(name)}' is not UTF-8 text.")


def _check_field(name: str, value: str, kind: str, control: re.Pattern, limit: int) -> None:
    if _CONTROL.search(name):
        _refuse(f"A {kind} name contains a control character ('{_shown(name)}').")
    if control.search(value):
        _refuse(f"The {kind} '{_shown(name)}' contains a control character.")
    if len(value) > limit:
        _refuse(f"The {kind} '{_shown(name)}' is {len(value):,} characters; at most {limit:,}.")


def _shown(name: str) -> str:
    """The name as a person can read it: control characters escaped, never too long."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", name)
    return text if len(text) <= 60 else text[:57] + "..."


def _refuse(message: str):
    abort(400, description=message)
