"""The kernel-side client: :class:`ChatOpsClient` and the handles it gives out.

- :class:`ChatOpsClient` -- the connection, sessions, chat and commands (``_client.py``), over a
  socket.io :class:`~chatops_widget.client._connection.Connection` on its own event-loop thread
  (``_loop.py``);
- :class:`Run` / :class:`ResultsView` -- handles on runs (``_handles.py``), fed by the
  :class:`~chatops_widget.client._tracker.RunTracker` that follows every run of the session;
- :class:`Comparison`, :class:`RunFailed` -- decoded results (``_decode.py``);
- uploads of your own OHLCV frames (``_upload.py``).

Example:
    >>> from chatops_widget.client import ChatOpsClient
    >>> ChatOpsClient.__name__
    'ChatOpsClient'
"""

from ._client import ChatOpsClient
from ._decode import Comparison, RunFailed
from ._handles import ResultsView, Run

__all__ = ["ChatOpsClient", "Comparison", "ResultsView", "Run", "RunFailed"]
