"""The fonts that travel with the package, and whether they draw the names the agenda prints.

The PDF's faces are the ``@font-face`` rules of ``static/vendor/fonts/fonts-pdf.css``
(Noto Sans KR and JP, vendored by ``scripts/vendor-fonts.py``); WeasyPrint embeds them
whatever fontconfig offers. This module reads those same rules and each file's character
map with fontTools, so a character that no vendored face has (a font file lost from a
build, a refresh that dropped a subset) is named at start-up and on the coordinators'
agenda page instead of printing as an empty box.

No Flask in here: the start-up log, the agenda page and a readiness check all call
:func:`font_report` or :func:`missing_glyphs`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import tinycss2
from fontTools.ttLib import TTFont

from scheduler.agenda.assemble import Agenda, Name

log = logging.getLogger(__name__)

_PACKAGE = Path(__file__).resolve().parent.parent
VENDOR_DIR = _PACKAGE / "static" / "vendor" / "fonts"
PDF_FONTS_STYLESHEET = VENDOR_DIR / "fonts-pdf.css"
REFERENCE_VISIT = _PACKAGE / "demo" / "shonan-ipark-2024.json"


@dataclass(frozen=True)
class FontFace:
    """One ``@font-face`` rule: a family at a weight, a file, the characters it is asked for."""

    family: str
    weight: str
    path: Path
    ranges: tuple[tuple[int, int], ...]

    def asked_for(self, char: str) -> bool:
        return any(start <= ord(char) <= end for start, end in self.ranges)


@dataclass(frozen=True)
class FontReport:
    """What the vendored faces draw of the given names."""

    faces: tuple[FontFace, ...]
    unreadable: tuple[str, ...]  # faces whose file is missing or not a font, with why
    missing: tuple[str, ...]  # characters no readable face draws, in order of first use
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)  # char -> names using it

    @property
    def ok(self) -> bool:
        return bool(self.faces) and not self.missing and not self.unreadable

    def details(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """(character, ``U+7B80``, the names using it) for each missing character."""
        return [(char, f"U+{ord(char):04X}", self.names.get(char, ())) for char in self.missing]

    def summary(self) -> str:
        """One line for the log."""
        if self.ok:
            return f"fonts: {len(self.faces)} vendored faces draw every name checked"
        if not self.faces:
            return f"fonts: no @font-face rules in {PDF_FONTS_STYLESHEET}"
        parts = []
        if self.missing:
            examples = "; ".join(
                f"{char!r} {point} in {', '.join(names)}"
                for char, point, names in self.details()[:10]
            )
            parts.append(
                f"{len(self.missing)} characters have no glyph in the vendored fonts "
                f"and will print as empty boxes unless the system has a font for them: "
                f"{examples}"
            )
        if self.unreadable:
            parts.append("unreadable font files: " + "; ".join(self.unreadable))
        return "fonts: " + ". ".join(parts)


def _ranges(tokens) -> tuple[tuple[int, int], ...]:
    return tuple(
        (token.start, token.end)
        for token in tokens
        if token.type == "unicode-range"  # tinycss2 parses U+xx-yy as one token
    )


def _urls(tokens) -> list[str]:
    """``url(x)`` and ``url("x")`` (the quoted form is a function to tinycss2)."""
    found = []
    for token in tokens:
        if token.type == "url":
            found.append(token.value)
        elif token.type == "function" and token.lower_name == "url":
            found += [t.value for t in token.arguments if t.type == "string"]
    return found


def _declarations(rule) -> dict[str, list]:
    content = tinycss2.parse_blocks_contents(rule.content, skip_whitespace=True)
    return {
        item.lower_name: item.value
        for item in content
        if item.type == "declaration"  # comments and errors are no descriptors
    }


@cache
def vendored_faces(stylesheet: Path = PDF_FONTS_STYLESHEET) -> tuple[FontFace, ...]:
    """The ``@font-face`` rules of the PDF's font stylesheet (none if it is missing)."""
    try:
        text = stylesheet.read_text("utf-8")
    except OSError:
        return ()
    faces = []
    for rule in tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True):
        if rule.type != "at-rule" or rule.lower_at_keyword != "font-face":
            continue
        descriptors = _declarations(rule)
        urls = _urls(descriptors.get("src", []))
        families = [t.value for t in descriptors.get("font-family", []) if t.type == "string"]
        weight = "".join(t.serialize() for t in descriptors.get("font-weight", [])).strip()
        if urls and families:
            faces.append(
                FontFace(
                    family=families[0],
                    weight=weight or "normal",
                    path=(stylesheet.parent / unquote(urls[0])).resolve(),
                    ranges=_ranges(descriptors.get("unicode-range", [])) or ((0, 0x10FFFF),),
                )
            )
    return tuple(faces)


@cache
def _characters(path: Path) -> frozenset[int]:
    """The code points the font file maps to a glyph (raises OSError or a fontTools error)."""
    font = TTFont(path, lazy=True)
    try:
        return frozenset(font.getBestCmap() or {})
    finally:
        font.close()


@cache
def reference_names(path: Path = REFERENCE_VISIT) -> tuple[str, ...]:
    """The native-script names and titles of the reference visit (the demo document)."""
    document = json.loads(path.read_text("utf-8"))
    found = [document["delegation"].get("native_name")]
    for section in ("organizations", "people", "venues"):
        found += [item.get("native_name") for item in document.get(section, [])]
    found += [meeting.get("native_title") for meeting in document.get("meetings", [])]
    return tuple(name for name in found if name)


def agenda_names(agenda: Agenda) -> list[str]:
    """Every native-script name and title an agenda prints."""
    found: list[Name | None] = [agenda.name]
    people = [*agenda.contacts, *([agenda.person] if agenda.person else [])]
    for day in agenda.days:
        for item in day.items:
            found += [item.venue, *item.organizations]
            people += [attendee.person for attendee in item.attendees]
            if item.native_title:
                found.append(Name(item.title, item.native_title))
    for person in people:
        found += [person.name, person.organization]
    return list(dict.fromkeys(n.native for n in found if n is not None and n.native))


def font_report(names: Iterable[str] | None = None) -> FontReport:
    """Which characters of ``names`` (default: the reference visit's) no vendored face draws."""
    if names is None:
        names = reference_names()
    faces = vendored_faces()
    unreadable, drawn = [], []
    for face in faces:
        try:
            drawn.append((face, _characters(face.path)))
        except Exception as exc:  # a missing file, or bytes fontTools cannot read as a font
            unreadable.append(f"{face.path.name}: {exc}")
    missing: dict[str, list[str]] = {}
    for name in names:
        for char in name:
            if char.isspace():
                continue
            if not any(face.asked_for(char) and ord(char) in cmap for face, cmap in drawn):
                users = missing.setdefault(char, [])
                if name not in users:
                    users.append(name)
    return FontReport(
        faces=faces,
        unreadable=tuple(unreadable),
        missing=tuple(missing),
        names={char: tuple(users) for char, users in missing.items()},
    )


def missing_glyphs(names: Iterable[str] | None = None) -> list[str]:
    """The characters of ``names`` (default: the reference visit's) that would print as boxes."""
    return list(font_report(names).missing)


@cache
def log_font_check() -> FontReport:
    """Check the reference visit's names once per process and say what was found in the log."""
    report = font_report()
    if report.ok:
        log.info(report.summary())
    else:
        log.warning(report.summary())
    return report
