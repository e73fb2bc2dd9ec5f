"""The front end's own checks, run from pytest so README's one test command covers them.

``npm run lint`` is Biome (lint + format check, configured in ``js/biome.json``); ``npm test`` is
node's built-in test runner over ``js/test/*.test.js`` (store, autocomplete, markdown, ...).
``npm ci`` installs the pinned tools first when ``js/node_modules`` is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parents[2] / "js"


@pytest.fixture(scope="module")
def npm() -> str:
    npm = shutil.which("npm")
    assert npm, "npm is needed for the front-end checks (node >= 20; see .ci/setup)"
    if not (JS / "node_modules" / ".bin" / "biome").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS, check=True)
    return npm


def _run(npm: str, *args: str) -> subprocess.CompletedProcess[str]:
    # the unit tests read the kernel's constants from this interpreter (js/test/constants.js)
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0", "PYTHON": sys.executable}
    return subprocess.run(
        [npm, "run", "--silent", *args], cwd=JS, env=env, capture_output=True, text=True
    )


def test_biome_lint_and_format(npm):
    proc = _run(npm, "lint", "--", "--colors=off")
    assert proc.returncode == 0, f"npm run lint failed:\n{proc.stdout}\n{proc.stderr}"
    assert "Checked" in proc.stdout + proc.stderr


def test_node_unit_tests(npm):
    proc = _run(npm, "test")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"npm test failed:\n{out}"
    counts = {k: int(v) for k, v in re.findall(r"^# (tests|pass|fail) (\d+)$", out, re.M)}
    assert counts.get("fail") == 0 and counts.get("pass", 0) > 0, out[-2000:]
    assert counts["pass"] == counts["tests"], out[-2000:]  # none skipped or todo
