"""Fixtures for the widget's browser tests: the built bundle, Debian's Chromium, a harness page.

Level 1 renders the bundled ESM on a plain page with a small anywidget-like model stub
(``harness.html``), served from memory through Playwright routing at ``http://widget.test/``,
with the widget's ``_css`` as a style sheet and its ``constants`` traitlet from the Python side
(as anywidget does it).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from _support import free_port, stop_process

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


@pytest.fixture(scope="module")
def browser():
    # per module: Playwright's sync API runs an event loop in this thread while it is open, and
    # later tests that call asyncio.run (tests/server, tests/client) must not find one running
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
    pg = harness_page(context, bundle)
    yield pg
    assert not pg.errors, f"page errors: {pg.errors}"
    context.close()


@pytest.fixture()
def open_harness(browser, bundle):
    """``open_harness(secure=False, **context_options)``: a harness page in a new browser context
    (e.g. with ``permissions=[...]``; ``secure``: served as https, a secure context, where the
    clipboard API exists); page errors fail the test, the contexts close at teardown."""
    opened = []

    def make(secure: bool = False, **options):
        context = browser.new_context(viewport={"width": 900, "height": 800}, **options)
        pg = harness_page(context, bundle, "https" if secure else "http")
        opened.append((context, pg))
        return pg

    yield make
    for context, pg in opened:
        assert not pg.errors, f"page errors: {pg.errors}"
        context.close()


def harness_page(context, bundle: Path, scheme: str = "http"):
    """The harness page (the panel on a model stub) in ``context``, at ``<scheme>://widget.test``;
    ``.errors`` collects page errors."""
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    from chatops_widget.widget._sync import frontend_constants

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

    pg.route(f"{scheme}://widget.test/**", serve)
    pg.goto(f"{scheme}://widget.test/index.html")
    pg.wait_for_function("window.__ready === true")
    pg.errors = errors
    return pg


# ---------------------------------------------------------------- real hosts (level 2)
# JupyterLab, Notebook 7, Voila and marimo, each started once per test session on loopback with
# the panel in a notebook (or marimo app) of its own, kernels using this checkout and a temporary
# data dir. Each fixture starts its host on first use and stops it at the end of the session.

PANEL_CELL = (
    "from chatops_widget import ChatOpsWidget\n\n"
    "w = ChatOpsWidget()  # no client, no URL: embedded server + client\nw"
)
MARIMO_APP = """import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo

    from chatops_widget import ChatOpsWidget

    w = mo.ui.anywidget(ChatOpsWidget())
    w
    return


if __name__ == "__main__":
    app.run()
"""


def _host_root(tmp_path_factory, name: str) -> Path:
    root = tmp_path_factory.mktemp(name)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PANEL_CELL)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, root / "panel.ipynb")
    shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", root / "quickstart.ipynb")
    (root / "panel_app.py").write_text(MARIMO_APP)
    config = root / ".jupyter" / "labconfig"
    config.mkdir(parents=True)
    # no "Jupyter news?" toast over the screenshots
    off = {"@jupyterlab/apputils-extension:announcements": True}
    (config / "page_config.json").write_text(json.dumps({"disabledExtensions": off}))
    return root


def _host_env(root: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("CHATOPS_URL", None)
    env["JUPYTER_CONFIG_DIR"] = str(root / ".jupyter")  # no user settings leak in
    env["CHATOPS_DATA_DIR"] = str(root / "chatops-data")  # not the user's data folder
    return env


@contextlib.contextmanager
def _serve(cmd: list[str], root: Path, ready: str, name: str):
    """Run a host until the test session ends; ``ready`` is polled until it answers."""
    log = (root / f"{name}.log").open("wb")  # closed below
    proc = subprocess.Popen(
        cmd, cwd=root, env=_host_env(root), stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                urllib.request.urlopen(ready, timeout=2)
                break
            except urllib.error.HTTPError:
                break  # it answers (a 403/404 is still an answer)
            except Exception:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((root / f"{name}.log").read_text()[-3000:]) from None
                time.sleep(0.3)
        yield
    finally:
        stop_process(proc, log)


def _jupyter(tmp_path_factory, app: str, name: str):
    root = _host_root(tmp_path_factory, name)
    port, token = free_port(), secrets.token_hex(16)
    cmd = [
        sys.executable, "-m", "jupyter", app, "--no-browser", f"--port={port}",
        "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--ServerApp.disable_check_xsrf=True",
    ]  # fmt: skip
    cmd.append(
        "--LabApp.expose_app_in_browser=True"
        if app == "lab"
        else "--JupyterNotebookApp.expose_app_in_browser=True"
    )
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI containers run as root
    base = f"http://127.0.0.1:{port}"
    return root, base, token, _serve(cmd, root, f"{base}/api/status?token={token}", name)


@pytest.fixture(scope="session")
def lab(tmp_path_factory, bundle):
    """A JupyterLab on loopback: ``url`` opens the quickstart, ``panel_url`` a panel notebook."""
    root, base, token, server = _jupyter(tmp_path_factory, "lab", "lab")
    with server:
        yield {
            "url": f"{base}/lab/tree/quickstart.ipynb?token={token}",
            "panel_url": f"{base}/lab/tree/panel.ipynb?token={token}",
            "root": root,
        }


@pytest.fixture(scope="session")
def notebook7(tmp_path_factory, bundle):
    """Jupyter Notebook 7 on loopback, with the panel notebook."""
    root, base, token, server = _jupyter(tmp_path_factory, "notebook", "notebook")
    with server:
        yield {"panel_url": f"{base}/notebooks/panel.ipynb?token={token}", "root": root}


@pytest.fixture(scope="session")
def voila(tmp_path_factory, bundle):
    """Voila serving the panel notebook (it runs the notebook when the page opens)."""
    root = _host_root(tmp_path_factory, "voila")
    port = free_port()
    cmd = [sys.executable, "-m", "voila", "panel.ipynb", "--no-browser", f"--port={port}",
           "--Voila.ip=127.0.0.1"]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with _serve(cmd, root, f"{base}/voila/static/main.js", "voila"):
        yield {"panel_url": f"{base}/", "root": root}


@pytest.fixture(scope="session")
def marimo(tmp_path_factory, bundle):
    """marimo running the app that shows ``mo.ui.anywidget(ChatOpsWidget())``."""
    root = _host_root(tmp_path_factory, "marimo")
    port = free_port()
    cmd = [sys.executable, "-m", "marimo", "run", "panel_app.py", "--headless", "--no-token",
           "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with _serve(cmd, root, f"{base}/health", "marimo"):
        yield {"panel_url": f"{base}/", "root": root}
