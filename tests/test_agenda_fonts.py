"""The fonts travel with the package: the PDF shows Korean and Japanese on a machine without any.

The render runs in a child process whose fontconfig (FONTCONFIG_FILE) knows one folder with
one Latin font (DejaVu Sans), not Debian's fonts-noto-cjk: whatever CJK glyph the PDF draws
comes from the vendored @font-face files, and a control render without them loses the names.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from scheduler.agenda import fonts
from tests.conftest import require
from tests.test_agenda import KEY, NATIVE_NAMES, titles_attended_by
from tests.test_agenda_pdf import embedded_fonts, folded, pdf_text

ROOT = Path(__file__).resolve().parent.parent

# Runs in the child: the reference visit's shared PDF, and a control without @font-face.
RENDER = """
import json, sys
from pathlib import Path
from scheduler import create_app
from scheduler.agenda.assemble import build_agenda
from scheduler.agenda.render import render_agenda_pdf
from scheduler.cli import DEMO_DOCUMENT
from scheduler.extensions import db
from scheduler.itinerary.document import import_itinerary, load_delegation
from weasyprint import HTML

out = Path(sys.argv[1])
app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{out / 'db.sqlite'}"})
with app.app_context():
    db.create_all()
    key = import_itinerary(db.session, json.loads(DEMO_DOCUMENT.read_text("utf-8"))).delegation_key
    db.session.commit()
    agenda = build_agenda(load_delegation(db.session, key))
    (out / "agenda.pdf").write_bytes(render_agenda_pdf(agenda))
names = " ".join(sys.argv[2:])
(out / "control.pdf").write_bytes(HTML(string=f"<p>{names}</p>").write_pdf())
"""


LATIN_ONLY_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # fonts-dejavu-core


def _fontconfig_without_cjk(folder: Path) -> Path:
    """A fonts.conf whose only font folder holds one Latin font (DejaVu Sans), with its own cache.

    A machine has some font; with none at all Pango crashes rather than drawing boxes.
    """
    (folder / "fonts").mkdir()
    shutil.copy(LATIN_ONLY_FONT, folder / "fonts")
    config = folder / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig><dir>{folder / 'fonts'}</dir><cachedir>{folder / 'cache'}</cachedir>"
        "</fontconfig>\n",
        "utf-8",
    )
    return config


@pytest.fixture(scope="module")
def rendered_without_system_fonts(tmp_path_factory):
    """(agenda PDF, control PDF) rendered by a process whose fontconfig has no CJK font."""
    require(
        LATIN_ONLY_FONT.is_file(),
        f"{LATIN_ONLY_FONT} not found (apt-get install fonts-dejavu-core)",
    )
    folder = tmp_path_factory.mktemp("no-cjk-fonts")
    env = {
        **os.environ,
        "FONTCONFIG_FILE": str(_fontconfig_without_cjk(folder)),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", RENDER, str(folder), *NATIVE_NAMES],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return (folder / "agenda.pdf").read_bytes(), (folder / "control.pdf").read_bytes()


@pytest.mark.slow
def test_pdf_has_every_title_and_name_with_no_system_font(rendered_without_system_fonts):
    agenda, control = rendered_without_system_fonts
    text = pdf_text(agenda)
    shown, _ = titles_attended_by(json.loads(fonts.REFERENCE_VISIT.read_text("utf-8")), None)
    assert shown
    for title in shown:
        assert folded(title) in text, title
    for name in [*NATIVE_NAMES, *fonts.reference_names()]:
        assert name in text, name
    # The control: the same fontconfig without the vendored faces draws none of the names.
    control_text = pdf_text(control)
    for name in NATIVE_NAMES:
        assert name not in control_text, name


@pytest.mark.slow
def test_pdffonts_lists_only_the_vendored_fonts_embedded(rendered_without_system_fonts, tmp_path):
    require(
        shutil.which("pdffonts") is not None, "pdffonts not found (apt-get install poppler-utils)"
    )
    path = tmp_path / "agenda.pdf"
    path.write_bytes(rendered_without_system_fonts[0])
    listing = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    rows = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    assert rows, listing
    families = set()
    for row in rows:
        name = row[0].split("+", 1)[-1]
        emb, sub = row[-5], row[-4]  # name, type words..., encoding, emb, sub, uni, id, gen
        assert (emb, sub) == ("yes", "yes"), listing
        families.add(name.removesuffix("-Bold"))
    assert families == {"Noto-Sans-KR", "Noto-Sans-JP"}, listing
    assert embedded_fonts(rendered_without_system_fonts[0]) >= {"Noto-Sans-KR", "Noto-Sans-JP"}


def _single_substitutions(font: TTFont) -> dict[str, set[str]]:
    """Glyph -> the glyphs GSUB may put in its place one for one (Korean ``locl`` digits...)."""
    found: dict[str, set[str]] = {}
    for lookup in font["GSUB"].table.LookupList.Lookup if "GSUB" in font else ():
        for table in lookup.SubTable:
            table = table.ExtSubTable if lookup.LookupType == 7 else table
            for source, target in getattr(table, "mapping", {}).items():
                found.setdefault(source, set()).add(target)
            for source, targets in getattr(table, "alternates", {}).items():
                found.setdefault(source, set()).update(targets)
    return found


def _vendored_file(base_font: str):
    """The vendored face an embedded font was made from: ``/ABCDEF+Noto-Sans-KR-Bold``."""
    name = base_font.split("+", 1)[-1]
    weight = "700" if name.endswith("-Bold") else "400"
    family = name.removesuffix("-Bold").replace("-", " ")
    (face,) = [f for f in fonts.vendored_faces() if (f.family, f.weight) == (family, weight)]
    return TTFont(face.path)


def glyphs_that_draw_another_character(data: bytes) -> list[str]:
    """Glyphs whose ToUnicode character is not what the vendored file has at that number.

    Text extraction reads ToUnicode, so it passes even when the glyph numbers belong to
    another file than the one embedded (and digits print as Hangul jamo). WeasyPrint keeps
    glyph numbers when it subsets: compare each with the vendored file's cmap for the
    character, or a one-for-one substitution of it.
    """
    wrong = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            source = _vendored_file(str(font["/BaseFont"]))
            cmap, order = source.getBestCmap(), source.getGlyphOrder()
            variants = _single_substitutions(source)
            text = font["/ToUnicode"].get_object().get_data().decode("latin-1")
            # One character per glyph (ligatures map to two, and are left out).
            for gid, code in re.findall(r"<([0-9a-f]{4})> <([0-9a-f]{4})>", text):
                point, drawn = int(code, 16), order[int(gid, 16)]
                if point in cmap and drawn not in {cmap[point], *variants.get(cmap[point], ())}:
                    wrong.append(f"{font['/BaseFont']}: {chr(point)!r}")
    return sorted(set(wrong))


@pytest.mark.slow
def test_every_glyph_is_drawn_from_the_file_embedded_for_it(rendered_without_system_fonts):
    agenda, _ = rendered_without_system_fonts
    assert glyphs_that_draw_another_character(agenda) == []


def test_the_vendored_fonts_draw_every_name_of_the_reference_visit():
    report = fonts.font_report()
    assert report.ok, report.summary()
    assert fonts.missing_glyphs() == []
    families = {(face.family, face.weight) for face in report.faces}
    names = ("Noto Sans KR", "Noto Sans JP", "Noto Sans KR Latin Extended")
    assert families == {(f, w) for f in names for w in ("400", "700")}
    # One file per family and weight: WeasyPrint would mix up two files' glyphs.
    assert len(families) == len(report.faces)
    for face in report.faces:
        assert face.path.is_file() and face.path.is_relative_to(fonts.VENDOR_DIR)
    for folder in ("noto-sans-kr", "noto-sans-jp"):
        assert "Open Font License" in (fonts.VENDOR_DIR / folder / "LICENSE").read_text("utf-8")
        assert "@fontsource/" in (fonts.VENDOR_DIR / folder / "VERSION").read_text("utf-8")


def test_a_character_no_vendored_face_has_is_named_with_the_name_using_it():
    # Simplified-Chinese 简 and a smiley are in none of the files; 한 and 製 are.
    report = fonts.font_report(["简体 한국", "製薬 🙂"])
    assert report.missing == ("简", "🙂")
    assert report.names["简"] == ("简体 한국",) and report.names["🙂"] == ("製薬 🙂",)
    assert not report.ok
    assert "U+7B80" in report.summary() and "简体 한국" in report.summary()


def test_a_lost_font_file_is_reported_not_ignored(tmp_path, monkeypatch):
    stylesheet = tmp_path / "fonts-pdf.css"
    stylesheet.write_text(
        '@font-face { font-family: "Noto Sans KR"; font-weight: 400;'
        ' src: url("gone.woff") format("woff"); unicode-range: U+ac00-d7a3; }',
        "utf-8",
    )
    monkeypatch.setattr(fonts, "PDF_FONTS_STYLESHEET", stylesheet)
    faces = fonts.vendored_faces(stylesheet)
    assert [(f.family, f.weight, f.ranges) for f in faces] == [
        ("Noto Sans KR", "400", ((0xAC00, 0xD7A3),))
    ]
    monkeypatch.setattr(fonts, "vendored_faces", lambda: faces)
    report = fonts.font_report(["한국"])
    assert report.missing == ("한", "국")
    assert report.unreadable and "gone.woff" in report.unreadable[0]
    assert "unreadable font files" in report.summary()


def test_start_up_says_in_the_log_what_the_font_check_found(caplog):
    fonts.log_font_check.cache_clear()
    with caplog.at_level(logging.INFO, logger="scheduler.agenda.fonts"):
        from scheduler import create_app

        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    (record,) = [r for r in caplog.records if r.name == "scheduler.agenda.fonts"]
    assert record.levelno == logging.INFO
    assert "vendored faces draw every name checked" in record.getMessage()


def test_coordinator_page_warns_of_characters_the_fonts_lack(
    app, client, login, load_document, reference_document
):
    document = json.loads(json.dumps(reference_document))
    document["organizations"][0]["native_name"] = "简体 中小企业部"  # hanzi the files lack
    load_document(document)
    page = client.get(f"/delegations/{KEY}/agenda").get_data(as_text=True)
    assert 'class="font-warning"' in page and "简" in page
    load_document(reference_document)
