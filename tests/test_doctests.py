"""The examples in every package's docstrings run (the ones not marked +SKIP): the protocol,
the server and its plugins, the kernel client, the widget, the assistant and the helpers at the
top. (The engine's run in tests/engine/test_doctests.py.)"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import chatops_widget

MODULES = [
    m.name
    for m in pkgutil.walk_packages(chatops_widget.__path__, "chatops_widget.")
    if not m.name.startswith("chatops_widget.engine") and m.name != "chatops_widget.__main__"
]


def test_every_package_is_covered():
    tops = {name.split(".")[1] for name in MODULES}
    assert {"protocol", "server", "client", "widget", "assistant"} <= tops


@pytest.mark.parametrize("name", ["chatops_widget", *MODULES])
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0
