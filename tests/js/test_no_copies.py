"""The front end keeps no hand-made copies of the constants Python owns.

Run statuses, result kinds, error codes, limits, the stats shown as percent, the default cash and
the command list reach the JS as the widget's ``constants`` and ``commands`` traitlets
(``chatops_widget.widget._sync.frontend_constants``: the protocol's and the engine's); a
literal list of them in ``js/src`` is a copy that drifts (the upload limit said 20 MiB in the
panel and 15 MiB in the protocol). Styles ship as the widget's ``_css``, never injected into
``document.head`` (marimo renders in a shadow root).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chatops_widget.widget._sync import frontend_constants

SRC = Path(__file__).resolve().parents[2] / "js" / "src"
C = frontend_constants()
ARRAY = re.compile(r"\[[^\[\]]*\]")  # an array literal without nested arrays
QUOTED = re.compile(r"""["'`]([A-Za-z0-9_]+)["'`]""")


def _sources() -> dict[str, str]:
    files = {p.relative_to(SRC).as_posix(): p.read_text() for p in SRC.rglob("*.js")}
    assert len(files) > 10, files
    return files


def _lists_of(names: set[str], least: int) -> list[str]:
    """Array literals in js/src naming at least ``least`` of ``names``."""
    return [
        f"{path}: {lit[:80]}"
        for path, text in _sources().items()
        for lit in ARRAY.findall(text)
        if len(set(QUOTED.findall(lit)) & names) >= least
    ]


@pytest.mark.parametrize(
    ("what", "names", "least"),
    [
        ("run statuses", set(C["runStatuses"]), 2),
        ("result kinds", set(C["resultKinds"]), 2),
        ("percent stats", set(C["percentStats"]), 4),  # a table's columns may name a few
        ("error codes", set(C["errorCodes"]), 1),
    ],
)
def test_no_literal_list_of(what, names, least):
    assert not _lists_of(names, least), f"a copy of the {what} in js/src"


def test_no_copied_limits_cash_or_command_list():
    found = []
    for path, text in _sources().items():
        for pattern in [
            r"\d+\s*\*\s*1024\s*\*\s*1024",  # a byte limit (the upload limit lives in Python)
            rf"\b{C['limits']['maxContentChars']}\b|\b{C['limits']['maxContentChars']:_}\b",
            rf"\b{int(C['defaultCash'])}\b|\b{int(C['defaultCash']):_}\b",
            r"FALLBACK_COMMANDS|usage:\s*[\"'`]/",  # command specs come from the server
            r"\bTERMINAL\b|\bRICH_KINDS\b|\bPERCENT\b",
        ]:
            found += [f"{path}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert not found, found


def test_styles_are_not_injected_into_the_document():
    found = [
        path
        for path, text in _sources().items()
        if "document.head" in text or re.search(r"createElement\(\s*[\"']style", text)
    ]
    assert not found, found
    assert not (SRC / "styles.js").exists()
    assert (SRC / "widget.css").exists()
