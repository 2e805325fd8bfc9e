"""The limits every imported document meets before it is validated: one door for all imports.

The command line (``import-itinerary``) and the web import both call :func:`read_document`,
which refuses, with a problem naming where, what the parser or the database would otherwise
turn into a 500 or a wrong answer: a document over the size limit, JSON nested deeper than a
document ever is, ``NaN``/``Infinity``, integers of thousands of digits, lone surrogates
(which no database stores as text), a key with a trailing newline (``$`` in a pattern matches
before one), and more meetings than a delegation may hold.

The limits are settings (``config.Defaults``) whose defaults hold the 20,000-meeting benchmark.
Parsing itself stays in :func:`scheduler.itinerary.document.parse_json`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scheduler.itinerary.document import DocumentError, Problem, json_path, parse_json

KEY_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
# A lone surrogate can only arrive as a \uD800-\uDFFF escape: raw bytes would not be UTF-8.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
MAX_INTEGER_DIGITS = 18  # an INTEGER column holds 10 digits; a 64-bit one 19


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 32 * 1024 * 1024
    max_meetings: int = 25_000
    max_depth: int = 16

    @classmethod
    def from_config(cls, config: Mapping) -> Limits:
        return cls(
            max_bytes=int(config.get("DOCUMENT_MAX_BYTES", cls.max_bytes)),
            max_meetings=int(config.get("DOCUMENT_MAX_MEETINGS", cls.max_meetings)),
            max_depth=int(config.get("DOCUMENT_MAX_DEPTH", cls.max_depth)),
        )


def read_document(data: str | bytes, limits: Limits | None = None) -> Any:
    """The parsed document, or DocumentError naming every limit it passes."""
    limits = limits or Limits()
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > limits.max_bytes:
        raise DocumentError(
            [
                Problem(
                    "$",
                    f"the document is {len(raw):,} bytes; at most {limits.max_bytes:,} "
                    "bytes may be imported (setting DOCUMENT_MAX_BYTES)",
                )
            ]
        )
    try:
        document = parse_json(raw)
    except RecursionError:
        raise DocumentError([_too_deep("$", limits)]) from None
    except ValueError as exc:  # DocumentError is not one; the int digit limit is
        raise DocumentError([Problem("$", f"not valid JSON: {exc}")]) from None
    problems = _walk(document, limits, check_surrogates=bool(_SURROGATE_ESCAPE.search(raw)))
    meetings = document.get("meetings") if isinstance(document, dict) else None
    if isinstance(meetings, list) and len(meetings) > limits.max_meetings:
        problems.append(
            Problem(
                "meetings",
                f"{len(meetings):,} meetings; a delegation may have at most "
                f"{limits.max_meetings:,} (setting DOCUMENT_MAX_MEETINGS)",
            )
        )
    if problems:
        raise DocumentError(problems[:50])
    return document


def _too_deep(path: str, limits: Limits) -> Problem:
    return Problem(path, f"nested more than {limits.max_depth} levels deep")


def _walk(document: Any, limits: Limits, *, check_surrogates: bool) -> list[Problem]:
    """One pass over the containers (iterative: depth is what we are checking)."""
    problems: list[Problem] = []
    stack: list[tuple[Any, tuple, int]] = [(document, (), 0)]
    while stack and len(problems) < 50:
        node, path, depth = stack.pop()
        if depth > limits.max_depth:
            problems.append(_too_deep(json_path(path), limits))
            continue
        if isinstance(node, dict):
            items = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            continue
        for name, value in items:
            if isinstance(value, (dict, list)):
                stack.append((value, (*path, name), depth + 1))
            elif isinstance(value, str):
                if name == "key" and not KEY_RE.fullmatch(value):
                    problems.append(_bad_key(path, value))
                elif check_surrogates and _has_surrogate(value):
                    problems.append(_surrogate(path, name))
            elif isinstance(value, float) and not math.isfinite(value):
                problems.append(
                    Problem(json_path((*path, name)), f"{value} is not a number a document holds")
                )
            elif (
                isinstance(value, int)
                and not isinstance(value, bool)
                and len(str(abs(value))) > MAX_INTEGER_DIGITS
            ):
                problems.append(Problem(json_path((*path, name)), "is a number too large to store"))
            if check_surrogates and isinstance(name, str) and _has_surrogate(name):
                problems.append(_surrogate(path, name.encode("utf-8", "replace").decode()))
    return problems


def _bad_key(path: tuple, value: str) -> Problem:
    # Worded as the schema words it, so the two reports merge into one.
    return Problem(
        json_path((*path, "key")),
        f"{value!r} is not a valid key: use lowercase letters, digits and single '-'",
    )


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _surrogate(path: tuple, name) -> Problem:
    return Problem(json_path((*path, name)), "contains a lone surrogate (\\uD800-\\uDFFF)")
