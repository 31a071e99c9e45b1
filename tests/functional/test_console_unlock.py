"""Unlocking the console: credentials given, typed, wrong, and the first run."""

from __future__ import annotations

from console_kit import OPEN_ORDER, USER, unlocked
from textual.widgets import Static


def error_text(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one("#unlock-error", Static).render()).lower()


async def test_given_credentials_open_straight_onto_the_list(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await unlocked(pilot)
        assert screen.table.visible_refs() == OPEN_ORDER
        assert app.session is not None and app.session.user == USER
        assert USER in app.sub_title and "Example Primary School" in app.sub_title
