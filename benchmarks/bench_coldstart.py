"""Cold start of the panel in a real JupyterLab page: cell run -> "connected" -> first result card.

For each run a fresh notebook is opened in JupyterLab (so JupyterLab starts a fresh kernel through
jupyter_client), and Chromium (Playwright) runs its cell

    from chatops_widget import ChatOpsWidget
    w = ChatOpsWidget()
    w

The page stamps ``performance.now()`` when the cell is run, when the panel appears, when its chip
says "connected" and -- after it then clicks Send on ``/run_backtest strategy_1`` in the panel --
when the result card (metrics and charts) is there. A cell run before (not timed) collects the
kernel's own timestamps: the cell starting in the kernel and the ``chatops_widget.startup``
debug log (server built, listening, socket connected, session joined, workers warm, ...); all
stamps are on one clock (the page's ``performance.timeOrigin + now()`` is epoch time, like the
kernel's ``time.time()``). Prints every run and the median of the timed runs, step by step.

    python benchmarks/bench_coldstart.py            # 1 untimed warm-up + 5 timed runs (~1.5 min)
    python benchmarks/bench_coldstart.py --runs 9
    git archive <commit> | tar -x -C /tmp/before     # "before": another commit's tree
    mkdir -p /tmp/before/chatops_widget/widget/static
    cp chatops_widget/widget/static/widget.js /tmp/before/chatops_widget/widget/static/
    python benchmarks/bench_coldstart.py --tree /tmp/before --tree .   # run by run in turn

Needs the widget bundle (``cd js && npm ci && npm run build``), JupyterLab and Playwright (the
``test`` extra) and Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "chatops_widget" / "widget" / "static" / "widget.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

#: Not timed: collect the kernel's stamps (cell start/end, the chatops_widget.startup log).
SETUP_CELL = """\
import logging, time
_stamps = []
class _Stamp(logging.Handler):
    def emit(self, record):
        _stamps.append((record.created * 1000, time.process_time() * 1000, record.getMessage()))
_log = logging.getLogger("chatops_widget.startup")
_log.addHandler(_Stamp())
_log.setLevel(logging.DEBUG)
_log.propagate = False
_at = lambda msg: _stamps.append((time.time() * 1000, time.process_time() * 1000, msg))
get_ipython().events.register("pre_run_cell", lambda *a: _at("kernel: cell starts"))
get_ipython().events.register("post_run_cell", lambda *a: _at("kernel: cell ends"))
"""
TIMED_CELL = "from chatops_widget import ChatOpsWidget\n\nw = ChatOpsWidget()\nw"
REPORT_CELL = (  # to a file in the kernel's cwd (the notebook's folder): long outputs get trimmed
    "import json, pathlib\n"
    "pathlib.Path('stamps.json').write_text(json.dumps(_stamps))\n"
    "print('STAMPS')"
)

#: Installed in the page before the timed cell runs: stamps what appears, sends the command.
OBSERVE = """(command) => {
  const T = { origin: performance.timeOrigin };
  window.__cold = T;
  const now = () => performance.timeOrigin + performance.now();
  const check = () => {
    if (!T.panel && document.querySelector('.cow-root')) T.panel = now();
    if (!T.connected && document.querySelector('.cow-chip.cow-connected')) {
      T.connected = now();
      const box = document.querySelector('.cow-input');
      box.value = command;
      document.querySelector('.cow-send').click();
      T.sent = now();
    }
    if (T.sent && !T.progress && document.querySelector('.cow-run')) T.progress = now();
    const card = document.querySelector('.cow-result');
    if (T.sent && !T.card && card && card.querySelector('.cow-metrics')
        && card.querySelectorAll('canvas').length) {
      T.card = now();
      obs.disconnect();
    }
  };
  const obs = new MutationObserver(check);
  obs.observe(document.body, { childList: true, subtree: true, attributes: true,
                               attributeFilter: ['class'] });
  T.run = now();
}"""

KERNEL_IDLE = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle' && w.content.widgets.length > 1;
}"""

RUN_CELL = """(i) => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  nb.activeCellIndex = i;
  window.jupyterapp.commands.execute('notebook:run-cell');
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _notebook(path: Path) -> None:
    cells = [SETUP_CELL, TIMED_CELL, REPORT_CELL]
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": src,
                "outputs": [],
                "execution_count": None,
            }
            for src in cells
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb))


class Lab:
    """JupyterLab on a free port with its own config and data dirs (no user settings); its
    kernels import ``chatops_widget`` from ``tree``."""

    def __init__(self, root: Path, tree: Path = ROOT) -> None:
        self.root = root
        self.port, self.token = _free_port(), secrets.token_hex(16)
        env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        env.pop("CHATOPS_URL", None)
        env["CHATOPS_DATA_DIR"] = str(root / "chatops-data")
        env["JUPYTER_CONFIG_DIR"] = str(root / ".jupyter")
        labconfig = root / ".jupyter" / "labconfig"
        labconfig.mkdir(parents=True)
        off = {"@jupyterlab/apputils-extension:announcements": True}
        (labconfig / "page_config.json").write_text(json.dumps({"disabledExtensions": off}))
        cmd = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={self.port}",
            "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self.log = (root / "lab.log").open("wb")
        self.proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                self.api("GET", "/api/status")
                return
            except Exception:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError((root / "lab.log").read_text()[-3000:]) from None
                time.sleep(0.3)

    def api(self, method: str, path: str) -> Any:
        req = urllib.request.Request(
            f"{self.base}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        for k in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{k['id']}")
        deadline = time.monotonic() + 30
        while self.api("GET", "/api/kernels") and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # the kernel's worker processes see it gone within 0.5 s and exit

    def url(self, name: str) -> str:
        return f"{self.base}/lab/tree/{name}?token={self.token}"

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def one_run(browser: Any, lab: Lab, i: int, command: str) -> dict[str, float]:
    """One fresh kernel: returns ms since the cell was run, per step."""
    name = f"cold_{i}.ipynb"
    _notebook(lab.root / name)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto(lab.url(name))
        page.wait_for_function(KERNEL_IDLE, timeout=120_000)
        page.evaluate(RUN_CELL, 0)
        page.wait_for_timeout(300)
        page.wait_for_function(KERNEL_IDLE)
        page.evaluate(OBSERVE, command)
        page.evaluate(RUN_CELL, 1)
        try:
            page.wait_for_function("() => window.__cold && window.__cold.card", timeout=120_000)
        except Exception as exc:
            shot = lab.root.parent / f"coldstart-failed-{i}.png"
            page.screenshot(path=str(shot))
            state = page.evaluate("() => window.__cold")
            msg = f"no result card within 120 s; page stamps {state}; see {shot}"
            raise RuntimeError(msg) from exc
        page.wait_for_function(KERNEL_IDLE)
        page.evaluate(RUN_CELL, 2)
        page.locator(".jp-OutputArea-output", has_text="STAMPS").last.wait_for(timeout=60_000)
        stamps = json.loads((lab.root / "stamps.json").read_text())  # the kernel's cwd
        page_t = page.evaluate("() => window.__cold")
    finally:
        context.close()
        lab.shutdown_kernels()
    t0 = page_t["run"]
    steps: dict[str, float] = {}
    # the timed cell's start (the setup cell registered the hooks while it ran)
    start = min(((t, c) for t, c, m in stamps if m == "kernel: cell starts" and t >= t0 - 1),
                default=(t0, 0.0))  # fmt: skip
    for t, cpu, msg in stamps:
        msg = _RUN_ID.sub("run_…", _URL.sub("<url>", msg))
        if t >= t0 - 1 and msg not in steps:
            steps[msg] = t - t0
            steps["cpu: " + msg] = cpu - start[1]
    for key in ("panel", "connected", "sent", "progress", "card"):
        if page_t.get(key):
            steps[f"page: {_PAGE[key]}"] = page_t[key] - t0
    return steps


_RUN_ID = re.compile(r"run_[0-9a-f]{12}")
_URL = re.compile(r"http://\S+")
_PAGE = {
    "panel": "panel rendered (bundle loaded)",
    "connected": 'chip says "connected"',
    "sent": "/run_backtest sent from the panel",
    "progress": "progress bar shown",
    "card": "result card (metrics + charts)",
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs per tree (median reported)")
    ap.add_argument("--command", default="/run_backtest strategy_1")
    ap.add_argument("--json", help="also write every run's steps to this file")
    ap.add_argument("--tree", type=Path, action="append",
                    help="measure the chatops_widget of this source tree (e.g. an older commit, "
                    "from `git archive`, with its bundle built); give it twice to compare two, "
                    "run by run in turn (default: this tree)")  # fmt: skip
    args = ap.parse_args(argv)
    trees = [t.resolve() for t in args.tree or [ROOT]]
    for tree in trees:
        if not (tree / BUNDLE.relative_to(ROOT)).exists():
            raise SystemExit(f"no widget bundle in {tree}: cd js && npm ci && npm run build")
    from playwright.sync_api import sync_playwright

    roots = [Path(tempfile.mkdtemp(prefix="coldstart-")) for _ in trees]
    labs: list[Lab] = []
    runs: dict[Path, list[dict[str, float]]] = {tree: [] for tree in trees}
    try:
        labs = [Lab(root, tree) for root, tree in zip(roots, trees, strict=True)]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for i in range(args.runs + 1):
                    pairs = list(zip(trees, labs, strict=True))  # in turn: the same load, and
                    for tree, lab in pairs[:: 1 if i % 2 else -1]:  # each first every other time
                        steps = one_run(browser, lab, i, args.command)
                        tag = "warm-up (not counted)" if i == 0 else f"run {i}"
                        c, card = (steps.get(_key(k), float("nan")) for k in ("connected", "card"))
                        print(
                            f"{tree}: {tag}: connected {c:.0f} ms, card {card:.0f} ms", flush=True
                        )
                        if i:
                            runs[tree].append(steps)
            finally:
                browser.close()
    finally:
        for lab in labs:
            lab.close()
        for root in roots:
            shutil.rmtree(root, ignore_errors=True)
    for tree in trees:
        print(f"\n== {tree}")
        _report(runs[tree])
    print(f"\nload average (1, 5, 15 min) at the end: {os.getloadavg()}")
    if args.json:
        Path(args.json).write_text(json.dumps({str(t): r for t, r in runs.items()}, indent=1))
    return 0


def _key(name: str) -> str:
    return f"page: {_PAGE[name]}"


def _report(runs: list[dict[str, float]]) -> None:
    """Medians of the headline steps, then the median run's timeline step by step (the steps'
    own medians come from different runs and need not add up)."""
    keys = [_key(k) for k in ("panel", "connected", "card")]
    print(f"{'':34s} {'median':>8s} {'min':>7s} {'max':>7s}   (ms after the cell was run)")
    for k in keys:
        vals = [r[k] for r in runs if k in r]
        if vals:
            print(f"{k:34s} {statistics.median(vals):8.0f} {min(vals):7.0f} {max(vals):7.0f}")
    by_connected = sorted(runs, key=lambda r: r.get(keys[1], float("inf")))
    median_run = by_connected[(len(runs) - 1) // 2]
    print("\nthe median run (by connected), step by step: ms after the cell was run; kernel CPU: "
          "the kernel process's CPU time (all its threads) since the cell started")  # fmt: skip
    for k in sorted((k for k in median_run if not k.startswith("cpu: ")), key=median_run.get):
        cpu = median_run.get("cpu: " + k)
        print(f"  {k:58s} {median_run[k]:7.0f}" + (f" {cpu:7.0f}" if cpu is not None else ""))
    c = statistics.median([r[keys[1]] for r in runs if keys[1] in r] or [float("nan")])
    card = statistics.median([r[keys[2]] for r in runs if keys[2] in r] or [float("nan")])
    print(f"\nconnected: {c / 1000:.2f} s (target <= 1.0 s); "
          f"first result card: {card / 1000:.2f} s (target <= 1.5 s)")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
