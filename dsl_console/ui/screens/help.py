"""The help screen: every key the screen underneath answers to, with what it does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from dsl_console.core.flags import FLAGS
from dsl_console.ui.error_dialog import ErrorGuard
from dsl_console.ui.widgets.demo_mark import demo_mark
from dsl_console.ui.widgets.keys_footer import KeysFooter

OUR_PACKAGE = "dsl_console"


@dataclass(frozen=True)
class KeyHelp:
    """One line of help: the key as shown, what it does, and more words on it."""

    key: str
    description: str
    tooltip: str


def _our_bindings(node: DOMNode) -> list[Binding]:
    # Only the bindings the console declares: Textual's own (focus next, copy, scroll) are
    # the same in every app and would bury the ones that matter here.
    found: list[Binding] = []
    for cls in reversed(type(node).__mro__):
        if cls.__module__.startswith(OUR_PACKAGE) and "BINDINGS" in cls.__dict__:
            found.extend(Binding.make_bindings(cls.__dict__["BINDINGS"]))
    return found


def keys_of(screen: Screen) -> list[KeyHelp]:
    """Every binding of the console's own app, screen and widgets that a user can press there."""
    app = screen.app
    order: list[tuple[str, str]] = []
    keys: dict[tuple[str, str], list[str]] = {}
    tooltips: dict[tuple[str, str], str] = {}

    def add(binding: Binding) -> None:
        if not binding.description:
            return
        ident = (binding.action, binding.description)
        if ident not in keys:
            order.append(ident)
            keys[ident] = []
            tooltips[ident] = binding.tooltip
        shown = app.get_key_display(binding)
        if shown not in keys[ident]:
            keys[ident].append(shown)

    nodes: list[DOMNode] = [screen, *screen.walk_children(with_self=False), app]
    for node in nodes:
        for binding in _our_bindings(node):
            add(binding)
    add(Binding("ctrl+p", "command_palette", "Commands", tooltip="Search every command"))
    return [KeyHelp(" ".join(keys[i]), i[1], tooltips[i]) for i in order]


class HelpScreen(ErrorGuard, ModalScreen[None]):
    """A list of keys; escape, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,q,question_mark", "dismiss", "Close", id="help.close", tooltip="Close help"
        ),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > #help-box {
        width: 90%; max-width: 100; height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; padding-bottom: 1; }
    """

    def __init__(self, keys: list[KeyHelp]) -> None:
        super().__init__(id="help")
        self.keys = keys

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_header=True, header_style="bold")
        table.add_column("Key", no_wrap=True)
        table.add_column("Does")
        table.add_column("More", ratio=1)
        for item in self.keys:
            table.add_row(item.key, item.description, item.tooltip)
        yield from demo_mark(self.app)
        with VerticalScroll(id="help-box"):
            yield Label("Keys", id="help-title")
            yield Static(table, id="help-keys")
            yield Static(flags_help(), id="help-flags")
            yield Static(
                "In a narrow Due column, wd means working days and late means overdue.",
                id="help-abbreviations",
            )
        yield KeysFooter()


def flags_help() -> Table:
    """Every flag: its symbol, its name and what to do about it (from core.flags)."""
    table = Table(box=None, expand=True, show_header=True, header_style="bold")
    table.add_column("Flag", no_wrap=True)
    table.add_column("Means", no_wrap=True)
    table.add_column("Do", ratio=1)
    for flag in FLAGS:
        table.add_row(flag.symbol, flag.words, flag.advice)
    return table


def help_for(screen: Screen) -> HelpScreen:
    """The help screen for the screen the user is on."""
    return HelpScreen(keys_of(screen))
