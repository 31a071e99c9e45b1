"""The console application and its factory, shared by the command line and the tests.

The app owns the session (None until unlocked and while locked), the background sweep and the
idle lock. Screens ask it for `session`, `now()`, `case_changed(ref)` and `open_case(ref)`.
"""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

from textual import events, on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.containers import ScrollableContainer
from textual.dom import DOMNode
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Select, TextArea
from textual.worker import NoActiveWorker, Worker, get_current_worker

from dsl_console.config import Config
from dsl_console.core.clock import Clock, system_clock
from dsl_console.core.terminal_text import safe
from dsl_console.core.wording import plural, some_refs
from dsl_console.services.accounts import rekey_reminder
from dsl_console.services.announcing import SweepNews, condense
from dsl_console.services.casebook import repair_stale_states
from dsl_console.services.helpers import HelperUnavailable
from dsl_console.services.opening import EarlyOpen, Opener
from dsl_console.services.outbox import server_login
from dsl_console.services.session import Credentials, Session
from dsl_console.services.sweep_process import LocalSweeper, SweepProcess
from dsl_console.services.write_watch import WriteWatcher
from dsl_console.store.account_trail import verify_case_authors
from dsl_console.store.database import integrity_failed
from dsl_console.store.keyslots import DEFAULT_COST, KdfCost
from dsl_console.ui.commands import ConsoleCommands, ConsolePalette
from dsl_console.ui.control_filter import ControlCharacterFilter
from dsl_console.ui.error_dialog import AppErrorGuard
from dsl_console.ui.failures import report_failed_worker
from dsl_console.ui.messages import (
    CaseChangeForged,
    CasesChanged,
    IntegrityFailed,
    SaveSettled,
    StatesRepaired,
    SweepFinished,
)
from dsl_console.ui.screens.case_list import CaseListScreen
from dsl_console.ui.screens.help import HelpScreen, help_for
from dsl_console.ui.screens.unlock import UnlockMode, UnlockScreen
from dsl_console.ui.widgets.case_table import CaseTable
from dsl_console.ui.widgets.notice_bar import NoticeBar

# Input that counts as the user being at the keyboard (a mouse merely passing over does not).
ACTIVITY = (
    events.Key,
    events.MouseDown,
    events.MouseScrollDown,
    events.MouseScrollUp,
    events.Paste,
)


# How long locking waits for reads under way in other workers before closing the database.
CLOSE_WAIT_SECONDS = 10.0
FORGED_NOTICE_SECONDS = 24 * 3600
UNMOUNT_WAIT_SECONDS = 2.0
# How long the console, as it starts, waits for an unlock begun before it was built, before it
# shows the unlock screen ("Unlocking…") instead.
EARLY_UNLOCK_WAIT_SECONDS = 0.3
# The longest the keys after a dropdown's choice wait for it to land (see _held_for_a_choice).
CHOICE_WAIT_SECONDS = 0.5
# How long the keys typed after a form's Ctrl+S wait, at most, for what it leads to.
SAVE_WAIT_SECONDS = 5.0
# After the list is first drawn, the collection before gc.freeze() (tens of ms) waits this
# long, so that it falls after first paint rather than in it.
FREEZE_AFTER_SECONDS = 0.5


# How often the console looks for another process's writes (PRAGMA data_version: microseconds).
WATCH_SECONDS = 1.0
# The check of cached states after unlocking replays this many cases (about 10 ms) at a time,
# then gives way to typing for a moment.
REPLAY_SLICE = 100
REPLAY_PAUSE = 0.005
REPLAY_EVERY = 3600.0  # seconds: how often an unlock replays every case again


class OtherProcessWrote(Message):
    """The database was written by another connection since the watcher last looked."""

    def __init__(self, watcher: WriteWatcher) -> None:
        super().__init__()
        self.watcher = watcher


RISK_TITLE = "Immediate risk"  # the title of a toast about an immediate risk


def escape_then_key(event: events.Key) -> str | None:
    """The key typed after Escape, when a key event is Escape and a letter or digit that came
    together (Alt+letter, as terminals encode the two); None for any other key."""
    character = event.character or ""
    if not event.key.startswith("alt+") or len(character) != 1 or not character.isalnum():
        return None
    return character


class DslConsoleApp(AppErrorGuard, App[int]):
    """The DSL Console: unlock, the case list, the background sweep and the idle lock.

    An exception in a handler shows one data-free line in a dialog (AppErrorGuard) instead of
    ending the app and losing what was typed; a failed worker is reported as a notice.
    """

    TITLE = "DSL Console"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {ConsoleCommands}

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Only the system commands that suit sensitive data: the theme and quitting.

        Textual's own also offer a screenshot, which wrote a plaintext SVG of children's names
        to ~/Downloads, unaudited, for any account; the console's exports are its only way
        out for data.
        """
        del screen
        yield SystemCommand("Theme", "Change the colours of the console", self.action_change_theme)
        yield SystemCommand("Quit", "Quit the console", self.action_quit)

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """No screenshots: a capture of the screen is an unaudited copy of case data."""
        del filename, path
        self.notify("Screenshots are not offered: use Export (E) for a record.", timeout=6)

    def deliver_screenshot(self, *args: object, **kwargs: object) -> str | None:  # type: ignore[override]
        """Refused, as action_screenshot is."""
        del args, kwargs
        return None

    # How often the idle lock looks at the (injectable) clock.
    IDLE_CHECK_SECONDS = 1.0

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "question_mark",
            "help",
            "Help",
            id="app.help",
            tooltip="Every key on this screen and what it does",
        ),
        Binding(
            "ctrl+l",
            "lock",
            "Lock",
            id="app.lock",
            tooltip="Hide case data and forget the key until you unlock",
            # From every screen: a form, a question or help is modal, and Textual looks no
            # further than a modal screen for a key's binding, so Ctrl+L did nothing over a
            # half-typed form showing a child's details.
            priority=True,
        ),
        # Moving between fields is the app's own, at once: left to the focused field, a tab
        # waits in that field's queue behind nothing, while the keys typed after it (a paste,
        # a password manager, a lagging remote session) are already queued to the same field,
        # so a passphrase landed in clear in the user name box.
        Binding(
            "tab",
            "app.focus_next",
            "Next field",
            id="app.next-field",
            show=False,
            priority=True,
            tooltip="Move to the next field",
        ),
        Binding(
            "ctrl+d",
            "dismiss_notices",
            "Dismiss notices",
            id="app.dismiss-notices",
            show=False,
            tooltip="Take the notices off the screen (the header still counts the flags)",
        ),
        Binding(
            "shift+tab",
            "app.focus_previous",
            "Previous field",
            id="app.previous-field",
            show=False,
            priority=True,
            tooltip="Move to the previous field",
        ),
    ]

    def __init__(
        self,
        db_path: Path,
        config: Config,
        *,
        clock: Clock = system_clock,
        credentials: Credentials | None = None,
        demo: bool = False,
        kdf_cost: KdfCost = DEFAULT_COST,
        early: EarlyOpen | None = None,
        user: str = "",
    ) -> None:
        super().__init__()
        # Whatever a record holds, no control character of it reaches the terminal.
        self._filters.append(ControlCharacterFilter())
        self.db_path = db_path
        self.config = config
        self.clock = clock
        self.credentials = credentials
        # DSL_CONSOLE_USER without a passphrase: the name the unlock screen offers.
        self.offered_user = user
        self.demo = demo
        self.kdf_cost = kdf_cost
        self.session: Session | None = None
        self.locked = False
        self.opener = Opener(db_path, config, clock, kdf_cost, early=early)
        self.last_sweep: SweepFinished | None = None
        self._notices_by_ref: dict[str, list[Notification]] = {}
        # Which widget each key was forwarded to (see _bound_where_typed).
        self._key_targets: weakref.WeakKeyDictionary[events.Key, Widget | None] = (
            weakref.WeakKeyDictionary()
        )
        # The screen on top when each key came from the terminal (see _from_another_screen).
        self._key_screens: weakref.WeakKeyDictionary[events.Key, Screen] = (
            weakref.WeakKeyDictionary()
        )
        self.sweep_count = 0
        self._unlock_unswept = False
        self.bell_count = 0
        self._last_active = clock()
        self._sweep_timer: Timer | None = None
        self._watcher: WriteWatcher | None = None
        # The unlocked session's sweeper: in a process of its own, or where none can be
        # started, here in a worker thread. None while locked.
        self.sweeper: SweepProcess | LocalSweeper | None = None
        self._listed = ""  # the digest of what the list showed at the last sweep
        self._sweeping = False  # a sweep worker is under way
        self._sweep_again = False  # and another was asked for meanwhile
        # The session whose first sweep, and then whose integrity check, wait for the list to
        # draw: both compete with first paint for the CPU, and together for memory.
        self._unswept: Session | None = None
        self._unchecked: Session | None = None
        # The session whose cached case states are yet to be checked against the events, and
        # when (time.monotonic) they last were.
        self._unreplayed: Session | None = None
        # The session whose case changes are still to be checked against their authors.
        self._unauthored: Session | None = None
        # The screen last seen ready for keys (see _new_screen_ready).
        self._ready_screen: Screen | None = None
        # A dropdown being given its choice, and the keys that came meanwhile (_held_for_a_choice).
        self._choosing: Select | None = None
        self._choosing_since = 0.0
        self._held_keys: list[events.Key] = []
        # The keys typed after a form's Ctrl+S, waiting for what it leads to (_waits_for_a_save).
        self._after_save: list[events.Key] = []
        self._after_save_timer: Timer | None = None
        self._replayed_at: float | None = None
        self._freeze_timer: Timer | None = None  # set once the list is first drawn
        self._start_up_frozen = False  # gc.freeze() has run (see _freeze_start_up)

    # -- the clock -------------------------------------------------------------------------------
    def now(self) -> datetime:
        """The current moment from the injected clock."""
        return self.clock()

    def note_activity(self) -> None:
        """The user is at the keyboard: the idle lock's countdown starts again."""
        self._last_active = self.now()

    async def on_event(self, event: events.Event) -> None:
        if (
            isinstance(event, events.Key)
            and not event.is_forwarded
            and self._held_for_a_choice(event)
        ):
            return
        if isinstance(event, ACTIVITY):
            self.note_activity()
        if (
            isinstance(event, events.Key)
            and not event.is_forwarded
            and self._waits_for_a_save(event)
        ):
            return
        if isinstance(event, events.Key) and not event.is_forwarded:
            plain = escape_then_key(event)
            if plain is not None:
                await self._escape_then(events.Key(plain, event.character))
                return
        if isinstance(event, events.Key):
            if not event.is_forwarded:
                await self._new_screen_ready()
                self._focus_an_open_list()
                if (
                    self._priority_after_typing(event)
                    or await self._bound_in_order(event)
                    or await self._screen_binding_in_order(event)
                    or await self._answered_in_order(event)
                ):
                    return
                # Fresh from the terminal: Textual forwards it to the widget focused now.
                self._key_targets[event] = self.focused
                self._key_screens[event] = self.screen
            elif await self._bound_where_typed(event) or self._from_another_screen(event):
                return
        await super().on_event(event)
        if self._held_keys and self._choice_landed():
            await self._release_held_keys()

    def _held_for_a_choice(self, event: events.Key) -> bool:
        """Hold a key that comes while a dropdown is being given its choice, for the moment
        it is; take note when this key is the one that chooses (Enter) or closes it (Escape).

        Textual hands the choice to the dropdown in messages, and gives it back focus later
        still, behind the keys already typed: in a burst (over SSH), "Enter Down Enter Tab, a
        note, Ctrl+S" saved the note cut short, the rest of it typed into the dropdown (which
        searches its options as letters come) or, once the form had closed, run as the case
        screen's keys (r opened the resolve form)."""
        if self._held_keys or not self._choice_landed():
            self._held_keys.append(event)
            return True
        focused = self.focused
        if (
            event.key in ("enter", "escape")
            and focused is not None
            and type(focused).__name__ == "SelectOverlay"
            and isinstance(focused.parent, Select)
        ):
            self._choosing, self._choosing_since = focused.parent, time.monotonic()
            # Should the dropdown never take focus back (it was closed some other way), the
            # keys go on after this long, as they came.
            self.set_timer(CHOICE_WAIT_SECONDS, self._release_held_keys)
        return False

    def _choice_landed(self) -> bool:
        """Whether no dropdown is being given its choice: it has focus again, or is gone."""
        choosing = self._choosing
        if choosing is None:
            return True
        if (
            self.focused is choosing
            or not choosing.is_attached
            or time.monotonic() - self._choosing_since >= CHOICE_WAIT_SECONDS
        ):
            self._choosing = None
            return True
        return False

    async def _release_held_keys(self) -> None:
        """Handle the keys held for a dropdown's choice, in the order they came."""
        if not self._choice_landed():
            return
        held, self._held_keys = self._held_keys, []
        for key in held:
            await self.on_event(key)  # a key that chooses again holds those after it

    async def _escape_then(self, key: events.Key) -> None:
        """Escape and a key that came in one burst (over SSH, or typed fast) reach the console
        as the bytes of Alt+key, which Textual reads as one key: "Escape y" typed a "y" into
        the note instead of closing the form. The console binds no Alt key, so each is taken
        in turn: Escape's binding now, then, once any screen it opened ("Throw away what you
        have typed?") is up, the key. The keys before are let finish first: Textual runs a
        screen's binding once the key has come back up from the focused widget, so in
        "n Escape n Escape q" the first Escape reached the list before "n" had opened its
        form, and two forms were left open."""
        await self._keys_before_handled()
        before = self.screen
        for node, bindings in self.screen._binding_chain:
            found = [b for b in bindings.key_to_bindings.get("escape", ()) if not b.priority]
            if found:
                await self.run_action(found[0].action, node)
                break
        for _ in range(50):
            screen = self.screen
            if screen is before or (screen.is_mounted and screen.focused is not None):
                break
            await asyncio.sleep(0.01)
        await self.on_event(key)

    async def _keys_before_handled(self) -> None:
        """Wait (half a second at most) until the focused widget and the nodes above it have
        no message waiting, twice in a row (a key between two of them is in no queue), and
        any screen opened meanwhile is mounted."""
        quiet = 0
        for _ in range(50):
            node: DOMNode | None = self.focused or self.screen
            waiting = False
            while node is not None and node is not self:
                waiting = waiting or node.message_queue_size > 0
                node = node.parent
            quiet = 0 if waiting or not self.screen.is_mounted else quiet + 1
            if quiet >= 2:
                return
            await asyncio.sleep(0.01)

    def _focus_an_open_list(self) -> None:
        """A dropdown opened by the key before this one takes focus at once. Textual gives its
        list focus later, behind the keys already typed: in a burst, Enter, Down, Enter went
        to the closed dropdown and chose nothing."""
        focused = self.focused
        if isinstance(focused, Select) and focused.expanded:
            for overlay in focused.query("SelectOverlay").results(Widget):
                self.screen.set_focus(overlay, scroll_visible=False)

    def _priority_after_typing(self, event: events.Key) -> bool:
        """Run a priority binding (Ctrl+S: save) pressed in a text box behind the characters
        typed before it, in that box's own queue.

        Textual runs a priority binding the moment its key arrives, before the box has taken
        the characters that came just before it: in one burst (over SSH, a text expander),
        "the note, then Ctrl+S" saved the form without its note, or found it still empty."""
        focused = self.focused
        if not isinstance(focused, Input | TextArea) or event.is_printable:
            return False
        for node, bindings in self.screen._binding_chain:
            for binding in bindings.key_to_bindings.get(event.key, ()):
                if binding.priority and binding.action == "save":
                    save_asked = getattr(node, "save_asked", None)  # a form (FormScreen)
                    if save_asked is not None:
                        save_asked()  # from now, not once the box has got this far
                    focused.call_later(self.run_action, binding.action, node)
                    return True
        return False

    def _waits_for_a_save(self, event: events.Key) -> bool:
        """Hold a key typed after a form's Ctrl+S until the save has led somewhere the user
        can see (FormScreen.save_settled): a question takes the key, as does the screen left
        once the form has closed; a form that refused it drops it. Had it gone on at once,
        "Ctrl+S y" typed the "y" into the form while it checked the case, before its
        question was up; with no outcome in SAVE_WAIT_SECONDS, the keys go on as they came."""
        # By attribute, not isinstance: the forms are not imported before a form is opened.
        if not self._after_save and not getattr(self.screen, "save_unsettled", False):
            return False
        self._after_save.append(event)
        if self._after_save_timer is None:
            self._after_save_timer = self.set_timer(SAVE_WAIT_SECONDS, self._keys_after_save)
        return True

    @on(SaveSettled)
    async def _save_settled(self, message: SaveSettled) -> None:
        await self._keys_after_save(dropped=message.refused)

    async def _keys_after_save(self, *, dropped: bool = False) -> None:
        """Handle, or drop, the keys held for a save, in the order they came."""
        if self._after_save_timer is not None:
            self._after_save_timer.stop()
            self._after_save_timer = None
        held, self._after_save = self._after_save, []
        if dropped:
            if held:
                self.bell()  # typed blind: the form now says what is wrong, and keeps its text
            return
        for key in held:
            await self.on_event(key)  # a Ctrl+S among them holds those after it again

    async def _new_screen_ready(self) -> None:
        """A key that arrives while a screen just opened (a form) is not yet up waits for it
        (half a second at most, once per screen): in one burst, "e, Tab, a note, Ctrl+S" sent
        the Tab and the note's letters to the case screen underneath, whose keys opened other
        forms (r: resolve, x: escalate, a: action) instead of typing the note."""
        screen = self.screen
        if screen is self._ready_screen:
            return
        for _ in range(50):
            if screen.is_mounted and screen.focused is not None:
                break
            await asyncio.sleep(0.01)
        self._ready_screen = screen
        from dsl_console.ui.forms.base import FormScreen  # as in action_quit: not at start-up

        if isinstance(screen, FormScreen):
            screen.keys_arrive()

    async def _screen_binding_in_order(self, event: events.Key) -> bool:
        """On the case list or a case's screen, run the screen's or the console's binding for
        a key now (n: new case, e: record, q: quit), in the order the keys came.

        Neither view has a use for a letter itself, but Textual runs the screen's binding only
        once the key has come back up to the app, behind the keys that followed it: in one
        burst, "n Escape n Escape q" took the first Escape before "n" had opened its form, and
        left two forms open instead of quitting."""
        focused = self.focused
        # A text box is a ScrollableContainer too, but its keys are the user's text: with a
        # note box focused, "a note, Escape" in one burst closed the form before the note had
        # landed in the box, so nothing counted as typed and nothing was asked.
        if (
            isinstance(focused, TextArea)
            or not isinstance(focused, CaseTable | ScrollableContainer)
            or focused._bindings.key_to_bindings.get(event.key)
        ):
            return False
        for node, bindings in self.screen._binding_chain:
            if node is focused:
                continue
            found = [b for b in bindings.key_to_bindings.get(event.key, ()) if not b.priority]
            if found:
                return await self.run_action(found[0].action, node)
        return False

    async def _answered_in_order(self, event: events.Key) -> bool:
        """Answer a question (y, n, Escape) the moment its key comes, so that the keys after
        the answer find the question gone. Textual runs a screen's binding once the key has
        come back up from the focused button, by which time the keys typed after it had
        been sent to the question too, and were dropped as typed on another screen."""
        screen = self.screen
        if not getattr(screen, "ANSWERS_IN_ORDER", False):
            return False
        for binding in screen._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority:
                return await self.run_action(binding.action, screen)
        return False

    async def _bound_in_order(self, event: events.Key) -> bool:
        """Run the focused widget's own binding for a key now, in the order the keys came.

        Textual runs a binding once the key has come back up from the widget to the app, by
        which time the keys typed after it have been handled: in a burst, ctrl+u then a date
        cleared the date, Enter on a dropdown opened it after the Down and Enter meant for
        its list. A text box's binding (ctrl+u, backspace, Enter) goes in the box's own queue,
        behind the characters typed before it; any other widget's runs at once.
        """
        focused = self.focused
        if focused is None or event.is_printable:
            return False
        own = [b for b in focused._bindings.key_to_bindings.get(event.key, ()) if not b.priority]
        if not own or any(
            binding.priority
            for _node, bindings in self.screen._binding_chain
            for binding in bindings.key_to_bindings.get(event.key, ())
        ):
            return False  # a priority binding (tab, ctrl+q) goes first, as ever
        if isinstance(focused, Input | TextArea):
            focused.call_later(self.run_action, own[0].action, focused)
            return True
        return await self.run_action(own[0].action, focused)

    async def _bound_where_typed(self, event: events.Key) -> bool:
        """Run a key's binding as the widget it was typed into would have, when focus has
        moved on since (keys sent in one burst): Textual judges a key that comes back up from
        a widget by the bindings of whatever is focused by then, so a space meant for a tick
        box, sent just before a tab, ticked nothing or landed in the next field."""
        target = self._key_targets.get(event)  # on_key takes it, if the key comes that far
        if target is None or target is self.focused or not target.is_attached:
            return False
        node: DOMNode | None = target
        while node is not None and node is not self:
            for binding in node._bindings.key_to_bindings.get(event.key, ()):
                if not binding.priority and await self.run_action(binding.action, node):
                    event.stop()
                    return True
            node = node.parent
        return False

    def _from_another_screen(self, event: events.Key) -> bool:
        """Drop a key that comes back up from the screen it was typed on once another screen
        is on top: it was meant for the one below, and Textual would run the new screen's
        binding for it (or on_key type it into the new screen's box). In one burst on the
        export screen, "y Ctrl+S" replaced a file: the Ctrl+S asked "Replace it?", and the "y"
        typed before it answered; on the case list, "dsl-co" then "n" typed the letters into
        the new case's Ref. A question is answered only by a key typed after the one that
        asked it."""
        typed_on = self._key_screens.pop(event, None)
        if typed_on is None or typed_on is self.screen:
            return False
        self._key_targets.pop(event, None)
        event.stop()
        return True

    def on_key(self, event: events.Key) -> None:
        # A text box stops every printable key it gets, so one reaching the app while a text
        # box has focus was typed before that box took focus (straight after "/" or a tab,
        # faster than the focus change was handled). It belongs in the box; without this it
        # would be lost.
        focused = self.focused
        self._key_targets.pop(event, None)
        if not event.is_printable or not event.character:
            return
        if isinstance(focused, Input):
            focused.insert_text_at_cursor(event.character)
        elif isinstance(focused, TextArea) and not focused.read_only:
            focused.insert(event.character)
        else:
            return
        event.stop()

    def bell(self) -> None:
        """Ring the terminal bell (counted, so a test can hear it)."""
        self.bell_count += 1
        super().bell()

    # -- starting and unlocking ------------------------------------------------------------------
    def on_mount(self) -> None:
        first_run = not self.db_path.exists()
        # Taken once: nothing in the console holds a passphrase after this (README: security).
        given, self.credentials = self.credentials, None
        credentials = None if first_run else given
        self.set_interval(self.IDLE_CHECK_SECONDS, self.check_idle_lock)
        early = self.opener.early
        if credentials is not None and early is not None:
            # Unlocked while the console was being built: the list comes straight up, with
            # no unlock screen drawn in between. (Nothing is on screen to keep responsive
            # meanwhile.) A refusal, or an open still under way, goes to the unlock screen.
            session = early.take_if_open(credentials, wait=EARLY_UNLOCK_WAIT_SECONDS)
            if session is not None:
                self.post_message(UnlockScreen.Unlocked(session, UnlockMode.UNLOCK))
                return
        self.push_screen(
            UnlockScreen(
                self.opener,
                UnlockMode.FIRST_RUN if first_run else UnlockMode.UNLOCK,
                credentials=credentials,
                # On a server, the name the DSL logged in with is offered (README: the DSL
                # team); the console account's passphrase is still needed.
                user=given.user if given else self.offered_user or server_login() or "",
                demo=self.demo,
            )
        )

    @on(UnlockScreen.Unlocked)
    def _unlocked(self, message: UnlockScreen.Unlocked) -> None:
        self.session = message.session
        self.locked = False
        self._last_active = self.now()
        self._unswept = message.session
        self.sweeper = SweepProcess(message.session)
        self._unlock_unswept = True  # its first sweep's news is summed up (see _swept)
        self._watcher = WriteWatcher(message.session)
        self._listed = ""
        self._unchecked = None if self.opener.verify_integrity else message.session
        self._unauthored = message.session
        # The replay of every case after unlocking: at the first unlock, then at most hourly
        # (re-unlocking after the idle lock does not replay 100,000 cases each time).
        if self._replayed_at is None or time.monotonic() - self._replayed_at > REPLAY_EVERY:
            self._unreplayed = message.session
        # (The demo says so in a line of its own on every screen: widgets.demo_mark.)
        self.sub_title = " · ".join(p for p in (self.config.school, message.session.user) if p)
        if message.session.account_notice:
            self.notify(message.session.account_notice, severity="error", timeout=30, markup=False)
        if reminder := rekey_reminder(message.session):
            self.notify(reminder, severity="warning", timeout=30, markup=False)
        if message.mode == UnlockMode.LOCKED:
            # Only the lock screen goes: whatever was underneath, unsaved forms included, stays.
            self.pop_screen()
            self.refresh_list()
        else:
            if isinstance(self.screen, UnlockScreen):
                self.switch_screen(CaseListScreen())
            else:  # unlocked before the console was built: no unlock screen was shown
                self.push_screen(CaseListScreen())
            self._sweep_timer = self.set_interval(self.config.scan_seconds, self.request_sweep)
            self.set_interval(WATCH_SECONDS, self._look_for_writes, name="write watch")

    # -- after first paint: the first sweep, then the integrity check -----------------------------
    @on(CaseTable.Counted)
    def _list_drawn(self, message: CaseTable.Counted) -> None:
        session, self._unswept = self._unswept, None
        if session is not None and session is self.session:
            # Once the rows are on the terminal: starting the sweep's process (the first
            # time, its fork server too) would otherwise come before them.
            self.call_after_refresh(self.request_sweep)
            if self._freeze_timer is None:
                self._freeze_timer = self.set_timer(FREEZE_AFTER_SECONDS, self._freeze_start_up)

    def _freeze_start_up(self) -> None:
        # Everything alive once the list is up (Textual, the modules, the screens) lives as
        # long as the console. Frozen, the garbage collector's full passes stop walking it:
        # they had grown to 50 to 250 ms, and one landing in a keystroke made it late (p95
        # 73 to 97 ms without, 55 to 66 ms with, over two runs each at 100,000 cases). Garbage
        # is collected first so that none is frozen with it.
        gc.collect()
        gc.freeze()
        self._start_up_frozen = True

    def _check_when_swept(self, event: Worker.StateChanged) -> None:
        # Once the first sweep is over (whatever its outcome), read the whole file to check it:
        # about a second at 100,000 cases, which used to come before anything was drawn. After
        # the sweep rather than beside it, so their memory is not needed at the same time.
        if event.worker.group != "sweep" or not event.worker.is_finished:
            return
        session, self._unchecked = self._unchecked, None
        if session is not None and session is self.session:
            self._check_integrity(session)
        session, self._unreplayed = self._unreplayed, None
        if session is not None and session is self.session:
            self._check_cached_states(session)
        session, self._unauthored = self._unauthored, None
        if session is not None and session is self.session:
            self._check_case_authors(session)

    @work(thread=True, exit_on_error=False, group="authors", description="case authors")
    def _check_case_authors(self, session: Session) -> None:
        # After every unlock: each change to the case records against its author's signing key
        # and role (a forged resolution, correctly chained, would take a child off the list).
        try:
            with session.db.connection_context():
                forged = verify_case_authors(pause=lambda: time.sleep(REPLAY_PAUSE))
        except Exception:
            if session is not self.session:
                return  # locked meanwhile: the next unlock checks again
            raise
        if forged.first is not None:
            self.post_message(CaseChangeForged(session, forged.why))

    @on(CaseChangeForged)
    def _case_change_forged(self, message: CaseChangeForged) -> None:
        if message.session is self.session:
            # Shorter than check's line (a notice at 80x24 has a dozen rows): what happened,
            # what to do, and that the list may still show it.
            text = (
                f"A change to the case records was not made through the console "
                f"({safe(message.why)}): someone changed the database outside the console. "
                "Tell the other DSLs and restore the last backup from before it; until then "
                "the list may still show that change. Ctrl+D dismisses this."
            )
            # Shown until dismissed (Ctrl+D), not for a minute: a DSL must not miss it.
            self.notify(
                text,
                title="Audit trail",
                severity="error",
                timeout=FORGED_NOTICE_SECONDS,
                markup=False,
            )

    @work(thread=True, exit_on_error=False, group="integrity", description="integrity check")
    def _check_integrity(self, session: Session) -> None:
        if not session.db.integrity_ok():
            self.post_message(IntegrityFailed(session))

    @work(thread=True, exit_on_error=False, group="replay", description="cached states")
    def _check_cached_states(self, session: Session, refs: frozenset[str] | None = None) -> None:
        # After unlocking (REPLAY_EVERY), or for the cases a sweep found suspect (`refs`): the
        # cached states the list and the sweep read, against the events. A state written
        # outside the console (a risk cleared, a case marked closed) is recomputed rather
        # than shown. In slices, each followed by a pause,
        # so that the replay of 100,000 cases gives way to typing.
        try:
            with session.db.connection_context():
                repaired = repair_stale_states(
                    session,
                    pause=lambda: time.sleep(REPLAY_PAUSE),
                    slice_size=REPLAY_SLICE,
                    refs=refs,
                )
        except Exception:
            if session is not self.session:
                return  # locked meanwhile, which closed the connection: the next unlock replays
            raise
        if refs is None:
            self._replayed_at = time.monotonic()
        if repaired:
            self.post_message(StatesRepaired(session, tuple(repaired)))

    @on(StatesRepaired)
    def _states_repaired(self, message: StatesRepaired) -> None:
        if message.session is not self.session:
            return
        refs = message.refs
        self.notify(
            f"The stored state of {plural(len(refs), 'case')} ({some_refs(refs)}) did not match the "
            "history recorded: it was changed outside the console. It has been worked out "
            "again from the events, and the audit trail says so. Tell the DSL; `dsl-console "
            "audit verify` checks the trail.",
            title="Records corrected",
            severity="warning",
            timeout=120,
            markup=False,
        )
        self.refresh_list()
        self.request_sweep()

    @on(IntegrityFailed)
    def _integrity_failed(self, message: IntegrityFailed) -> None:
        if message.session is not self.session:
            return  # locked meanwhile: the next unlock checks again
        # From now on the check runs at open, so unlocking again is refused with the same line
        # instead of showing the damaged file's cases once more.
        self.opener = replace(self.opener, verify_integrity=True)
        text = str(integrity_failed(self.db_path))
        self._lock(text[:1].upper() + text[1:] + ".", audit=False)

    # -- changes and the sweep -------------------------------------------------------------------
    def case_changed(self, ref: str = "") -> None:
        """Call after any write: refresh the list (highlighting `ref`) and run a sweep."""
        self.post_message(CasesChanged(ref))

    @on(CasesChanged)
    def _cases_changed(self, message: CasesChanged) -> None:
        # The DSL has acted on the case: what was announced about it may no longer be so, and
        # the next sweep announces whatever still is.
        if message.ref:
            self.withdraw_notices(message.ref)
        self.refresh_list(keep=message.ref or None)
        self.request_sweep()

    def announce(self, ref: str, text: str, *, risk: bool, severity: str) -> None:
        """A notice about one case. On the case list it goes in the notice bar, in lines of
        its own under the rows, never over them; over another screen it is a toast, which is
        remembered so it can be taken down when that case changes (or, for an immediate risk,
        once a sweep finds it escalated)."""
        listing = self.case_list
        bar = listing.notice_bar if listing is not None and self.screen is listing else None
        if bar is not None:
            bar.add(ref, text, risk=risk)
            return
        # A summary of many cases (no ref: "24 more cases flagged ...") is not one case.
        title = RISK_TITLE if risk else ("Case flagged" if ref else "Cases flagged")
        notice = Notification(text, title, severity, 30 if risk else 12, markup=False)  # type: ignore[arg-type]
        self._notices_by_ref.setdefault(ref, []).append(notice)
        self.post_message(Notify(notice))

    def notices_to_bar(self) -> None:
        """Back on the case list: the notices still shown as toasts (announced over another
        screen) move into the bar under the rows, rather than stay over them."""
        bar = self._notice_bar()
        if bar is None:
            return
        for ref, shown in self._notices_by_ref.items():
            for notice in shown:
                if notice in self._notifications:
                    self._unnotify(notice)
                    bar.add(ref, notice.message, risk=notice.title == RISK_TITLE)
        self._notices_by_ref.clear()

    def withdraw_notices(self, ref: str) -> None:
        """Take down the notices still shown about a case."""
        for notice in self._notices_by_ref.pop(ref, []):
            if notice in self._notifications:
                self._unnotify(notice)  # Textual's own removal of one notification
        if (bar := self._notice_bar()) is not None:
            bar.withdraw(ref)

    def _withdraw_risks_but(self, at_risk: frozenset[str]) -> None:
        """A risk announced earlier and now escalated (here or in another console): its
        notice is no longer true."""
        for ref in [r for r in self._notices_by_ref if r not in at_risk]:
            risky = [n for n in self._notices_by_ref[ref] if n.title == RISK_TITLE]
            for notice in risky:
                if notice in self._notifications:
                    self._unnotify(notice)
        if (bar := self._notice_bar()) is not None:
            bar.withdraw(risks_except=at_risk)

    def clear_notifications(self) -> None:
        """Take every notice down: the toasts and the case list's notice bar."""
        super().clear_notifications()
        self._notices_by_ref.clear()
        if (bar := self._notice_bar()) is not None:
            bar.withdraw()

    def action_command_palette(self) -> None:
        """Ctrl+P: the command palette, whose Enter waits for the hits of what was typed."""
        if self.use_command_palette and not isinstance(self.screen, CommandPalette):
            self.push_screen(ConsolePalette())

    def action_dismiss_notices(self) -> None:
        """Take every notice off the screen (ctrl+d); the header still counts the flags."""
        self.clear_notifications()

    def refresh_list(self, keep: str | None = None) -> None:
        """Re-query the case list's rows on screen and its counts, keeping the selection."""
        for screen in self.screen_stack:
            if isinstance(screen, CaseListScreen):
                screen.refresh_cases(keep=keep)

    @property
    def case_list(self) -> CaseListScreen | None:
        """The main screen, once unlocked."""
        for screen in self.screen_stack:
            if isinstance(screen, CaseListScreen):
                return screen
        return None

    def _notice_bar(self) -> NoticeBar | None:
        """The case list's notice bar, when the list is up with its children (a sweep's news
        once arrived as the console closed, and the bar it looked for had gone)."""
        listing = self.case_list
        return None if listing is None else listing.notice_bar

    def _look_for_writes(self) -> None:
        if self.session is not None and self._watcher is not None:
            self._check_for_writes(self._watcher)

    @work(thread=True, exclusive=True, exit_on_error=False, group="watch", description="watch")
    def _check_for_writes(self, watcher: WriteWatcher) -> None:
        if watcher.changed():
            self.post_message(OtherProcessWrote(watcher))

    @on(OtherProcessWrote)
    def _other_process_wrote(self, message: OtherProcessWrote) -> None:
        # Another console (or an import, or this console's own workers) committed: what the
        # list shows and what is flagged are brought up to date now, not at the next sweep.
        if message.watcher is not self._watcher or self.session is None:
            return
        self.refresh_list()
        self.request_sweep()

    def request_sweep(self) -> None:
        """Run the background sweep now (it also runs every `scan_seconds`).

        Asked for while one runs, one more runs once it is over, however often it was asked:
        sweeps are not stacked up. Each waiting sweep held a thread of the pool that Textual
        runs its thread workers on (six on two cores), and once they were all taken the list's
        own query for a filter keystroke waited for a sweep to end.
        """
        if self.session is None:
            return
        if self._sweeping:
            self._sweep_again = True
            return
        self._sweeping = True
        self._sweep_again = False
        self._sweep(self.session, self.now())

    def _after_sweep(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "sweep" or not event.worker.is_finished:
            return
        self._sweeping = False
        if self._sweep_again:
            self.request_sweep()

    @work(thread=True, exit_on_error=False, group="sweep", description="sweep")
    def _sweep(self, session: Session, as_of: datetime) -> None:
        news = self._news(session, as_of)
        if news is not None and not get_current_worker().is_cancelled:
            self.post_message(SweepFinished(as_of, news))

    def _news(self, session: Session, as_of: datetime) -> SweepNews | None:
        # In the sweep's own process, so that its second of work at 100,000 cases never holds
        # the interpreter while the user types; in this worker thread if none can start.
        sweeper = self.sweeper
        if sweeper is None or self.session is not session:
            return None  # locked meanwhile
        try:
            return sweeper.news(as_of)
        except HelperUnavailable:
            if self.sweeper is not sweeper:
                return None
            self.sweeper = LocalSweeper(session)
            return self.sweeper.news(as_of)

    @on(SweepFinished)
    def _swept(self, message: SweepFinished) -> None:
        session = self.session
        if session is None:
            return  # locked meanwhile: say nothing about cases
        self.last_sweep = message
        self.sweep_count += 1
        if self.sweeper is not None:
            self.sweeper.accept(message.news)
        if message.news.suspect:
            # The sweep judged these from their events; their stored state is put right (and
            # the list with it) on the record, without waiting for the next replay.
            self._check_cached_states(session, message.news.suspect)
        notices = message.news.notices
        self._withdraw_risks_but(message.news.at_risk)
        # The first sweep after each unlock, not only the console's first: after a lock its
        # helper starts afresh, and every flag came back as news, a toast each over the form.
        first, self._unlock_unswept = self._unlock_unswept, False
        shown, summary = condense(notices, first=first)
        for notice in shown:
            self.announce(notice.ref, notice.text, risk=notice.bell, severity=notice.severity)
        if summary:
            self.announce("", summary, risk=False, severity="warning")
        if any(n.bell for n in notices):
            self.bell()
        # Redrawn only when a flag, a countdown, the date or the records changed: the sweep
        # runs every minute, and a redraw for nothing would move the rows under the reader.
        if message.news.digest != self._listed:
            self._listed = message.news.digest
            self.refresh_list()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The app's own workers (the sweep, the lock) report failures as a notice."""
        report_failed_worker(self, event)
        self._check_when_swept(event)
        self._after_sweep(event)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that need an open session are hidden until there is one."""
        if action in ("lock", "new_case", "show_view", "filter_list", "sweep_now"):
            return self.session is not None
        return True

    # -- the idle lock ---------------------------------------------------------------------------
    def check_idle_lock(self) -> None:
        """Lock when nobody has pressed a key for `lock_minutes` by the injected clock."""
        if self.session is None or self.locked:
            return
        if self.now() - self._last_active >= timedelta(minutes=self.config.lock_minutes):
            self._lock(
                f"The console locked after {plural(self.config.lock_minutes, 'minute')} "
                "without a key press. Your work is kept: unlock to carry on."
            )

    async def action_quit(self) -> None:
        """Quit; with something typed in an open form, ask first. (Ctrl+Q once threw a
        half-typed note away without a word, where Escape asks.)"""
        from dsl_console.ui.forms.base import FormScreen
        from dsl_console.ui.forms.confirm import ConfirmScreen

        typed = any(
            isinstance(screen, FormScreen) and screen.ASK_BEFORE_DISCARDING and screen.has_typed
            for screen in self.screen_stack
        )
        if not typed or isinstance(self.screen, ConfirmScreen):
            await super().action_quit()
            return

        def answered(quit_anyway: bool | None) -> None:
            if quit_anyway:
                self.exit()

        self.push_screen(
            ConfirmScreen(
                "Quit and throw away what you have typed in the form? Nothing of it has been "
                "saved.",
                yes="Quit",
                no="Keep editing",
            ),
            answered,
        )

    def action_lock(self) -> None:
        """Cover the screen, forget the key, and ask for the passphrase again (ctrl+l)."""
        self._lock("You locked the console. Your work is kept: unlock to carry on.")

    def _lock(self, note: str, *, audit: bool = True) -> None:
        # `audit=False` for a damaged database, which is left untouched for recovery.
        session = self.session
        if session is None or self.locked:
            return
        self.session = None
        self.locked = True
        self.clear_notifications()
        list_screen = self.case_list
        if list_screen is not None:
            list_screen.forget_cases()
        self.push_screen(
            UnlockScreen(
                self.opener,
                UnlockMode.LOCKED,
                user=session.user,
                demo=self.demo,
                note=note,
            )
        )
        sweeper, self.sweeper = self.sweeper, None
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.close()
        self._close_session(session, sweeper, audit=audit)

    @work(thread=True, exit_on_error=False, group="lock", description="lock")
    def _close_session(
        self, session: Session, sweeper: SweepProcess | LocalSweeper | None, *, audit: bool = True
    ) -> None:
        self._let_reads_finish()
        try:
            if sweeper is not None:
                sweeper.close()  # its process holds the key too
            if audit:
                with session.db.connection_context():
                    session.audit("lock")
        finally:
            session.close()

    def _let_reads_finish(self, wait: float = CLOSE_WAIT_SECONDS) -> None:
        """Wait (up to `wait` seconds) for the thread workers still reading the database.

        forget_key closes the connections of every thread, and closing one in the middle of a
        query crashes SQLite: seen when a lock came straight after a sweep's refresh, and when
        the console closed while the list was still counting (a segmentation fault). Once
        locked or closed, those workers post nothing."""
        try:
            me: Worker | None = get_current_worker()
        except NoActiveWorker:
            me = None  # the UI thread: the console closing
        busy = [
            w
            for w in list(self.workers)
            if w is not me and w.group not in ("lock", "unlock") and not w.is_finished
        ]
        deadline = time.monotonic() + wait
        while any(not w.is_finished for w in busy) and time.monotonic() < deadline:
            time.sleep(0.01)

    # -- navigation ------------------------------------------------------------------------------
    def open_case(self, ref: str) -> None:
        """Show one case's stage timeline."""
        if self.session is None:
            return
        from dsl_console.ui.screens.case_screen import CaseScreen

        self.push_screen(CaseScreen(ref))

    def action_new_case(self) -> None:
        """Open the new-case form."""
        if self.session is None:
            return
        if not self.session.can_write:
            self.notify(f"{self.session.user} has a read-only account.", severity="warning")
            return
        from dsl_console.ui.forms.new_case import NewCaseForm

        self.push_screen(NewCaseForm())

    def action_profile(self) -> None:
        """Open your own profile (full name, job title, email); any account may set its own."""
        if self.session is None:
            return
        from dsl_console.ui.forms.profile import ProfileForm

        self.push_screen(ProfileForm())

    def action_help(self) -> None:
        """Show every key of the current screen."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(help_for(self.screen))

    def action_show_view(self, name: str) -> None:
        """Switch the case list to a quick view (from the command palette)."""
        if isinstance(self.screen, CaseListScreen):
            self.screen.action_view(name)
        else:
            self.notify("Go back to the case list first (escape).", timeout=5)

    def action_filter_list(self) -> None:
        """Start filtering the case list (from the command palette)."""
        if isinstance(self.screen, CaseListScreen):
            self.screen.action_filter()
        else:
            self.notify("Go back to the case list first (escape).", timeout=5)

    def action_sweep_now(self) -> None:
        """Run the background sweep at once (from the command palette)."""
        self.request_sweep()

    def on_unmount(self) -> None:
        if self.opener.early is not None:
            self.opener.early.abandon()  # an unlock still under way is not waited for
        if self._freeze_timer is not None:
            self._freeze_timer.stop()  # a freeze still to come would outlive the console
        if self._start_up_frozen:
            gc.unfreeze()  # the process may go on (under tests, to the next console)
        if self.sweeper is not None:
            self.sweeper.close()
            self.sweeper = None
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        if self.session is not None:
            # Briefly, on the UI thread: a worker waiting on it (call_from_thread) cannot end.
            self._let_reads_finish(wait=UNMOUNT_WAIT_SECONDS)
            self.session.close()
            self.session = None


# The console, as the command line and the tests build it: one factory, so that every test
# runs the app the command line runs (its arguments are DslConsoleApp's).
create_app = DslConsoleApp


def run_console(app: DslConsoleApp) -> int:
    """Run the console, built by `create_app`, in this terminal; the exit status (0 on a normal
    quit). The caller builds it first and lets go of any credentials it gave, so that once the
    console has unlocked nothing holds them (the app takes them once)."""
    app.run()
    return app.return_code or 0
