"""The command palette (ctrl+p): every list action, and "Go to case" by ref or child name."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

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
