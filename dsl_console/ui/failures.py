"""Background jobs that fail: told to the user once, as a notice naming no case or person.

Worker.StateChanged does not bubble, so each screen or widget that starts workers hands its
failures here. (A handler that raises is the error dialog's business: ui/error_dialog.py.)
"""

from __future__ import annotations

from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

from dsl_console.ui.error_dialog import error_line


def report_failed_worker(node: DOMNode, event: Worker.StateChanged) -> None:
    """Notify about a worker that ended in error; nothing while the console is locked."""
    if event.state != WorkerState.ERROR or event.worker.error is None:
        return
    app = node.app
    if getattr(app, "locked", False):
        return  # the lock closed the database under it: expected, and not news
    app.notify(
        f"Something went wrong: {error_line(event.worker.error)}",
        severity="error",
        timeout=20,
        markup=False,
    )
