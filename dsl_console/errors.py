"""User-facing errors: each carries one readable line and never personal data."""


class ConsoleError(Exception):
    """An error the user can act on; its message is shown as one line (exit 2)."""


class InputError(ConsoleError):
    """Bad input: a value, a file or a document the console cannot accept.

    `field` names the field the reason is about, in the terms of what was given ("dob",
    "event.at", "cases[3].child.name"), or is empty; the line shown is "field: reason". A form
    puts `reason` under the field it names rather than splitting the line again."""

    def __init__(self, reason: str, *, field: str = "") -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


class StoreError(ConsoleError):
    """The database could not be opened, read or written."""


class AccessError(ConsoleError):
    """Wrong passphrase, unknown user, or a role without the right to do this."""
