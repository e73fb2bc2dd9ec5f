"""The examples in the engine's docstrings run (the ones not marked +SKIP)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import chatops_widget.engine as engine

MODULES = ["chatops_widget.engine"] + [
    m.name for m in pkgutil.walk_packages(engine.__path__, prefix="chatops_widget.engine.")
]


def test_the_rules_subpackage_is_included():
    assert {"chatops_widget.engine.rules", "chatops_widget.engine.rules._parser"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0
    if name.startswith("chatops_widget.engine.rules"):
        assert res.attempted > 0, f"{name} has no runnable example"


DOCS = Path(__file__).resolve().parents[2] / "docs" / "strategies.md"


def test_strategies_md_examples_run():
    res = doctest.testfile(
        str(DOCS),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert res.attempted > 10 and res.failed == 0


def test_strategies_md_documents_every_function_and_stat():
    from chatops_widget.engine import STATS
    from chatops_widget.engine.rules import FUNCTIONS

    text = DOCS.read_text()
    for f in FUNCTIONS.values():
        assert f"`{f.signature}`" in text, f.signature
    for s in STATS:
        assert f"| `{s.name}` | {s.unit} |" in text, s.name
