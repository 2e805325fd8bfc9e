"""The OpenAPI description's frame (security, words) and a page of it for people.

The page is rendered on the server from the same description that /api/v1/openapi.json
serves: no script, nothing from a CDN.
"""

from __future__ import annotations

import re

from flask import Blueprint, render_template
from markupsafe import Markup, escape

SPEC_OPTIONS = {
    "info": {
        "description": (
            "JSON for other systems. Every request carries `Authorization: Bearer TOKEN` "
            "(a token from `create-token` or the account page) and acts with that account's "
            "roles: a delegation without a role does not exist (404); a write the role or a "
            "read-only token does not allow is 403. A meeting's `ETag` is its version: "
            "`PATCH`, cancel and restore need it in `If-Match` (428 without, 412 when stale). "
            'Every 4xx answers `{"errors": [{"path", "message"}]}`. '
            "Releases and changes (editors and owners, like the release pages): `POST` a "
            "release with a `reason` while errors are open. A suggestion runs in the "
            "background: `POST` it (202 and a `Location`), poll it until `done`, then apply it."
        )
    },
    "components": {
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
    },
    "security": [{"token": []}],
}

pages = Blueprint("api_docs_page", __name__)


@pages.app_template_filter("code_spans")
def code_spans(text: str | None) -> Markup:
    """The description's `code` as <code>, everything else escaped."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text or ""))))


@pages.get("/api/v1/docs")
def page():
    """Public, like openapi.json: the description of the API holds no delegation's data."""
    from scheduler.web.api import api

    spec = api.spec.to_dict()
    operations = [
        (path, method.upper(), operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "put", "post", "patch", "delete")
    ]
    return render_template("api/docs.html", spec=spec, operations=operations)
