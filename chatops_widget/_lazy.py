"""Modules imported when first used: numpy, pandas, pyarrow and the engine stay off the path
to a connected panel (the client and the server's join need none of them).

A module that needs ``pandas`` only inside its functions writes::

    if TYPE_CHECKING:
        import pandas as pd
    else:
        pd = lazy_module("pandas")

and ``pd.DataFrame`` imports pandas the first time it is looked up (then it is Python's own
cached module). Type checkers see the real module.

Example:
    >>> lazy = lazy_module("json")
    >>> lazy.dumps([1])
    '[1]'
    >>> OnFirstUse(lambda: __import__("json")).loads("[2]")
    [2]
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

__all__ = ["OnFirstUse", "lazy_module"]


class OnFirstUse:
    """A module imported (by ``load()``) when an attribute of it is first needed."""

    def __init__(self, load: Callable[[], ModuleType]) -> None:
        self._load = load
        self._module: ModuleType | None = None

    def __getattr__(self, name: str) -> Any:
        module = self._module
        if module is None:  # once: import_module's own lookup costs ~5 us a call
            module = self._module = self._load()
        return getattr(module, name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._load!r}>"


def lazy_module(name: str) -> Any:
    """``name`` (e.g. ``"pandas"``), imported when one of its attributes is first looked up."""
    return OnFirstUse(lambda: importlib.import_module(name))
