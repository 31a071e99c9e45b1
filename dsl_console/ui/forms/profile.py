"""Your own profile: the full name, job title and email the forms and the records give."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input

from dsl_console.services.accounts import edit_profile
from dsl_console.services.session import Session
from dsl_console.store.users import Profile
from dsl_console.ui.forms.base import FormScreen
from dsl_console.ui.forms.fields import FormField

# The profile's fields: (id, label, hint).
PROFILE_FIELDS = (
    ("full-name", "Full name", "As the partnership forms name you, e.g. Rhian Jones"),
    ("job-title", "Job title", "e.g. Designated Safeguarding Lead"),
    ("email", "Email", "The address the forms give for replies"),
)


def profile_typed(values: dict[str, str]) -> Profile:
    """A profile from the fields' text, by field id (checked by the service)."""
    return Profile(
        full_name=values.get("full-name", ""),
        job_title=values.get("job-title", ""),
        email=values.get("email", ""),
    )


class ProfileForm(FormScreen):
    """Set who you are (palette: My profile): the "by" and "completed by" of what you record."""

    TITLE_TEXT = "Your profile"
    FIELD_ALIASES = {"full name": "full-name", "job title": "job-title"}  # noqa: RUF012

    def context_text(self) -> str:
        session = self.app_session
        who = session.user if session else ""
        return (
            f"Signed in as {who}. Your full name goes on what you record and on the "
            "partnership forms you export, in place of your user name."
        )

    def compose_fields(self) -> ComposeResult:
        session = self.app_session
        profile = session.profile if session else Profile()
        current = {
            "full-name": profile.full_name,
            "job-title": profile.job_title,
            "email": profile.email,
        }
        for field_id, label, hint in PROFILE_FIELDS:
            yield FormField(
                label,
                Input(current[field_id], id=field_id, compact=True),
                name=field_id,
                hint=hint,
            )

    def collect(self, session: Session) -> Profile:
        return profile_typed(
            {
                field_id: self.query_one(f"#{field_id}", Input).value
                for field_id, *_ in PROFILE_FIELDS
            }
        )

    def write(self, session: Session, collected: Profile) -> Profile:
        return edit_profile(session, session.user, collected)

    def after_saved(self, result: Profile) -> None:
        self.app.notify(f"Profile saved: you are {result.full_name or 'named by your user name'}.")
