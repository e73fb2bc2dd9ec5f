"""Fixtures for the widget's browser tests: the built bundle, Debian's Chromium, a harness page.

Level 1 renders the bundled ESM on a plain page with a small anywidget-like model stub
(``harness.html``), served from memory through Playwright routing at ``http://widget.test/``,
with the widget's ``_css`` as a style sheet and its ``constants`` traitlet from the Python side
(as anywidget does it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "js"
BUNDLE = ROOT / "chatops_widget" / "widget" / "static" / "widget.js"
STYLES = BUNDLE.with_name("widget.css")
HARNESS = Path(__file__).with_name("harness.html")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _bundle_is_stale() -> bool:
    if not BUNDLE.exists() or not STYLES.exists():
        return True
    built = min(BUNDLE.stat().st_mtime, STYLES.stat().st_mtime)
    return any(p.stat().st_mtime > built for p in (JS / "src").rglob("*") if p.is_file())


@pytest.fixture(scope="session")
def bundle() -> Path:
    """The built front end; rebuilt with ``npm run build`` if missing or older than js/src."""
    if _bundle_is_stale():
        npm = shutil.which("npm")
        assert npm, "npm is needed to build the widget bundle (see .ci/setup)"
        if not (JS / "node_modules").exists():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS, check=True)
        subprocess.run([npm, "run", "build"], cwd=JS, check=True, capture_output=True)
    assert BUNDLE.exists()
    return BUNDLE


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: apt-get install -y chromium"
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser, bundle):
    """A fresh page with the panel rendered on the harness; `window.__model` is the stub."""
    context = browser.new_context(viewport={"width": 900, "height": 800})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    from chatops_widget.protocol import frontend_constants

    html = HARNESS.read_text().replace("__CONSTANTS__", json.dumps(frontend_constants()))
    files = {
        "/index.html": (html.encode(), "text/html"),
        "/widget.js": (bundle.read_bytes(), "text/javascript"),
        "/widget.css": (STYLES.read_bytes(), "text/css"),
    }

    def serve(route):
        path = "/" + route.request.url.split("://", 1)[1].split("/", 1)[1].split("?")[0]
        if path in files:
            body, ctype = files[path]
            route.fulfill(status=200, body=body, content_type=ctype)
        else:
            route.fulfill(status=404, body=b"not found")

    pg.route("http://widget.test/**", serve)
    pg.goto("http://widget.test/index.html")
    pg.wait_for_function("window.__ready === true")
    pg.errors = errors
    yield pg
    assert not errors, f"page errors: {errors}"
    context.close()
