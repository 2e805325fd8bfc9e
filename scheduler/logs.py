"""Logs a service can ship: one JSON object a line, each with the request's id.

``X-Request-Id`` from the proxy is kept (when it looks like an id), else one is made; it is
sent back on every response and written on every line logged while the request runs, so one
request can be followed from the proxy's log to ours. ``LOG_FORMAT = "json"`` switches the
format; the id is kept and returned either way.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

_INCOMING_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
            entry["method"] = request.method
            entry["path"] = request.path
        entry.update(
            {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def init_app(app: Flask) -> None:
    app.before_request(_assign_request_id)
    app.after_request(_return_request_id)
    if app.config.get("LOG_FORMAT") == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        app.logger.handlers[:] = [handler]
        app.logger.setLevel(logging.INFO)
        app.logger.propagate = False


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def _assign_request_id() -> None:
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if _INCOMING_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _return_request_id(response):
    if "request_id" not in g:  # a request refused before our first hook ran
        _assign_request_id()
    response.headers["X-Request-Id"] = g.request_id
    from flask import current_app

    if current_app.config.get("LOG_FORMAT") == "json":
        current_app.logger.info(
            "request",
            extra={
                "status": response.status_code,
                "ms": round((time.perf_counter() - g.request_started) * 1000, 1),
            },
        )
    return response
