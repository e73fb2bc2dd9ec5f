"""The chat panel: :class:`ChatOpsWidget`, an anywidget over a kernel-side client.

- ``_widget.py`` -- the widget (traitlets are the contract with the front end in ``js/src``);
- ``_sync.py`` -- what travels to the front end (messages, progress, downsampled results);
- ``_uploads.py`` -- files dropped on the panel, sent as ``uploadData``;
- ``static/`` -- the bundled front end (built from ``js/`` by ``pip install``).

Example:
    >>> from chatops_widget.widget import ChatOpsWidget
    >>> ChatOpsWidget.__name__
    'ChatOpsWidget'
"""

from ._widget import ChatOpsWidget

__all__ = ["ChatOpsWidget"]
