"""The examples in the engine's docstrings run (the ones not marked +SKIP)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import chatops_widget.engine as engine

MODULES = ["chatops_widget.engine"] + [
    f"chatops_widget.engine.{m.name}" for m in pkgutil.iter_modules(engine.__path__)
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0
