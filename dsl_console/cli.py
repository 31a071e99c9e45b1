"""The command line (contract section 4): parsing, dispatch, exit codes, one-line errors.

Exit 0 on success, 1 only where stated (`check` with flags, `audit verify` with a break), 2 on
any error with one line on stderr and never a traceback. Textual is imported only by the
commands that open the console.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, NoReturn

from dsl_console import __version__
from dsl_console.config import Config, load_config
from dsl_console.core.forms import FORM_IDS
from dsl_console.errors import ConsoleError, InputError
from dsl_console.paths import default_config_path, default_db_path, demo_db_path
from dsl_console.process import no_core_dumps
from dsl_console.typeahead import held_for_the_console, let_go

PROG = "dsl-console"
DEMO_USER = "demo"
DEMO_PASSPHRASE = "demo passphrase"  # the demo database holds fictional cases only


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message} (see {PROG} --help)\n")


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=default,
        help="database file (env DSL_CONSOLE_DB; default in the user data folder)",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=default,
        help="config file (env DSL_CONSOLE_CONFIG; default config.toml in the user config folder)",
    )


def _sub(group: argparse._SubParsersAction, name: str, help_text: str) -> argparse.ArgumentParser:
    """A subcommand whose --help starts with what it does (argparse shows only the listing's
    help otherwise)."""
    return group.add_parser(name, help=help_text, description=help_text)


def _whole_number(text: str) -> int:
    """An option that counts something: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def _year(text: str) -> int:
    """--year: a calendar year written in full, as the console's export screen asks; "26"
    would analyse the year 26 and print a report of nothing."""
    from dsl_console.core.validation import FIRST_YEAR, LAST_YEAR

    typed = text.strip()
    if not (typed.isdigit() and len(typed) == 4):
        raise argparse.ArgumentTypeError(f"{typed!r} is not a four-digit year, such as 2026")
    if not FIRST_YEAR <= int(typed) <= LAST_YEAR:
        raise argparse.ArgumentTypeError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    return int(typed)


def _where_and_exits() -> str:
    """The --help epilogue: the real default paths on this machine, and the exit statuses."""
    return (
        f"files on this machine:\n"
        f"  database  {resolve_db(argparse.Namespace(db=None))}\n"
        f"  demo      {demo_db_path()}\n"
        f"  config    {os.environ.get('DSL_CONSOLE_CONFIG') or default_config_path()} "
        "(procedures/ beside it)\n\n"
        "exit status: 0 success; 1 check found flags, audit verify a break, doctor a problem;\n"
        "2 any error (one line on stderr); 130 interrupted (Ctrl+C)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = OneLineParser(
        prog=PROG,
        description="Escalation tracking for designated safeguarding leads.",
        epilog=_where_and_exits(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        _global_options(cmd, suppress=True)
        return cmd

    command("demo", "open the console on a separate database of fictional cases")
    check = command("check", "the flags a background sweep would raise (exit 1 when any)")
    check.add_argument("--as-of", metavar="T", help="evaluate the cases as they stood at T")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    imp = command("import", "add the cases of a dsl-console/1 JSON file, all or nothing")
    imp.add_argument("file", metavar="FILE", help="the JSON file ('-' for standard input)")
    command("procedures", "the procedures known, their stages and timescales")

    export = command("export", "write exports for the partnership")
    what = export.add_subparsers(
        dest="what", parser_class=OneLineParser, metavar="WHAT", required=True
    )
    ej = _sub(what, "json", "every case with its full history (the import format)")
    el = _sub(what, "log", "the Escalation Summary Log")
    el.add_argument("--format", required=True, choices=("csv", "xlsx"), help="csv or xlsx (Excel)")
    el.add_argument("--from", dest="date_from", metavar="DATE", help="opened on or after DATE")
    el.add_argument("--to", dest="date_to", metavar="DATE", help="opened on or before DATE")
    el.add_argument(
        "--initials",
        action="store_true",
        help="initials for names and age for date of birth (logs leaving school)",
    )
    er = _sub(what, "report", "one case's partnership form (PDF)")
    er.add_argument("ref", metavar="REF", help="the case's ref")
    er.add_argument(
        "--form",
        required=True,
        choices=FORM_IDS,
        help="which partnership's form",
    )
    ea = _sub(what, "analysis", "the yearly analysis (PDF or CSV)")
    ea.add_argument(
        "--year", required=True, type=_year, metavar="YYYY", help="the calendar year analysed"
    )
    for p, metavar in ((ej, "FILE"), (el, "FILE"), (er, "FILE.pdf"), (ea, "FILE")):
        p.add_argument(
            "--out",
            required=True,
            metavar=metavar,
            help="the file to write (never the database, its key file or a backup)",
        )
        p.add_argument("--force", action="store_true", help="replace the file if it already exists")
        _global_options(p, suppress=True)

    user = command("user", "manage accounts (DSL only)")
    uwhat = user.add_subparsers(
        dest="action", parser_class=OneLineParser, metavar="ACTION", required=True
    )
    ua = _sub(uwhat, "add", "add an account")
    ua.add_argument("name", help="the account's user name (on a server: the DSL's login)")
    ua.add_argument(
        "--role",
        default="deputy",
        choices=("dsl", "deputy", "read-only"),
        help="what the account may do (default deputy)",
    )
    ue = _sub(uwhat, "edit", "set an account's full name, job title and email")
    ue.add_argument("name", nargs="?", help="whose (default: yours)")
    for p in (ua, ue):
        p.add_argument("--full-name", help="as the forms name them, e.g. 'Rhian Jones'")
        p.add_argument("--title", help="job title, e.g. 'Designated Safeguarding Lead'")
        p.add_argument("--email", help="the address the partnership forms give")
    ul = _sub(uwhat, "list", "list the accounts")
    ur = _sub(uwhat, "remove", "remove an account")
    ur.add_argument("name", help="the account to remove")
    _sub(
        uwhat,
        "rekey",
        "re-encrypt the database under a new key (done by remove; every account keeps its "
        "passphrase, and older copies of the key file stop working)",
    )
    up = _sub(uwhat, "passwd", "change your passphrase")
    up.add_argument("name", nargs="?", help="whose (default: yours)")
    for p in (ua, ue, ul, ur, up):
        _global_options(p, suppress=True)

    aud = command("audit", "the tamper-evident audit trail")
    awhat = aud.add_subparsers(
        dest="action", parser_class=OneLineParser, metavar="ACTION", required=True
    )
    av = _sub(
        awhat,
        "verify",
        "check the hash chain, each entry's signature and its author's role, the case records "
        "and the accounts (exit 1 naming the first break)",
    )
    ash = _sub(awhat, "show", "the newest entries")
    ash.add_argument(
        "--limit", type=_whole_number, default=50, metavar="N", help="how many (default 50)"
    )
    ash.add_argument("--ref", help="only entries about this case")
    ash.add_argument(
        "--full",
        action="store_true",
        help="every digest and signing key in full (shortened to 16 characters otherwise)",
    )
    for p in (av, ash):
        _global_options(p, suppress=True)

    backup = command("backup", "an encrypted, consistent copy of the database")
    backup.add_argument(
        "--out", required=True, metavar="FILE", help="the backup file (its FILE.keys beside it)"
    )
    backup.add_argument(
        "--force", action="store_true", help="replace the backup if it already exists"
    )
    restore = command("restore", "replace the database with a checked backup")
    restore.add_argument("file", metavar="FILE", help="the backup file (its FILE.keys beside it)")
    restore.add_argument(
        "--yes", action="store_true", help="do not ask first (for a script; a terminal asks)"
    )
    doctor = command(
        "doctor",
        "check this deployment: local disk, owners and modes, key file, backups, schedule, "
        "outboxes (exit 1 naming each problem)",
    )
    doctor.add_argument(
        "--backups",
        metavar="FOLDER",
        help="where the scheduled backups are written (default: backups/ beside the database)",
    )
    completion = command(
        "completion",
        "print a tab-completion script for your shell (bash: save it as "
        "~/.local/share/bash-completion/completions/dsl-console)",
    )
    completion.add_argument("shell", choices=COMPLETION_SHELLS, help="the shell it is for")
    return parser


COMPLETION_SHELLS = ("bash", "zsh", "tcsh")


def completion_script(shell: str) -> str:
    """The completion script for `shell`, made from this very parser (shtab), so it always
    offers the commands and options there are; paths complete as files or folders."""
    import shtab

    parser = build_parser()
    _complete_paths(parser, shtab)
    return shtab.complete(parser, shell=shell)


def _complete_paths(parser: argparse.ArgumentParser, shtab: Any) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in set(action.choices.values()):
                _complete_paths(child, shtab)
        elif action.metavar == "FOLDER":
            action.complete = shtab.DIRECTORY  # type: ignore[attr-defined]
        elif isinstance(action.metavar, str) and action.metavar.startswith(("FILE", "PATH")):
            action.complete = shtab.FILE  # type: ignore[attr-defined]


# -- context -------------------------------------------------------------------------------------
def resolve_db(args: argparse.Namespace, *, demo: bool = False) -> Path:
    """The database path from --db, then DSL_CONSOLE_DB, then the default."""
    if demo:
        return Path(args.db) if args.db else demo_db_path()
    raw = args.db or os.environ.get("DSL_CONSOLE_DB")
    return Path(raw).expanduser() if raw else default_db_path()


def resolve_config(args: argparse.Namespace) -> Config:
    """The config from --config, then DSL_CONSOLE_CONFIG, then the default file."""
    raw = args.config or os.environ.get("DSL_CONSOLE_CONFIG")
    if raw:
        config = load_config(Path(raw).expanduser(), must_exist=True)
    else:
        config = load_config(default_config_path(), must_exist=False)
    from dsl_console.core.procedures import load_registry

    # The default procedure must be one that is known, with the user's own files (contract
    # section 5): checked here, where the procedures folder beside the config is known.
    registry = load_registry(config.procedures_dir)
    if config.procedure not in registry:
        raise InputError(
            f"config: procedure {config.procedure!r} is not a known procedure "
            f"(known: {', '.join(registry.ids())})"
        )
    return config


def run(argv: Sequence[str] | None = None) -> int:
    """Parse and run a command; errors are raised as ConsoleError."""
    args = build_parser().parse_args(argv)
    for key in ("db", "config"):
        if not hasattr(args, key):
            setattr(args, key, None)
    command = args.command or "console"
    # From here to the console taking the terminal (the imports, the unlock), keys typed ahead
    # are held for it rather than echoed by the shell's terminal.
    held: AbstractContextManager[None]
    if command in ("console", "demo"):
        held = held_for_the_console()
    else:
        let_go()  # the hold `dsl-console` began at its start: this command's prompts echo
        held = nullcontext()
    with held:
        handler = _handlers().get(command)
        assert handler is not None
        return handler(args)


def _handlers() -> dict[str, Callable[[argparse.Namespace], int]]:
    from dsl_console import commands

    return {
        "console": commands.console,
        "demo": commands.demo,
        "check": commands.check,
        "import": commands.import_file,
        "procedures": commands.procedures,
        "export": commands.export,
        "user": commands.user,
        "audit": commands.audit,
        "backup": commands.backup,
        "restore": commands.restore,
        "doctor": commands.doctor,
        "completion": commands.completion,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """The `dsl-console` entry point."""
    try:
        os.umask(0o077)  # every file the console creates is private to its user
        no_core_dumps()
        return run(argv)
    except ConsoleError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; nothing was left half-written")
        return INTERRUPTED
    except BrokenPipeError:
        return 0
    except MemoryError:
        _fail("out of memory")
    except OSError as exc:
        _fail(f"{exc.strerror or 'file error'}" + (f": {exc.filename}" if exc.filename else ""))
    except Exception as exc:  # the last guard: no traceback, no data, just what broke
        _fail(f"unexpected {type(exc).__name__}; nothing was written (please report this)")
    return 2


INTERRUPTED = 130  # Ctrl+C, as shells report a command ended by SIGINT (contract section 4)


def _fail(message: str) -> None:
    from dsl_console.core.terminal_text import safe

    # One line, and no stored byte in it may act on the terminal (a ref quoted in an error).
    line = safe(" ".join(message.split()))
    sys.stderr.write(f"{PROG}: {line}\n")


def print_json(obj: object) -> None:
    """Print one JSON object on standard output. JSON escapes C0 controls itself; DEL, the C1
    controls and the bidirectional overrides are escaped too (as \\u0085), so that stored text
    cannot act on a terminal the output is read in, and parses back unchanged."""
    from dsl_console.core.terminal_text import CONTROL

    text = json.dumps(obj, ensure_ascii=False)
    sys.stdout.write(CONTROL.sub(lambda c: f"\\u{ord(c.group()):04x}", text) + "\n")


__all__ = [
    "DEMO_PASSPHRASE",
    "DEMO_USER",
    "main",
    "print_json",
    "resolve_config",
    "resolve_db",
    "run",
]
