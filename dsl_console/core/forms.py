"""The partnership forms the console prints: the one definition of each.

A procedure names the forms it uses in its duties (`done_by ... form = "newham"`), and a
`notified` event records the form sent by the same id. A user's procedure may name a form the
console does not print: it is then a name in the record and in the duties, nothing more.

Everything that lists forms reads this table: the command line's `--form` choices, the export
screen's menu, the PDF's title, the sentence that names a form sent. What a form looks like on
the page is `services/exports/forms.py` (one layout per id; a test checks they agree).
"""

from __future__ import annotations

from dataclasses import dataclass

from dsl_console.errors import InputError


@dataclass(frozen=True)
class PartnershipForm:
    """One printable form."""

    id: str  # as the procedure files, the events and `export report --form` give it
    title: str  # printed at the head of the form and in the PDF's title
    menu: str  # as the export screen lists it, the partnership first
    sent_as: str  # as a sentence names it when recorded as sent


PARTNERSHIP_FORMS: dict[str, PartnershipForm] = {
    form.id: form
    for form in (
        PartnershipForm(
            "liverpool",
            "Report to LSCB: Multi-Agency Resolution: Escalation Stages 3 and 4",
            "Liverpool: Report to LSCB",
            "Report to LSCB, Appendix 2",
        ),
        PartnershipForm(
            "newham",
            "NSCP Escalation Referral Form",
            "Newham: NSCP Escalation Referral",
            "NSCP Escalation Referral Form",
        ),
        PartnershipForm(
            "st-helens-notice",
            "Escalation Notice",
            "St Helens: Escalation Notice",
            "Escalation Notice",
        ),
        PartnershipForm(
            "st-helens-resolution",
            "Escalation Resolution Template",
            "St Helens: Resolution Template",
            "Escalation Resolution Template",
        ),
    )
}
FORM_IDS: tuple[str, ...] = tuple(PARTNERSHIP_FORMS)
DEFAULT_FORM = "liverpool"  # offered when nothing in the case or its procedure names one


def printable_form(form: str | None) -> str:
    """`form` when the console prints it; else an error line that lists the ones it does."""
    if form not in PARTNERSHIP_FORMS:
        raise InputError("form: choose one of " + ", ".join(FORM_IDS))
    return form


def form_name(form: str) -> str:
    """A form id in words; a user's procedure may name forms the console does not print."""
    known = PARTNERSHIP_FORMS.get(form)
    return known.sent_as if known is not None else f"form {form}"
