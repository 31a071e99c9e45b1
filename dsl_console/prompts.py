"""What the command line asks at the terminal: who is unlocking, and a new passphrase.

The services take credentials and passphrases as values; only the command line, which knows
whether there is a terminal, asks for them (or reads them from the environment for a script).
"""

from __future__ import annotations

import os
import sys
from getpass import getpass

from dsl_console.errors import AccessError, InputError
from dsl_console.services.session import (
    ENV_NEW_PASSPHRASE,
    ENV_PASSPHRASE,
    ENV_PASSPHRASE_FILE,
    ENV_USER,
    Credentials,
    account_from_environment,
    check_passphrase,
)


def credentials_from_environment(*, interactive: bool | None = None) -> Credentials:
    """Credentials from DSL_CONSOLE_USER and DSL_CONSOLE_PASSPHRASE (or its file), else asked
    at the terminal."""
    user, passphrase = account_from_environment()
    if user and passphrase:
        return Credentials(user, passphrase)
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        raise AccessError(
            f"no terminal to ask for a passphrase: set {ENV_USER} and {ENV_PASSPHRASE} "
            f"(or {ENV_PASSPHRASE_FILE})"
        )
    try:
        user = user or input("User: ").strip()
        passphrase = getpass("Passphrase: ")
    except (EOFError, KeyboardInterrupt):
        raise AccessError("unlock cancelled") from None
    return Credentials(user, passphrase)


def new_passphrase(whom: str, *, interactive: bool | None = None) -> str:
    """The new passphrase: from DSL_CONSOLE_NEW_PASSPHRASE, else asked twice at the terminal."""
    given = os.environ.get(ENV_NEW_PASSPHRASE)
    if given:
        check_passphrase(given)
        return given
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        raise AccessError(
            f"no terminal to ask for the new passphrase: set {ENV_NEW_PASSPHRASE}; "
            "nothing was changed"
        )
    try:
        first = getpass(f"New passphrase for {whom}: ")
        check_passphrase(first)
        second = getpass("The same passphrase again: ")
    except (EOFError, KeyboardInterrupt):
        raise AccessError("cancelled; nothing was changed") from None
    if first != second:
        raise InputError("the two entries differ; nothing was changed", field="passphrase")
    return first
