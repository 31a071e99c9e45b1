"""User-facing errors: each carries one readable line and never personal data."""


class ConsoleError(Exception):
    """An error the user can act on; its message is shown as one line (exit 2)."""


class InputError(ConsoleError):
    """Bad input: a value, a file or a document the console cannot accept."""


class StoreError(ConsoleError):
    """The database could not be opened, read or written."""


class AccessError(ConsoleError):
    """Wrong passphrase, unknown user, or a role without the right to do this."""
