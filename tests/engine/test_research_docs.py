"""The engine examples in docs/research.md run (walk-forward, universe, portfolio), with the
numbers the text explains."""

from __future__ import annotations

import doctest
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "research.md"


def test_research_md_examples_run():
    res = doctest.testfile(
        str(DOCS),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert res.attempted >= 10 and res.failed == 0
