"""When something unexpected breaks: a dialog with one data-free line and OK, never a silent quit.

Textual's default for an exception in a handler or a failed worker is to end the app with a
traceback, taking whatever the DSL had typed with it; and even where the app survives, the
message pump whose handler raised stops for good, so that screen no longer answers. Here:

- `ErrorDialog` is the modal itself: a title, one line, OK (Enter or Escape close it).
- `ErrorGuard` is a mixin for the App and for screens (`class CaseScreen(ErrorGuard, Screen)`):
  an exception raised by any of its handlers or actions, or a worker it started that ends in
  ERROR without a `Worker.StateChanged` handler of its own, shows the dialog; the pump keeps
  running and every widget keeps its content, so an unsaved form is still there underneath.
- `AppErrorGuard` is the App's version: also turns `App._handle_exception`, where anything the
  guards did not catch ends up (a widget's own handler, a timer), into the dialog.

The line shown never quotes the exception's text unless it is a ConsoleError (whose messages
are written to be shown): an unexpected exception may carry a child's name or a concern.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Static
from textual.worker import Worker, WorkerFailed, WorkerState

from dsl_console.errors import ConsoleError

TITLE = "Something went wrong"
UNEXPECTED = (
    "Something unexpected went wrong ({kind}). Nothing you typed has been lost: close this "
    "and try again, and report it if it happens again."
)
MAX_LINE = 300
# More than this many unexpected errors in this many seconds means one that fires on every
# frame: showing a dialog each time would leave the console unusable, so let Textual stop it.
BURST, BURST_SECONDS = 8, 5.0


def error_line(error: BaseException) -> str:
    """The one line to show for an error: a ConsoleError's own text, else a data-free line."""
    if isinstance(error, WorkerFailed):
        error = error.error
    if isinstance(error, ConsoleError):
        line = " ".join(str(error).split()) or TITLE
        return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"
    return UNEXPECTED.format(kind=type(error).__name__)


class ErrorDialog(ModalScreen[None]):
    """A modal with one line about what went wrong, and OK."""

    DEFAULT_CSS = """
    ErrorDialog {
        align: center middle;
    }
    ErrorDialog > #error-box {
        width: 64;
        max-width: 100%;
        height: auto;
        border: thick $error;
        background: $surface;
        padding: 0 1;
    }
    ErrorDialog #error-title {
        text-style: bold;
        color: $text-error;
        padding-bottom: 1;
    }
    ErrorDialog #error-buttons {
        height: auto;
        align-horizontal: right;
        padding-top: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "OK", id="error.close", tooltip="Close this message"),
        Binding("enter", "close", "OK", id="error.ok", tooltip="Close this message", show=False),
    ]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box"):
            yield Static(TITLE, id="error-title")
            yield Static(self.message, id="error-message")
            with Horizontal(id="error-buttons"):
                yield Button("OK", id="ok", variant="primary", compact=True)

    def on_mount(self) -> None:
        # A query, not query_one: when the console closes as the dialog opens, its button has
        # already gone, and the dialog must not raise an error of its own.
        for button in self.query("#ok").results(Button):
            button.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        """Close the message; what was underneath is as it was."""
        self.dismiss(None)


def show_error(app: Any, error: BaseException) -> bool:
    """Push an ErrorDialog for `error` on `app`; False when it cannot (then let it stop)."""
    if not getattr(app, "is_running", False):
        return False
    now = time.monotonic()
    recent = [t for t in getattr(app, "_dsl_error_times", []) if now - t < BURST_SECONDS]
    recent.append(now)
    app._dsl_error_times = recent
    if len(recent) > BURST:
        return False
    if isinstance(app.screen, ErrorDialog):
        return True  # one message at a time; the first one is on show
    app.push_screen(ErrorDialog(error_line(error)))
    return True


def _handles_itself(node: object, message: Message) -> bool:
    """Whether `node` has a handler of its own for this kind of message."""
    names = (message.handler_name, f"_{message.handler_name}")
    for cls in type(node).__mro__:
        if any(name in cls.__dict__ for name in names):
            return True
        decorated = cls.__dict__.get("_decorated_handlers") or {}
        if any(kind in decorated for kind in type(message).__mro__):
            return True
    return False


class ErrorGuard:
    """Mixin for an App, Screen or Widget: its handlers' exceptions and its failed workers show
    an ErrorDialog, and its message pump carries on (put it first in the bases)."""

    async def _dispatch_message(self, message: Message) -> None:
        try:
            await super()._dispatch_message(message)  # type: ignore[misc]
        except Exception as error:
            if not show_error(self.app, error):  # type: ignore[attr-defined]
                raise
            return
        if (
            isinstance(message, Worker.StateChanged)
            and message.state == WorkerState.ERROR
            and message.worker.error is not None
            and not _handles_itself(self, message)
        ):
            show_error(self.app, message.worker.error)  # type: ignore[attr-defined]


class AppErrorGuard(ErrorGuard):
    """The App's guard: also catches what reaches `App._handle_exception` (a widget's own
    handler, a timer callback) while the app runs, instead of quitting with a traceback."""

    def _handle_exception(self, error: Exception) -> None:
        if show_error(self, error):
            return
        super()._handle_exception(error)  # type: ignore[misc]
