"""The web pages draw Korean and Japanese with the package's fonts, not the device's.

Chromium runs with a fontconfig that knows only DejaVu Sans (no CJK font at all): the share
page must still show the names, from the vendored Noto Sans KR and JP that it downloads by
@font-face, and a page without Hangul must not download the Korean file. Screenshot in
tests/artifacts/.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import TEST_EMAIL, TEST_PASSWORD, require
from tests.test_agenda import KEY, share_token
from tests.test_agenda_fonts import LATIN_ONLY_FONT, _fontconfig_without_cjk

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = pytest.mark.e2e

# The font files the page has downloaded, once its fonts are ready.
LOADED_FACES = """() => document.fonts.ready.then(() => performance
    .getEntriesByType("resource").map(r => r.name).filter(n => n.includes("/vendor/fonts/")))"""


@pytest.fixture
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture
def page_without_cjk_fonts(chromium_path, tmp_path):
    from playwright.sync_api import sync_playwright

    require(LATIN_ONLY_FONT.is_file(), f"{LATIN_ONLY_FONT} not found")
    env = {"FONTCONFIG_FILE": str(_fontconfig_without_cjk(tmp_path)), "HOME": str(tmp_path)}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS, env=env
        )
        page = browser.new_page(viewport={"width": 1100, "height": 1000})
        page.set_default_timeout(15_000)
        yield page
        browser.close()


def test_share_page_shows_cjk_names_in_the_vendored_fonts_on_a_device_without_any(
    app, served, load_document, reference_document, page_without_cjk_fonts
):
    load_document(reference_document)
    page = page_without_cjk_fonts
    page.goto(f"{served}/share/{share_token(app)}/agenda")
    files = page.evaluate(LOADED_FACES)
    assert any("noto-sans-kr-korean-400-normal.woff2" in f for f in files), files
    assert any("noto-sans-jp-japanese-400-normal.woff2" in f for f in files), files
    assert page.evaluate("document.fonts.check('16px \"Noto Sans KR\"', '중소벤처기업부')")
    assert page.evaluate("document.fonts.check('16px \"Noto Sans JP\"', 'アステラス製薬')")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "share-page-without-system-cjk-fonts.png"))

    # A page with no Hangul or kana downloads no CJK file (unicode-range).
    page.goto(f"{served}/login")
    assert not [f for f in page.evaluate(LOADED_FACES) if "korean" in f or "japanese" in f]


def test_coordinator_page_names_a_character_the_fonts_lack(
    app, user, served, load_document, reference_document, page_without_cjk_fonts
):
    document = json.loads(json.dumps(reference_document))
    document["organizations"][0]["native_name"] = "简体 중소벤처기업부"  # 简: no vendored glyph
    load_document(document)
    page = page_without_cjk_fonts
    page.goto(f"{served}/login")
    page.get_by_label("Email").fill(TEST_EMAIL)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_load_state()
    page.goto(f"{served}/delegations/{KEY}/agenda")
    warning = page.get_by_role("alert")
    assert "U+7B80" in warning.inner_text() and "简体 중소벤처기업부" in warning.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "coordinator-agenda-font-warning.png"))
