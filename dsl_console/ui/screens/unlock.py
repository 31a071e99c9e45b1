"""Unlocking: the first screen, the first-run account form, and the idle lock's screen.

Opening a session runs Argon2id (a third of a second or more), so it runs in a thread worker and
the screen only shows the outcome. Errors are shown in place and name no case or person.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker

from dsl_console.errors import ConsoleError
from dsl_console.services.accounts import check_profile, edit_profile
from dsl_console.services.opening import Opener
from dsl_console.services.session import Credentials, Session, check_passphrase
from dsl_console.store.users import Profile
from dsl_console.ui.error_dialog import ErrorGuard
from dsl_console.ui.failures import report_failed_worker
from dsl_console.ui.forms.profile import PROFILE_FIELDS, profile_typed
from dsl_console.ui.widgets.keys_footer import KeysFooter

DEMO_HINT = 'Demo database of fictional cases: user "demo", passphrase "demo passphrase".'


class UnlockMode(StrEnum):
    """Why the screen is up."""

    FIRST_RUN = "first-run"  # no database yet: create it with the first DSL account
    UNLOCK = "unlock"  # the console is starting
    LOCKED = "locked"  # the idle lock: the same user unlocks again


def first_run_intro(opener: Opener) -> str:
    """What the console is for, where its files live and the keys to start with: all a new
    DSL needs before the first account, without the README."""
    settings = opener.config.source
    if settings is None:
        where = "Settings: the defaults"
    else:
        where = f"Settings: {settings}" + ("" if settings.exists() else " (optional)")
    return (
        "DSL Console tracks the escalations your school makes to other agencies under the "
        "safeguarding partnership's procedure: each stage's deadline in working days, an "
        "immediate risk on the same working day, and the forms and notices owed.\n"
        f"Database (created now, encrypted): {opener.db_path}\n"
        f"{where}\n"
        "Then: n opens a new case · Enter opens the highlighted one · ? lists every key.\n"
        "You become the first designated safeguarding lead."
    )


class UnlockScreen(ErrorGuard, Screen[None]):
    """Asks who is unlocking; covers everything underneath while locked."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+q",
            "app.quit",
            "Quit",
            id="unlock.quit",
            tooltip="Quit the console",
            priority=True,
        ),
        Binding(
            "enter",
            "enter",
            "Next",
            id="unlock.enter",
            show=False,
            priority=True,
            tooltip="Next field; from the last, unlock",
        ),
    ]

    @dataclass
    class Unlocked(Message):
        """The database is open; the app takes the session from here."""

        session: Session
        mode: UnlockMode

    @dataclass
    class Refused(Message):
        """Unlocking failed; `reason` is safe to show."""

        reason: str

    def __init__(
        self,
        opener: Opener,
        mode: UnlockMode,
        *,
        credentials: Credentials | None = None,
        user: str = "",
        demo: bool = False,
        note: str = "",
    ) -> None:
        super().__init__(classes=f"unlock {mode}")
        self.opener = opener
        self.mode = mode
        self.credentials = credentials
        self.user = user or (credentials.user if credentials else "")
        self.demo = demo
        self.note = note
        self._held: list[Input] = []  # the boxes disabled while an attempt runs

    def compose(self) -> ComposeResult:
        titles = {
            UnlockMode.FIRST_RUN: "Create the first DSL account",
            UnlockMode.UNLOCK: "Unlock the DSL Console",
            UnlockMode.LOCKED: "Locked",
        }
        with Center(), Vertical(id="unlock-box"):
            yield Label(titles[self.mode], id="unlock-title")
            if self.mode == UnlockMode.FIRST_RUN:
                yield Static(first_run_intro(self.opener), id="unlock-intro", markup=False)
            elif self.note:
                yield Static(self.note, id="unlock-intro")
            locked = self.mode == UnlockMode.LOCKED
            # Locked, the account is fixed: shown as text, not as a box that looks editable
            # (a name typed into it went into the passphrase box instead).
            yield Label(f"User name: {self.user}" if locked else "User name", markup=False)
            user = Input(value=self.user, id="unlock-user", disabled=locked, max_length=64)
            user.display = not locked
            yield user
            yield Label("Passphrase")
            yield Input(password=True, id="unlock-passphrase", max_length=1024)
            if self.mode == UnlockMode.FIRST_RUN:
                yield Label("Passphrase again")
                yield Input(password=True, id="unlock-repeat", max_length=1024)
                # Who you are, for the forms' "completed by" (palette: My profile, later).
                yield Static(
                    "Optional now, wanted soon: the partnership forms name you by these, "
                    "never by your user name.",
                    id="unlock-profile-note",
                )
                # Compact (one line each), so the whole first-run box fits an 80x24 terminal.
                for field_id, label, hint in PROFILE_FIELDS:
                    yield Label(f"{label} (optional)", classes="-profile")
                    yield Input(
                        id=f"unlock-{field_id}",
                        placeholder=hint,
                        max_length=200,
                        compact=True,
                        classes="-profile",
                    )
            yield Static("", id="unlock-error")
            if self.demo:
                yield Static(DEMO_HINT, id="unlock-hint")
            label = "Create" if self.mode == UnlockMode.FIRST_RUN else "Unlock"
            yield Button(label, id="unlock-button", variant="primary")
        yield KeysFooter()

    def on_mount(self) -> None:
        # The console may be closing as this screen mounts (the idle lock firing as the DSL
        # quits): its fields are then already gone, and there is nothing to open or focus.
        boxes = self.query("#unlock-box")
        if not boxes:
            return
        # Taken once, like the app's: the attempt holds them until it ends, then nothing does.
        given, self.credentials = self.credentials, None
        if given is not None and self.mode == UnlockMode.UNLOCK:
            self._busy("Unlocking…")
            self._open(given, create=False)
        elif self.user:
            self.query_one("#unlock-passphrase", Input).focus()
        else:
            self.query_one("#unlock-user", Input).focus()
        # On a short terminal the box scrolls: it opens at its top, title and all, not at the
        # first field's line.
        self.call_after_refresh(boxes.first().scroll_home, animate=False)

    # -- submitting ------------------------------------------------------------------------------
    def action_enter(self) -> None:
        """Enter moves on to the next field and submits from the last one (or the button).

        A priority binding, so the move is made before the next key is handed out: moved in
        reply to the box's Submitted message, as before, the keys typed after Enter in a burst
        (a password manager's auto-type) landed in the field just left. What needs the field's
        whole text (the passphrase's length, the submit) waits in that field's queue, behind
        the characters typed before Enter."""
        focused = self.focused
        fields = [f for f in self.query(Input).results(Input) if not f.disabled and f.display]
        if not isinstance(focused, Input) or focused not in fields:
            if isinstance(focused, Button):
                focused.press()
            return
        position = fields.index(focused)
        if position + 1 < len(fields):
            self.set_focus(fields[position + 1], scroll_visible=True)
            if focused.id == "unlock-passphrase" and self.mode == UnlockMode.FIRST_RUN:
                focused.call_later(self._judge_passphrase, focused)
            return
        focused.call_later(self.submit)

    def _judge_passphrase(self, box: Input) -> None:
        """On the first run the passphrase is judged as soon as it is entered."""
        try:
            check_passphrase(box.value)
        except ConsoleError as exc:
            self.show_error(str(exc))
            box.focus()
            return
        self.clear_error()

    @on(Button.Pressed, "#unlock-button")
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.submit()

    def submit(self) -> None:
        """Check the form and open the database in a worker."""
        user = self.query_one("#unlock-user", Input).value.strip()
        passphrase = self.query_one("#unlock-passphrase", Input).value
        if not user:
            self.show_error("Enter your user name.")
            self.query_one("#unlock-user", Input).focus()
            return
        if not passphrase:
            self.show_error("Enter your passphrase.")
            self.query_one("#unlock-passphrase", Input).focus()
            return
        create = self.mode == UnlockMode.FIRST_RUN
        if create:
            try:
                check_passphrase(passphrase)
            except ConsoleError as exc:
                self.show_error(str(exc))
                return
            if passphrase != self.query_one("#unlock-repeat", Input).value:
                self.show_error("The two passphrases differ: type the same one twice.")
                self.query_one("#unlock-repeat", Input).focus()
                return
        profile = None
        if create:
            try:
                profile = check_profile(
                    profile_typed(
                        {
                            field_id: self.query_one(f"#unlock-{field_id}", Input).value
                            for field_id, *_ in PROFILE_FIELDS
                        }
                    )
                )
            except ConsoleError as exc:
                self.show_error(str(exc))
                return
        self._busy("Creating the database…" if create else "Unlocking…")
        self._open(Credentials(user, passphrase), create=create, profile=profile)

    @work(thread=True, exclusive=True, exit_on_error=False, group="unlock")
    def _open(
        self, credentials: Credentials, *, create: bool, profile: Profile | None = None
    ) -> None:
        try:
            session = self.opener.open(credentials, create=create)
            if profile is not None and profile != Profile():
                with session.db.connection_context():
                    edit_profile(session, session.user, profile)
        except ConsoleError as exc:
            self.post_message(self.Refused(str(exc)))
            return
        except Exception as exc:
            # Anything else is a bug or a damaged file; its text might quote data, so it is
            # not shown, only its kind (which a report can name).
            self.post_message(
                self.Refused(f"the database could not be opened (unexpected {type(exc).__name__})")
            )
            return
        self.post_message(self.Unlocked(session, self.mode))

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        message.stop()
        for box in self._held:
            box.disabled = False
        self._held.clear()
        self.show_error(message.reason)
        passphrase = self.query_one("#unlock-passphrase", Input)
        passphrase.value = ""
        if self.mode == UnlockMode.FIRST_RUN:
            self.query_one("#unlock-repeat", Input).value = ""
        if not self.query_one("#unlock-user", Input).value:
            self.query_one("#unlock-user", Input).focus()
        else:
            passphrase.focus()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_failed_worker(self, event)

    # -- showing state ---------------------------------------------------------------------------
    def _busy(self, text: str) -> None:
        self.query_one("#unlock-button", Button).disabled = True
        # Keys typed while an attempt runs land nowhere: typed ahead at a start with
        # credentials given, a passphrase went, in clear, into the user name box.
        for box in self.query(Input):
            if not box.disabled:
                box.disabled = True
                self._held.append(box)
        error = self.query_one("#unlock-error", Static)
        error.remove_class("error")
        error.update(text)

    def clear_error(self) -> None:
        """Remove a shown error once it has been put right."""
        error = self.query_one("#unlock-error", Static)
        error.remove_class("error")
        error.update("")

    def show_error(self, text: str) -> None:
        """Show why unlocking failed, in place, and let the user try again."""
        self.query_one("#unlock-button", Button).disabled = False
        error = self.query_one("#unlock-error", Static)
        error.add_class("error")
        error.update(text[:1].upper() + text[1:])
