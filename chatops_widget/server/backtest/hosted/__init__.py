"""Strategies hosted in a member's kernel: the server keeps their name, parameter spec,
description, owner and version (``registry.py``), routes their runs to the owner's kernel and
stores what comes back like any run (``routing.py``, ``frames.py``), and answers the owners'
events and the resolver's questions (``strategies.py``). No code of theirs ever reaches the
server: docs/strategies.md, "Python strategies", has the threat model.
"""

from .registry import HostedRegistry, HostedStrategy
from .strategies import HostedStrategies

__all__ = ["HostedRegistry", "HostedStrategies", "HostedStrategy"]
