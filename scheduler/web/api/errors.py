"""Every answer under /api that is not a success: ``{"errors": [{"path", "message"}]}``."""

from __future__ import annotations

import math
import time

from flask import jsonify
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: "the request could not be understood",
    401: "send a valid API token: Authorization: Bearer TOKEN",
    403: "this token may not do that",
    404: "no such resource",
    405: "this resource does not answer that method",
    406: "this resource answers application/json",
    409: "that conflicts with what exists",
    412: "the resource changed since that ETag: fetch it again and retry",
    413: "the request body is too large",
    415: "send the body as application/json",
    422: "the input is not valid",
    428: "send If-Match with the ETag of the version you are changing",
    429: "too many requests for this token: wait and retry",
}


def error_body(problems: list[tuple[str, str]]) -> dict:
    return {"errors": [{"path": path, "message": message} for path, message in problems]}


def api_error(status: int, problems: list[tuple[str, str]] | None = None, headers=None):
    response = jsonify(error_body(problems or [("$", MESSAGES.get(status, "error"))]))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _flatten(messages, path: str = "") -> list[tuple[str, str]]:
    """webargs' nested messages ({"json": {"attendees": {0: {"person": [..]}}}}) as paths."""
    found = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if isinstance(key, int):
                sub = f"{path}[{key}]"
            elif path:
                sub = f"{path}.{key}"
            else:
                sub = str(key)
            found += _flatten(value, sub)
    elif isinstance(messages, list | tuple):
        for item in messages:
            found += _flatten(item, path) if not isinstance(item, str) else [(path or "$", item)]
    else:
        found.append((path or "$", str(messages)))
    return found


def _where(location: str, path: str) -> str:
    """Body fields by their name; a query or header parameter as `query.page`."""
    if location == "json" or path in ("", "$"):
        return path or "$"
    return f"{location}.{path}"


def http_error_response(error: HTTPException):
    status = error.code or 500
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    valid_methods = getattr(error, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    if status == 429:
        headers["Retry-After"] = str(_retry_after())
    data = getattr(error, "data", None) or {}
    if status == 422 and "messages" in data:
        problems = []
        for location, messages in data["messages"].items():
            problems += [(_where(location, p), m) for p, m in _flatten(messages)]
        return api_error(422, problems or None, headers)
    if "problems" in data:
        return api_error(status, data["problems"], headers)
    if isinstance(data.get("message"), str):
        return api_error(status, [("$", data["message"])], headers)
    description = error.description
    if description and description != type(error).description:
        return api_error(status, [("$", description)], headers)
    return api_error(status, None, headers)


def _retry_after() -> int:
    """Seconds until the limit this request hit lets the token in again."""
    from scheduler.extensions import limiter

    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))
