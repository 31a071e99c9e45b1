"""What each command does, over the services. Parsing and exit handling live in cli.py."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsl_console.cli import (
    DEMO_PASSPHRASE,
    DEMO_USER,
    completion_script,
    print_json,
    resolve_config,
    resolve_db,
)
from dsl_console.config import Config
from dsl_console.core.clock import LONDON, iso, local_date, parse_date, parse_moment
from dsl_console.core.terminal_text import safe
from dsl_console.core.wording import some_refs
from dsl_console.errors import AccessError, ConsoleError, InputError
from dsl_console.prompts import credentials_from_environment
from dsl_console.services.outbox import (
    empty_outboxes,
    outbox_for,
    outbox_refusal,
    server_login,
)
from dsl_console.services.session import (
    Credentials,
    Session,
    account_from_environment,
    open_session,
)
from dsl_console.store.keyslots import KdfCost
from dsl_console.tables import paragraph, table, terminal_width

if TYPE_CHECKING:  # imported when a command runs: `procedures` and `--version` need neither
    from dsl_console.core.calendar import WorkingCalendar
    from dsl_console.services.sweep import CaseFlags


def _session(
    args: argparse.Namespace, *, create: bool = False, hold_writes: bool = False
) -> Session:
    config = resolve_config(args)
    path = resolve_db(args)
    if not create and not path.exists():
        # Say so before asking for a passphrase that could not help.
        raise ConsoleError(
            f"no database at {path}: create one with `dsl-console import` or open the console"
        )
    session = open_session(
        path,
        config,
        credentials_from_environment(),
        create=create,
        hold_writes=hold_writes,
    )
    if session.account_notice:
        print(f"warning: {safe(session.account_notice)}", file=sys.stderr)
    return session


# -- the console ---------------------------------------------------------------------------------
def _need_a_terminal() -> None:
    """The console draws on a terminal and reads keys from it: without one (cron, a pipe, an
    SSH command with no -t) it would draw escape sequences into a file or wait for ever."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise InputError(
            "the console needs a terminal (for scripts: check, export, import; over SSH: "
            "ssh -t); nothing was opened"
        )


def _console_process() -> None:
    """What this process takes on before it becomes the console, which outlives its locks:
    SQLite's freed memory overwritten from the first page read (store/database)."""
    from dsl_console.store.database import wipe_freed_memory  # SQLCipher: not for --version

    wipe_freed_memory()


def console(args: argparse.Namespace) -> int:
    """Open the console (it asks for the passphrase on its unlock screen)."""
    _need_a_terminal()
    _console_process()
    config, path = resolve_config(args), resolve_db(args)
    # Forgotten by the environment once read: the sweep's helper processes start later.
    user, passphrase = account_from_environment(forget=True)
    credentials = Credentials(user, passphrase) if user and passphrase else None
    early = None
    if credentials is not None and path.exists():
        # Unlocking begins now, in a thread, while the console's screens are imported.
        from dsl_console.services.opening import Opener

        early = Opener(path, config).begin(credentials)
    from dsl_console.ui.app import create_app, run_console

    app = create_app(path, config, credentials=credentials, early=early, user=user or "")
    # The app takes the credentials once; this frame, alive while the console runs, must not
    # keep them (README: security, the memory of a running console).
    del credentials, passphrase, early
    return run_console(app)


def demo(args: argparse.Namespace) -> int:
    """Open the console on the demo database, creating it with fictional cases when absent."""
    _need_a_terminal()
    _console_process()
    from dsl_console.services.demo_db import ensure_demo

    config = resolve_config(args)
    path = resolve_db(args, demo=True)
    env_user, env_pass = account_from_environment(forget=True)
    credentials = (
        Credentials(env_user, env_pass)
        if env_user and env_pass
        else Credentials(DEMO_USER, DEMO_PASSPHRASE)
    )
    ensure_demo(path, config, credentials)
    from dsl_console.ui.app import create_app, run_console

    app = create_app(path, config, credentials=credentials, demo=True)
    del credentials, env_pass  # as in `console`: the app takes them once
    return run_console(app)


# -- check ---------------------------------------------------------------------------------------
def check(args: argparse.Namespace) -> int:
    """The sweep, printed; exit 1 when any open case carries a flag."""
    from dsl_console.services.sweep import sweep
    from dsl_console.store.account_trail import FORGED_CASE_CHANGE, verify_case_authors
    from dsl_console.store.audit import foreign_schema
    from dsl_console.store.cases import every_ref, refs_changed_by
    from dsl_console.store.state_receipts import (
        Receipt,
        believed,
        record_receipt,
        replay_unvouched,
    )

    as_of, as_of_day = _as_of(args.as_of)
    session = _session(args)
    try:
        if as_of_day is not None:
            # A plain date is the end of that date's working hours (contract section 1).
            as_of = session.calendar.end_of(as_of_day)
        as_of = as_of or session.now()
        # One read transaction: what is replayed and what is swept are the same rows (a
        # write slipped in between once moved a due back after its replay).
        with session.db.atomic("DEFERRED"):
            # A case change in someone's name that their key did not sign, or beyond their
            # role (a forged resolution once took a child at risk off this list): the cases it
            # touched are judged from their events without it, and it is said on every run.
            forged = verify_case_authors()
            changed = refs_changed_by(forged.entries)
            # A trigger or view planted in the schema can rewrite what this reads, and did
            # (a due moved on as the receipt was written): then nothing cached is believed.
            foreign = foreign_schema()
            # The events are the truth: a cached state written outside the console (a cleared
            # risk, a case marked closed, a due moved on) must not hide a flag here. Every case
            # the last receipt does not vouch for is replayed (store/state_receipts.py), and
            # those that disagree are judged from their events alone.
            vouched = Receipt() if foreign else believed(forged.receipt)
            replayed = replay_unvouched(vouched, session.registry, session.calendar)
            stale, removed = replayed.stale, replayed.removed()
            found = sweep(
                session,
                as_of,
                with_duties=True,
                distrusted=every_ref() if foreign else set(stale) | changed,
                forged=forged.entries,
            )
        if replayed.receipt is not None and session.can_write and not foreign:
            receipt, user = replayed.receipt, session.user
            session.write(lambda: record_receipt(session.now(), user, receipt))
    finally:
        session.close()
    warnings = []
    if foreign:
        more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
        warnings.append(
            f"{foreign[0]}{more}: it could rewrite what the console stores, so every case is "
            "judged from its events. Keep the files as they are, tell the other DSLs, and run "
            "`dsl-console audit verify`"
        )
    if removed:
        warnings.append(
            f"{removed} were deleted outside the console (which deletes no record), so this "
            "check cannot list what they held. Keep the files as they are and restore the "
            "last backup made before it"
        )
    if forged.first is not None:
        said = FORGED_CASE_CHANGE.format(why=forged.why)
        if changed:
            said += f". This check leaves that change out of {some_refs(sorted(changed))}"
        warnings.append(said)
    if stale:
        warnings.append(
            f"the stored state of {len(stale)} case(s) ({some_refs(stale)}) disagrees with "
            "their events, so it was changed outside the console; they are judged from their "
            "events. Open the console (it recomputes them) and run `dsl-console audit verify`"
        )
    for said in warnings:
        print(f"warning: {safe(said)}", file=sys.stderr)
    # cron runs this every few minutes on a server: the day-old exports go with it.
    empty_outboxes(session.config.outbox, session.now())
    flagged = [c for c in found if c.flags]
    try:
        _print_found(args, found, as_of, session.calendar, warnings)
    except BrokenPipeError:
        # Read only in part (`check | head -1`): the status still says what was found, for
        # a script with pipefail must not take a flagged case for none.
        _stdout_to_devnull()
    return 1 if flagged else 0


def _stdout_to_devnull() -> None:
    """After a broken pipe: what is still buffered for standard output goes nowhere (Python's
    own flush at exit would otherwise complain on stderr)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _print_found(
    args: argparse.Namespace,
    found: list[CaseFlags],
    as_of: datetime,
    calendar: WorkingCalendar,
    warnings: list[str],
) -> None:
    if args.json:
        from dsl_console.services.sweep import remembering_iso

        text_of = remembering_iso()
        # To the second, as the contract's example: the moment of the run, not of the clock tick.
        shown = iso(as_of.replace(microsecond=0))
        document: dict[str, object] = {
            "as_of": shown,
            "cases": [c.to_json(text_of) for c in found],
        }
        if warnings:
            # Only when there are any: a script reading the JSON alone learns of them too.
            document["warnings"] = warnings
        print_json(document)
    else:
        _print_check(found, as_of, calendar)


def _as_of(text: str | None) -> tuple[datetime | None, date | None]:
    """--as-of as a moment, or as a plain date (whose end of day needs the calendar)."""
    if not text:
        return None, None
    if re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", text):
        return None, parse_date(text, "--as-of")
    if re.fullmatch(r"\s*\d{1,2}/\d{1,2}/\d{4}.*", text):
        # The console's forms take 25/11/2026; the command line takes ISO dates only, and
        # says so rather than only what a timestamp looks like.
        raise InputError(
            "write the date as 2026-11-25 (the end of that day's working hours) or a moment "
            "as 2026-11-25T09:30:00+00:00",
            field="--as-of",
        )
    return parse_moment(text, "--as-of"), None


def _print_check(found: list, as_of, calendar) -> None:  # type: ignore[no-untyped-def]
    """One line per flagged case and per duty it owes; at a terminal, each wrapped to its
    width between words, its lines after the first indented (the terminal's own wrap cut a
    word or a ref in two); to a file or a pipe, whole lines."""
    from dsl_console.core.wording import countdown, duty_countdown, risk_instruction
    from dsl_console.tables import paragraph, terminal_width

    width = terminal_width()

    def say(line: str, indent: str = "", hang: str = "    ") -> None:
        for part in paragraph(line, indent=indent, hang=hang, width=width):
            print(part)

    flagged = [c for c in found if c.flags]
    opened = sum(1 for c in found if c.status == "open")
    owing = len(found) - opened
    also = f" and {owing} resolved case(s) with a duty still owed" if owing else ""
    say(
        f"{opened} open case(s){also}, {len(flagged)} flagged, as of "
        f"{local_date(as_of).strftime('%a %d/%m/%Y')} {as_of.astimezone(LONDON):%H:%M}",
        hang="",
    )
    for item in flagged:
        if item.status == "open":
            words = f"stage {item.stage}  {countdown(item.due, item.working_days_left, as_of)}"
        else:
            words = f"resolved at stage {item.stage}"
        extra = ""
        if item.risk_due is not None:
            extra = f" | IMMEDIATE RISK: {risk_instruction(item.risk_due, as_of, calendar)}"
        say(f"{item.ref}  {item.procedure} {words}  [{', '.join(item.flags)}]{extra}", "  ")
        for duty in item.duties:
            target = " (target)" if duty.soft else ""
            when = duty_countdown(duty.due, duty.working_days_left, as_of)
            say(f"owed: {duty.what}: {when}{target}", "      ", "      ")


# -- import / export -----------------------------------------------------------------------------
def import_file(args: argparse.Namespace) -> int:
    """Add the cases of a JSON file, all or nothing."""
    from dsl_console.services.casebook import import_cases
    from dsl_console.services.transfer import read_document

    config = resolve_config(args)
    data = _read_input(args.file)
    path = resolve_db(args)
    credentials = credentials_from_environment()
    from dsl_console.core.procedures import load_registry

    registry = load_registry(config.procedures_dir)
    from dsl_console.core.clock import system_clock

    # Everything is checked before the database is opened, let alone written.
    with progress_on_stderr("reading") as progress:
        cases = read_document(data, registry, system_clock(), config.calendar(), progress=progress)
    created = not path.exists()
    session = open_session(path, config, credentials, create=True, registry=registry)
    if created:
        # Said on stderr, so that standard output keeps the one result line scripts read.
        print(
            safe(f"created the database {path} with {session.user} as its first DSL account"),
            file=sys.stderr,
        )
    try:
        with progress_on_stderr("importing") as progress:
            count = import_cases(session, cases, progress=progress)
    finally:
        session.close()
    print(f"imported {count} case(s)")
    return 0


def _read_input(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    path = Path(name)
    if path.is_dir():
        raise InputError(f"{name} is a folder, not a JSON file")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot be read ({exc.strerror})") from None


def export(args: argparse.Namespace) -> int:
    """The exports for the partnership."""
    from dsl_console.services import exporting
    from dsl_console.services.exports.target import check_target

    start = parse_date(args.date_from, "--from") if getattr(args, "date_from", None) else None
    end = parse_date(args.date_to, "--to") if getattr(args, "date_to", None) else None
    if start and end and end < start:
        raise InputError("--to is before --from")
    # Refused before the database is opened, so a slip touches nothing, not even the trail.
    # In server mode the file goes to the DSL's outbox (README: the DSL team).
    root = resolve_config(args).outbox
    if refused := outbox_refusal(root):
        raise InputError(refused)
    outbox = outbox_for(root, server_login())
    if outbox is not None:
        args.out = str(outbox.place(Path(args.out)))
    check_target(Path(args.out), resolve_db(args), force=bool(getattr(args, "force", False)))
    # The integrity check runs beside the export rather than before it (a second less at
    # 100,000 cases); nothing is written, file or audit entry, unless it passes.
    session = _session(args, hold_writes=True)
    blanks: list[str] = []
    cautions: list[str] = []
    try:
        with exporting.checked_beside(session), progress_on_stderr("exporting") as progress:
            message = exporting.export_to(
                session,
                args.what,
                Path(args.out),
                fmt=getattr(args, "format", None),
                date_from=start,
                date_to=end,
                initials=bool(getattr(args, "initials", False)),
                ref=getattr(args, "ref", None),
                form=getattr(args, "form", None),
                year=getattr(args, "year", None),
                force=bool(getattr(args, "force", False)),
                on_blanks=blanks.extend,
                on_cautions=cautions.extend,
                progress=progress,
            )
    finally:
        session.close()
    print(message)
    if blanks:
        # On stderr, so a script reading the "wrote ..." line is not disturbed; still exit 0.
        print(f"note: printed blank: {safe(', '.join(blanks))}", file=sys.stderr)
    for caution in cautions:
        print(f"note: {safe(caution)}", file=sys.stderr)
    return 0


BAR_FROM = 2_000  # cases: below this an import or export is over before a bar means anything


@contextlib.contextmanager
def progress_on_stderr(what: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr for a long import or export when stderr is a terminal; quiet
    otherwise (a script, cron), so standard output keeps only the result line."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress(
        f"{what}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,  # gone once done: the terminal keeps the result line only
    )
    task: list[Any] = []

    def progress(done: int, total: int) -> None:
        if total < BAR_FROM:
            return
        if not task:
            bar.start()
            task.append(bar.add_task(what, total=total))
        bar.update(task[0], completed=done, total=total)

    try:
        yield progress
    finally:
        bar.stop()


def procedures(args: argparse.Namespace) -> int:
    """List the procedures: stages with holders and timescales, and every duty in words."""
    from dsl_console.core.procedures import load_registry

    config: Config = resolve_config(args)
    registry = load_registry(config.procedures_dir)
    width = terminal_width()

    def say(text: str, indent: str = "", hang: str = "  ") -> None:
        for line in paragraph(text, indent=indent, hang=hang, width=width):
            print(line)

    for proc in registry.latest():
        say(f"{proc.id}: {proc.name} (version {proc.version}, effective {proc.effective:%d/%m/%Y})")
        say(f"{proc.partnership}" + (f". Source: {proc.source}" if proc.source else ""), "  ")
        if proc.shorten_only:
            say("A deadline set by hand may only shorten a stage's timescale.", "  ")
        stages = [
            (
                stage.number,
                stage.name + (" (optional)" if stage.optional else ""),
                stage.timescale.describe(),
                stage.holder,
            )
            for stage in proc.stages
        ]
        for line in table(
            ("Stage", "Name", "Timescale", "Held by"),
            stages,
            right={0},
            indent="  ",
            width=width,
        ):
            print(line)
        if proc.duties:
            print("  Duties:")
            for duty in proc.duties:
                say(f"{duty.id}: {duty.what}", "    ", "     ")
                say(duty.describe(), "       ", "")
        print()
    return 0


# -- accounts, audit, backup ---------------------------------------------------------------------
def user(args: argparse.Namespace) -> int:
    """Manage accounts."""
    session = _session(args)
    try:
        print(user_action(session, args))
    finally:
        session.close()
    return 0


def user_action(
    session: Session, args: argparse.Namespace, *, kdf_cost: KdfCost | None = None
) -> str:
    """`dsl-console user add|edit|list|remove|passwd`: do it and return the line to print."""
    from dsl_console.prompts import new_passphrase
    from dsl_console.services import accounts
    from dsl_console.services.session import check_user_name
    from dsl_console.store import keyslots, users
    from dsl_console.store.database import OPEN_ELSEWHERE
    from dsl_console.store.users import ROLE_LABELS, parse_role

    cost = {} if kdf_cost is None else {"kdf_cost": kdf_cost}
    if args.action == "list":
        return accounts.accounts_text(session, accounts.list_accounts(session))
    if args.action == "add":
        # Every check that needs no passphrase comes first, so no one types one in vain.
        session.require_admin()
        name = check_user_name(args.name)
        role = parse_role(args.role)
        if users.role_of(name) is not None:
            raise InputError(f"user {name} already exists")
        profile = accounts.check_profile(_profile_given(args, users.Profile()))
        accounts.add_account(session, name, role, new_passphrase(name), profile=profile, **cost)
        return f"added {name} ({ROLE_LABELS[role]}); they unlock with their own passphrase"
    if args.action == "edit":
        name = args.name or session.user
        found = users.account(name)
        if found is None:
            raise InputError(f"no user {name}")
        profile = accounts.edit_profile(session, name, _profile_given(args, found.profile))
        return f"{name}: " + accounts.profile_line(profile)
    if args.action == "remove":
        accounts.remove_account(session, args.name)
        done = f"removed {args.name}; their passphrase no longer unlocks the database"
        try:
            # A copy of the key file kept from before still holds their slot: a new database
            # key makes it useless.
            accounts.rekey(session, f"after removing {args.name}")
        except ConsoleError as exc:
            # Owed until done: `user list`, `doctor` and a DSL's unlock say so meanwhile.
            keyslots.owe_rekey(keyslots.keys_path(session.path), f"{args.name} was removed")
            if isinstance(exc, AccessError):  # a slot from before key pairs: who must unlock
                return f"{done}. {exc}"
            if str(exc) == OPEN_ELSEWHERE:
                return (
                    f"{done}. The database is not yet re-encrypted under a new key, as it is "
                    "open in a console or another command: close them (or let them lock), then "
                    "run `dsl-console user rekey`"
                )
            return (
                f"{done}. The database is not yet re-encrypted under a new key ({exc}); then "
                "run `dsl-console user rekey`"
            )
        return f"{done}, and the database is re-encrypted under a new key"
    if args.action == "rekey":
        accounts.rekey(session, "asked for")
        return (
            "the database is re-encrypted under a new key; every account unlocks as before, "
            "and no older copy of the key file opens it"
        )
    if args.action == "passwd":
        name = args.name or session.user
        if name != session.user:
            session.require_admin()
        if users.role_of(name) is None:
            raise InputError(f"no user {name}")
        accounts.change_passphrase(session, name, new_passphrase(name), **cost)
        return f"passphrase changed for {name}; the old one no longer unlocks the database"
    raise InputError(f"unknown user action {args.action}")


def _profile_given(args: argparse.Namespace, current: Any) -> Any:
    """The profile with whichever of --full-name, --title and --email were given."""
    from dataclasses import replace

    given = {
        "full_name": getattr(args, "full_name", None),
        "job_title": getattr(args, "title", None),
        "email": getattr(args, "email", None),
    }
    return replace(current, **{key: value for key, value in given.items() if value is not None})


def audit(args: argparse.Namespace) -> int:
    """Verify or show the audit trail."""
    from dsl_console.store import audit as trail

    session = _session(args)
    try:
        if args.action == "verify":
            count, broken, why = trail.verify()
            if broken is not None:
                print(
                    f"audit trail BROKEN at entry {broken}: {why} ({count} entries intact before it)"
                )
                return 1
            # A trigger planted or a guard replaced would make what follows untrustworthy.
            foreign = trail.foreign_schema()
            if foreign:
                print(safe(f"audit trail BROKEN: {foreign[0]}"))
                return 1
            # An index rebuilt to disagree with its table (PRAGMA writable_schema) hides a
            # case from the list and `check`, which read through it; the quick check at open
            # counts entries only. SQLite's whole check compares them (3 s at 100,000 cases).
            damaged = session.db.execute_sql("PRAGMA integrity_check").fetchall()
            if damaged != [("ok",)]:
                print(
                    safe(
                        f"database BROKEN: {damaged[0][0]}: its indexes disagree with its "
                        "tables, so the list and `check` may not show every case. Keep the "
                        "files as they are and restore the last backup made before it"
                    )
                )
                return 1
            from dsl_console.store.anchoring import verify_content

            changes, broken, why = verify_content()
            if why:
                where = f" at entry {broken}" if broken is not None else ""
                print(f"case records BROKEN{where}: {why} ({changes} changes intact before it)")
                return 1
            from dsl_console.store.account_trail import verify_authors

            # Each entry against its author's signing key and role at the time.
            broken, why, granted = verify_authors()
            if broken is not None:
                print(
                    safe(
                        f"audit trail BROKEN: {why}; it was written outside the console by "
                        "someone with the database's key. Keep the files as they are and "
                        "restore the last backup made before it"
                    )
                )
                return 1
            accounts = granted.problems()
            if accounts:
                print(safe(f"accounts BROKEN: {accounts[0]}"))
                return 1
            from dsl_console.store.cases import stale_states

            # Every case replayed: the cached state the list and `check` read must be what
            # the events give (about ten seconds at 100,000 cases).
            stale = stale_states(session.registry, session.calendar)
            if stale:
                named = some_refs(stale)
                print(
                    safe(
                        f"case records BROKEN: the stored state of {len(stale)} case(s) "
                        f"({named}) disagrees with their events: it was changed outside the "
                        "console (the console works it out again when next unlocked)"
                    )
                )
                return 1
            last_id, head = trail.head()
            print(
                f"audit trail intact: {count} entries, head {last_id}:{head}; "
                f"case records match the {changes} changes that wrote them"
            )
            return 0
        # The hash column lets a reviewer match an exported "audit head N:hash" to entry N.
        # Every field may hold text written outside the console: the table prints it inert.
        entries = [
            (
                line.id,
                f"{line.at.astimezone(LONDON):%d/%m/%Y %H:%M}",
                line.user,
                line.action,
                line.ref,
                line.hash[: trail.HEAD_PREFIX_CHARS],
                line.detail if args.full else _DIGEST.sub(_shortened, line.detail),
            )
            for line in trail.lines(limit=args.limit, ref=args.ref)
        ]
        if not entries:
            print("no audit entries" + (f" for {safe(args.ref)}" if args.ref else ""))
            return 0
        headers = ("Entry", "When", "User", "Action", "Ref", "Hash", "Detail")
        for text in table(headers, entries, right={0}, width=terminal_width()):
            print(text)
        return 0
    finally:
        session.close()


# A content digest or a signing key in an entry's detail: 64 hex digits, shortened to the head
# length `audit show` gives hashes, so that a row fits a terminal (--full shows them whole).
_DIGEST = re.compile(r"\b[0-9a-f]{64}\b")


def _shortened(found: re.Match[str]) -> str:
    from dsl_console.store.audit import HEAD_PREFIX_CHARS

    return found.group()[:HEAD_PREFIX_CHARS] + "..."


def backup(args: argparse.Namespace) -> int:
    """An encrypted, consistent copy made with SQLite's online backup API."""
    from dsl_console.services.backups import make_backup

    session = _session(args)
    try:
        out = make_backup(session, Path(args.out), force=bool(args.force))
    finally:
        session.close()
    print(f"backup written to {out} (with its key file {out.name}.keys)")
    return 0


def _yes(question: str) -> bool:
    del question
    return True


def _ask_at_the_terminal(question: str) -> bool:
    """Ask a yes/no question on the terminal; without one, refuse (a restore replaces the
    database, so a script must say --yes)."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise InputError(
            "restore replaces the database: it asks first at a terminal; without one, add "
            "--yes; nothing was changed"
        )
    sys.stderr.write(f"{safe(question)}\nRestore? [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def restore(args: argparse.Namespace) -> int:
    """Replace the database with a backup after checking it."""
    from dsl_console.services.backups import restore_backup

    config = resolve_config(args)
    file = Path(args.file)
    aside = restore_backup(
        file,
        resolve_db(args),
        config,
        credentials_from_environment(),
        confirm=_yes if args.yes else _ask_at_the_terminal,
    )
    kept = f"; the database it replaced is kept as {aside}" if aside else ""
    print(f"database restored from {file}{kept}")
    return 0


# -- doctor --------------------------------------------------------------------------------------
def doctor(args: argparse.Namespace) -> int:
    """One line per problem with this deployment (at a terminal, wrapped to it, the rest of a
    problem indented under it); exit 1 when there is any."""
    from dsl_console.core.clock import system_clock
    from dsl_console.services.doctor import deployment_problems

    config = resolve_config(args)
    path = resolve_db(args)
    backups = Path(args.backups).expanduser() if args.backups else path.parent / "backups"
    problems = deployment_problems(path, config, backups=backups, now=system_clock())
    for problem in problems:
        for line in paragraph(" ".join(problem.split()), hang="  ", width=terminal_width()):
            print(line)
    if problems:
        count = len(problems)
        print(f"{count} problem{'' if count == 1 else 's'} found", file=sys.stderr)
        return 1
    print(f"no problem found with {path}")
    return 0


def completion(args: argparse.Namespace) -> int:
    """Print a shell's tab-completion script (no database needed)."""
    print(completion_script(args.shell), end="")
    return 0
