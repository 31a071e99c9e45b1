"""The living case record through the real export path: the session's account holder named on
the forms (never by login name), the fields printed blank told on the command line, and the
Summary Log of amended cases the same whether a helper process shares the work or not."""

from __future__ import annotations

import csv
import functools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pypdf
import pytest

from dsl_console import commands
from dsl_console.cli import main
from dsl_console.core.records import Case, Child, Event, Professional
from dsl_console.services import exporting, helpers
from dsl_console.services.accounts import edit_profile
from dsl_console.services.casebook import import_cases
from dsl_console.services.exports import split
from dsl_console.services.session import Session, open_session
from dsl_console.store.users import Profile
from tests.conftest import NOW, USER
from tests.fictional import SCHOOL

DSL = Professional("Jo Teacher", "Designated Safeguarding Lead", SCHOOL, "j.teacher@school.example")
ROBIN = Profile("Robin Example", "Deputy Designated Safeguarding Lead", "r.example@school.example")


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


OPENED = at(2, 9)  # Monday 2 November 2026


def living_case(ref: str = "SCH-2026-040", opened: datetime = OPENED, **changes: object) -> Case:
    """A Liverpool case at stage 3: an immediate risk ticked at the opening, the concern and
    the other agency amended, a professional added, the partnership sent Appendix 2."""
    day = timedelta(days=1)
    fields: dict[str, object] = dict(
        ref=ref,
        procedure="liverpool",
        opened_at=opened,
        child=Child("Ada Example", date(2014, 11, 10)),
        other_agency="Children's social care",
        other_agency_kind="social-care",
        level_of_need="s47",
        immediate_risk=True,
        reason="threshold",
        summary="Referral declined as below threshold; school disagrees.",
        concern="Arrives hungry most mornings.",
        professionals=(DSL,),
        raised_by=DSL,
        events=(
            Event(opened + timedelta(hours=1), "risk-escalated", by="Jo Teacher", note="Police."),
            Event(opened + day, "escalated", stage=2, by="Jo Teacher", note="No agreement."),
            Event(
                opened + 2 * day,
                "amended",
                field="concern",
                value="Left alone overnight.",
                by="Jo Teacher",
                note="Fuller account.",
            ),
            Event(
                opened + 2 * day,
                "amended",
                field="other_agency",
                value="Example Health Trust",
                note="Health holds the case.",
            ),
            Event(opened + 2 * day, "amended", field="other_agency_kind", value="health", note="-"),
            Event(
                opened + 3 * day,
                "professional",
                value={"name": "Pat Placeholder", "role": "Health visitor", "involved": True},
                note="Joined.",
            ),
            Event(opened + 4 * day, "escalated", stage=3, by="Jo Teacher"),
            Event(opened + 4 * day, "notified", whom="partnership", form="liverpool"),
        ),
    )
    fields.update(changes)
    return Case(**fields)  # type: ignore[arg-type]


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line's sessions on the tests' fixed moment, not the wall clock."""
    monkeypatch.setattr(
        commands, "open_session", functools.partial(open_session, clock=lambda: NOW)
    )


@pytest.fixture
def stored(session_factory) -> Session:  # type: ignore[no-untyped-def]
    session: Session = session_factory()
    with session.db.connection_context():
        import_cases(session, [living_case()])
    return session


def pdf_text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(path).pages).split())


def test_the_cli_names_the_account_holder_and_tells_what_printed_blank(
    stored, cli_env, fixed_clock, tmp_path, capsys
):
    with stored.db.connection_context():
        edit_profile(stored, USER, ROBIN)
    out = tmp_path / "report.pdf"
    code = main(["export", "report", "SCH-2026-040", "--form", "liverpool", "--out", str(out)])
    assert code == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"wrote {out}")
    assert captured.err.splitlines() == [
        "note: printed blank: Child's address, Date of discussion/ Meeting re disagreement, "
        "Methodology used to resolve conflict, Disagreement resolved at, Lessons learned, "
        "Further actions taken, Parents / carers"
    ]
    text = pdf_text(out)
    assert "Form completed by Robin Example, Deputy Designated Safeguarding Lead" in text
    assert "Professional Escalating concern Jo Teacher, j.teacher@school.example" in text
    assert "Raised at the opening by Jo Teacher" in text
    assert "Concern Left alone overnight." in text
    assert USER not in text  # the login name is on no form


def test_without_a_full_name_the_form_leaves_completed_by_blank_and_says_so(
    stored, cli_env, fixed_clock, tmp_path, capsys
):
    out = tmp_path / "report.pdf"
    assert main(["export", "report", "SCH-2026-040", "--form", "liverpool", "--out", str(out)]) == 0
    (note,) = capsys.readouterr().err.splitlines()
    assert note.startswith("note: printed blank: ") and "Form completed by" in note
    text = pdf_text(out)
    assert "Form completed by ____" in text
    assert USER not in text


def test_the_notes_before_writing_are_what_the_report_then_prints_and_tells(stored, tmp_path):
    with stored.db.connection_context():
        edit_profile(stored, USER, ROBIN)
        for form in ("newham", "st-helens-notice", "st-helens-resolution"):
            before = exporting.report_notes(stored, "SCH-2026-040", form)
            blanks: list[list[str]] = []
            cautions: list[list[str]] = []
            exporting.export_to(
                stored,
                "report",
                tmp_path / f"{form}.pdf",
                ref="SCH-2026-040",
                form=form,
                on_blanks=blanks.append,
                on_cautions=cautions.append,
            )
            assert blanks == [before.blanks] and before.blanks
            assert cautions == ([before.cautions] if before.cautions else [])


def test_exporting_passes_the_account_holder_as_completing_the_form(stored):
    assert exporting.completed_by(stored) is None  # no full name yet: no login name instead
    with stored.db.connection_context():
        edit_profile(stored, USER, ROBIN)
    assert exporting.completed_by(stored) == Professional(
        "Robin Example",
        "Deputy Designated Safeguarding Lead",
        stored.config.school,
        "r.example@school.example",
    )


def read_log(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_log_of_amended_cases_is_the_same_shared_or_not(session_factory, tmp_path, monkeypatch):
    session: Session = session_factory()
    cases = [
        living_case(f"SCH-2026-{n:03d}", at(2 + n % 10, 9), concern=f"Concern {n}.")
        for n in range(40)
    ]
    voided = living_case(
        "SCH-2026-999",
        at(3, 9),
        immediate_risk=False,
        events=(Event(at(3, 10), "voided", note="Opened in error."),),
    )
    alone, shared = tmp_path / "alone.csv", tmp_path / "shared.csv"
    with session.db.connection_context():
        import_cases(session, [*cases, voided])
        exporting.export_to(session, "log", alone, fmt="csv")
        started: list[object] = []
        real_start = helpers.start

        def counted(*args):  # type: ignore[no-untyped-def]
            started.append(args)
            return real_start(*args)

        monkeypatch.setattr(helpers, "start", counted)
        monkeypatch.setattr(split, "SPLIT_FROM", 1)
        monkeypatch.setattr(split, "CHUNK", 3)
        exporting.export_to(session, "log", shared, fmt="csv")
    assert len(started) == 1  # the helper process built its share
    assert shared.read_bytes() == alone.read_bytes()
    rows = {
        row["Agency / School & Escalation Number"].split(" / ")[-1]: row for row in read_log(alone)
    }
    assert "SCH-2026-999" not in rows and len(rows) == 40
    row = rows["SCH-2026-000"]
    # The concern was amended after the opening: the amendment stands, not the opening's.
    assert row["Concern"] == "Left alone overnight."
    assert row["Other agency"] == "Example Health Trust (health)"
    # Born 10 Nov 2014, opened 2 Nov 2026: 11 at the opening, though 12 by the export.
    assert row["Child Name / DOB / Age"] == "Ada Example / 10/11/2014 / age 11"
    assert row["Actions Undertaken Towards Resolution"].splitlines()[:2] == [
        "02/11/2026 Immediate risk raised at the opening by Jo Teacher",
        "02/11/2026 Immediate risk escalated by Jo Teacher: Police.",
    ]


def test_a_form_for_a_case_opened_in_error_says_so_on_every_page_and_on_the_command_line(
    session_factory, cli_env, fixed_clock, tmp_path, capsys
):
    case = living_case()
    voided = Event(at(9), "voided", note="Opened for the wrong child.")
    session = session_factory()
    with session.db.connection_context():
        import_cases(session, [living_case(events=(*case.events, voided))])
    out = tmp_path / "report.pdf"
    code = main(["export", "report", "SCH-2026-040", "--form", "liverpool", "--out", str(out)])
    assert code == 0  # printed all the same: a partnership may ask for the record
    notes = capsys.readouterr().err.splitlines()
    assert (
        "note: SCH-2026-040 was voided as opened in error on 09/11/2026: every page says so; "
        "it is not an escalation to send"
    ) in notes
    pages = pypdf.PdfReader(out).pages
    assert len(pages) > 1
    assert all("VOIDED: OPENED IN ERROR" in page.extract_text() for page in pages)


def test_a_form_the_case_s_procedure_does_not_use_is_printed_with_a_note_naming_its_own(
    stored, cli_env, fixed_clock, tmp_path, capsys
):
    out = tmp_path / "report.pdf"
    assert main(["export", "report", "SCH-2026-040", "--form", "newham", "--out", str(out)]) == 0
    notes = capsys.readouterr().err.splitlines()
    assert (
        "note: SCH-2026-040 follows the Liverpool SCB escalation policy, which does not use the "
        "NSCP Escalation Referral Form; it uses the Report to LSCB, Appendix 2"
    ) in notes
    assert "VOIDED" not in pdf_text(out)
    # Its own form: nothing to caution about (only what printed blank, if anything).
    mine = tmp_path / "mine.pdf"
    assert (
        main(["export", "report", "SCH-2026-040", "--form", "liverpool", "--out", str(mine)]) == 0
    )
    assert all(n.startswith("note: printed blank:") for n in capsys.readouterr().err.splitlines())
