"""The case list's quick views: their keys, titles and help, for the list, its bar and the
command palette alike."""

from __future__ import annotations

from dsl_console.store.listing import View

VIEW_KEYS = {
    "1": View.OPEN,
    "2": View.FLAGGED,
    "3": View.OVERDUE,
    "4": View.RESOLVED,
    "5": View.RETENTION,
    "6": View.OWED,
    "7": View.VOIDED,
}
VIEW_TITLES = {
    View.OPEN: "Open",
    View.FLAGGED: "Flagged",
    View.OVERDUE: "Overdue",
    View.RESOLVED: "Resolved",
    View.RETENTION: "Retention",
    View.OWED: "Owed",
    View.VOIDED: "Voided",
}
VIEW_HELP = {
    View.OPEN: "every open case, most urgent first",
    View.FLAGGED: (
        "cases with a flag: immediate risk, overdue, due today, IRO or partnership notice, "
        "reply overdue"
    ),
    View.OVERDUE: "cases past their stage's due or a duty's",
    View.RESOLVED: "resolved cases, newest first",
    View.RETENTION: "records past the child's 25th birthday: review for deletion",
    View.OWED: "resolved cases that still owe a duty (a form or a notice to send)",
    View.VOIDED: "cases voided as opened in error, kept on record, newest first",
}
# How each view is named in the command palette ("View: …").
VIEW_COMMANDS = {
    View.OPEN: "open cases",
    View.FLAGGED: "flagged cases",
    View.OVERDUE: "overdue cases",
    View.RESOLVED: "resolved cases",
    View.RETENTION: "retention review",
    View.OWED: "resolved cases still owing a duty",
    View.VOIDED: "voided cases (opened in error)",
}
