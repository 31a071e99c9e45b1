"""The command palette (ctrl+p): every list action, and "Go to case" by ref or child name."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING

from textual import on
from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from dsl_console.store.listing import refs_matching
from dsl_console.ui.views import VIEW_COMMANDS, VIEW_HELP, VIEW_KEYS

if TYPE_CHECKING:
    from dsl_console.ui.app import DslConsoleApp

# (title, help, action run on the app); the case list's actions are reached through it.
CONSOLE_COMMANDS: tuple[tuple[str, str, str], ...] = (
    *(
        (
            f"View: {VIEW_COMMANDS[view]}",
            VIEW_HELP[view].capitalize(),
            f"app.show_view('{view}')",
        )
        for view in VIEW_KEYS.values()
    ),
    ("Filter the list", "Type part of a ref or a child's name", "app.filter_list"),
    ("New case", "Open a new escalation", "app.new_case"),
    ("Check flags now", "Run the background sweep at once", "app.sweep_now"),
    ("Lock the console", "Hide case data and forget the key until unlocked", "app.lock"),
    (
        "My profile",
        "Your full name, job title and email, as the forms and the records give them",
        "app.profile",
    ),
    ("Keys", "Every key and what it does", "app.help"),
)


# What people type before a ref or a name when they mean "open that case": "go to",
# "go to case", "goto", "open". What follows is the search; with nothing after it, the most
# urgent cases are offered.
_GO_TO = re.compile(r"^\s*(?:go\s*to|open)(?:\s+case)?(?:\s+|$)", re.IGNORECASE)


def go_to_query(query: str) -> tuple[str, bool]:
    """The ref-or-name search in a palette query, and whether it asked to go to a case."""
    asked = _GO_TO.match(query)
    return (query[asked.end() :].strip(), True) if asked else (query.strip(), False)


class ConsoleCommands(Provider):
    """The console's own commands and the go-to-case search."""

    @property
    def console(self) -> DslConsoleApp:
        return self.app  # type: ignore[return-value]

    def _runner(self, action: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await self.console.run_action(action)

        return run

    async def discover(self) -> Hits:
        if self.console.session is None:
            return
        for title, help_text, action in CONSOLE_COMMANDS:
            yield DiscoveryHit(title, self._runner(action), help=help_text)

    async def search(self, query: str) -> Hits:
        session = self.console.session
        if session is None:
            return
        matcher = self.matcher(query)
        for title, help_text, action in CONSOLE_COMMANDS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), self._runner(action), help=help_text)
        text, asked = go_to_query(query)
        if not text and not asked:
            return
        # The query runs in a thread: the palette stays responsive on a large database. An
        # empty search ("go to" alone) matches every case: the most urgent come first.
        matches = await asyncio.to_thread(_refs_matching, session, text)
        for rank, (ref, child_name) in enumerate(matches):
            title = f"Go to case {ref} ({child_name})"
            yield Hit(
                # Exact refs first, then in the list's own urgency order.
                1.0 if text and ref.lower() == text.lower() else 0.9 - rank * 0.01,
                Content(title),  # plain text: a name is never read as markup
                partial(self.console.open_case, ref),
                text=title,
                help="Open this case's stage timeline",
            )


def _refs_matching(session, text: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with session.db.connection_context():
        return refs_matching(text)


class ConsolePalette(CommandPalette):
    """Textual's command palette, whose Enter acts on the hits for what was typed.

    Textual searches as each letter lands and keeps the last search's hits on show until the
    next search has some. In one burst ("Ctrl+P, go to 004, Enter", as over SSH or typed fast)
    Enter came while the search for "go to 004" was still running, and chose the highlighted
    hit of the list shown on opening, which was Quit. Enter now waits for the search for
    what was typed, then does what it would have done had the user waited to see the hits.
    """

    def __init__(self) -> None:
        super().__init__(id="--command-palette")  # the id Textual's is_open looks for
        self._enter_waits = False

    def _searching(self) -> bool:
        return any(
            worker.group == self._GATHER_COMMANDS_GROUP
            and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for worker in self.workers
        )

    @on(Input.Submitted)
    def _enter_after_the_search(self, event: Input.Submitted) -> None:
        # Runs before Textual's own handler (a subclass's come first); preventing the
        # default keeps that one from choosing among the hits of an earlier search.
        if self._searching():
            event.prevent_default()
            event.stop()
            self._enter_waits = True

    @on(Input.Changed)
    def _typed_on(self) -> None:
        # A letter after the Enter (the characters before it all came first): the user has
        # changed their mind, and a later search must not choose for them.
        self._enter_waits = False

    @on(Worker.StateChanged)
    def _search_ended(self, event: Worker.StateChanged) -> None:
        if not self._enter_waits or event.worker.group != self._GATHER_COMMANDS_GROUP:
            return
        if event.state == WorkerState.SUCCESS and not self._searching():
            self._enter_waits = False
            self._select_or_command()
