"""The export commands: choose what to write, write it atomically, audit it, name the chain head.

`export_to` is the one code path: the command line (`commands.export`) and the console's
export screen both call it. It reports progress as cases are consumed, so a long export can show a bar.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal, TypeVar

from dsl_console.core.clock import LONDON
from dsl_console.core.forms import printable_form
from dsl_console.core.records import Case, Professional
from dsl_console.errors import InputError
from dsl_console.services.exports.atomic import atomic_output, kept_only_if
from dsl_console.services.exports.target import check_target
from dsl_console.services.outbox import empty_outboxes
from dsl_console.services.session import Session
from dsl_console.services.transfer import write_document
from dsl_console.store import audit
from dsl_console.store.cases import iter_cases, load_case
from dsl_console.store.database import integrity_failed
from dsl_console.store.models import Escalation

Progress = Callable[[int, int], None]
# Told what a report left blank, or what to know before sending it: a list of labels or lines.
Told = Callable[[list[str]], None]
T = TypeVar("T")
WHATS = ("json", "log", "report", "analysis")
PROGRESS_EVERY = 50  # cases between progress calls: often enough for a bar, cheap at 100,000


def export_json(session: Session, out: Path, cases: Iterable[Case] | None = None) -> int:
    """Every case with its full history, in the import format."""
    count = 0

    def counted() -> Iterator[Case]:
        nonlocal count
        for case in iter_cases() if cases is None else cases:
            count += 1
            yield case

    with atomic_output(out, "w") as handle:
        for chunk in write_document(counted()):
            handle.write(chunk)
    return count


def completed_by(session: Session) -> Professional | None:
    """The account holder as the person completing a form (full name, job title, the school,
    email); None while the account has no full name, so that a login name never goes on a
    form (the form's fields are left blank, and said to be, instead)."""
    if not session.profile.full_name.strip():
        return None
    return Professional(
        name=session.display_name,
        role=session.profile.job_title,
        agency=session.config.school,
        email=session.profile.email,
    )


@dataclass(frozen=True)
class ReportNotes:
    """What to know before writing a case's partnership form, shown before anything is
    written: the cautions (`forms.form_cautions`: a voided case, another procedure's form),
    and the fields that would print blank, in the form's order."""

    cautions: list[str]
    blanks: list[str]


def report_notes(session: Session, ref: str, form: str) -> ReportNotes:
    """The notes for a case's form if written now, from one read of the case: what the
    report then prints and tells (`export_to`'s `on_cautions` and `on_blanks`). Call inside a
    connection of the caller's thread."""
    from dsl_console.services.exports.forms import blank_fields, form_cautions

    case, printable = load_case(ref), printable_form(form)
    return ReportNotes(
        cautions=form_cautions(case, session.registry, printable),
        blanks=blank_fields(
            case,
            session.registry,
            session.calendar,
            form=printable,
            as_of=session.now(),
            completed_by=completed_by(session),
            school=session.config.school,
        ),
    )


def _london_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=LONDON)


def count_cases(date_from: date | None = None, date_to: date | None = None) -> int:
    """How many cases were opened (London date) in the range: the total a progress bar shows."""
    query = Escalation.select()
    if date_from is not None:
        query = query.where(Escalation.opened_at >= _london_midnight(date_from))
    if date_to is not None:
        query = query.where(Escalation.opened_at < _london_midnight(date_to + timedelta(days=1)))
    return int(query.count())


def _reporting(items: Iterable[T], total: int, progress: Progress | None) -> Iterator[T]:
    """Yield the cases (or their rows), telling `progress` how many have been consumed out of
    `total`."""
    done = 0
    if progress is not None:
        progress(0, total)
    for item in items:
        yield item
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, max(total, done))
    if progress is not None:
        progress(done, done)  # the exact count, whatever the estimate said


# The file endings a DSL's programs open by, and what each ending promises.
_ENDINGS = {".json": "json", ".csv": "csv", ".xlsx": "xlsx", ".pdf": "pdf"}


def _check_named_for(what: str, out: Path, fmt: str | None) -> None:
    """Refuse a file name whose ending promises another format than the export writes: a PDF
    named form.txt, or a CSV named log.xlsx, does not open in the program its name picks. A
    partnership form is a PDF, and the yearly analysis is read by its ending, so those two
    must end in one they can be."""
    ending = out.suffix.lower()
    if what == "report":
        if ending != ".pdf":
            raise InputError("a partnership form is a PDF: end the file name in .pdf", field="out")
        return
    if what == "analysis" and fmt is None:
        if ending not in (".pdf", ".csv"):
            raise InputError(
                "the yearly analysis is a PDF or a CSV: end the file name in .pdf or .csv",
                field="out",
            )
        return
    expected = "json" if what == "json" else fmt
    named = _ENDINGS.get(ending)
    if named is not None and expected is not None and named != expected:
        raise InputError(
            f"{out.name} is named as {named}, but this export is {expected}: "
            f"end the file name in .{expected}",
            field="out",
        )


def export_to(
    session: Session,
    what: str,
    out: Path,
    *,
    fmt: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    initials: bool = False,
    ref: str | None = None,
    form: str | None = None,
    year: int | None = None,
    progress: Progress | None = None,
    force: bool = False,
    on_blanks: Told | None = None,
    on_cautions: Told | None = None,
) -> str:
    """Write one export, audit it and return the line to show ("wrote ...; audit head N:hash").

    what: "json" | "log" (fmt "csv"/"xlsx", optional opened-date range, initials) | "report"
    (ref, form) | "analysis" (year; fmt "pdf"/"csv", else from out's suffix). `progress(done,
    total)` is called as cases are consumed (from the calling thread); a report counts as one.
    Call inside a connection of the caller's thread (the CLI's, or a worker's own). The target
    is never the database, its companions or a backup, and an existing file is replaced only
    with `force`. For a report, `on_blanks(labels)` is told the fields it printed blank, when
    any were, and `on_cautions(sentences)` what to know before sending it, when there is
    anything (both as `report_notes` says before writing).
    """
    if what not in WHATS:
        raise InputError(f"unknown export {what!r}", field="what")
    if session.outbox_refusal:
        raise InputError(session.outbox_refusal, field="out")
    outbox = session.outbox
    if outbox is not None:
        out = outbox.place(out)
        empty_outboxes(outbox.root, session.now())
    _check_named_for(what, out, fmt)
    check_target(out, session.path, force=force)
    if date_from and date_to and date_to < date_from:
        raise InputError("is before from", field="to")
    school = session.config.school
    now = session.now()
    if what == "json":
        cases = _reporting(iter_cases(), count_cases(), progress)
        count = export_json(session, out, cases)
        detail = f"json {count} cases"
    elif what == "log":
        from dsl_console.services.exports.split import split_log_rows
        from dsl_console.services.exports.summary_log import LogFormat, write_encoded

        if fmt not in ("csv", "xlsx"):
            raise InputError("the log is written as csv or xlsx", field="format")
        log_format: LogFormat = "csv" if fmt == "csv" else "xlsx"
        total = count_cases(date_from, date_to)
        rows = split_log_rows(
            session,
            opened_from=date_from,
            opened_to_date=date_to,
            as_of=now,
            initials=initials,
            cases=total,
            fmt=log_format,
        )
        count = write_encoded(_reporting(rows, total, progress), out=out, fmt=log_format)
        detail = f"log {fmt} {count} cases" + (" initials" if initials else "")
    elif what == "report":
        from dsl_console.services.exports.forms import form_cautions, write_form

        if not ref:
            raise InputError("is required", field="ref")
        form = printable_form(form)
        if progress is not None:
            progress(0, 1)
        case = load_case(ref)
        blanks = write_form(
            case,
            session.registry,
            session.calendar,
            form=form,
            school=school,
            out=out,
            as_of=now,
            completed_by=completed_by(session),
        )
        if progress is not None:
            progress(1, 1)
        if blanks and on_blanks is not None:
            on_blanks(blanks)
        cautions = form_cautions(case, session.registry, form)
        if cautions and on_cautions is not None:
            on_cautions(cautions)
        count, detail = 1, f"report {form}"
    else:
        from dsl_console.services.exports.analysis import write_analysis, yearly_figures

        if year is None:
            raise InputError("is required", field="year")
        by_suffix = "csv" if out.suffix.lower() == ".csv" else "pdf"
        chosen: Literal["pdf", "csv"] = "csv" if (fmt or by_suffix) == "csv" else "pdf"
        figures = yearly_figures(
            _reporting(iter_cases(), count_cases(), progress),
            session.registry,
            session.calendar,
            year,
            now,
            school=school,
        )
        write_analysis(figures, out, chosen)
        count, detail = 1, f"analysis {year} {chosen}"
    if outbox is not None:
        outbox.publish(out)
    audited_ref = (ref or "") if what == "report" else ""
    session.write(lambda: audit.record(session.now(), session.user, "export", audited_ref, detail))
    last_id, digest = audit.head()
    cases_note = (
        "" if what in ("report", "analysis") else f" ({count} case{'' if count == 1 else 's'})"
    )
    line = f"wrote {out}{cases_note}; audit head {last_id}:{digest}"
    if outbox is None:
        return line
    hint = outbox.fetch_hint(out)
    return f"{line}. {hint[:1].upper()}{hint[1:]}"


@contextlib.contextmanager
def checked_beside(session: Session) -> Iterator[None]:
    """Run the database's integrity check while the block exports; keep no file unless it passes.

    For a session opened with `hold_writes=True` (no check at open). The check reads the
    whole file, about a second at 100,000 cases; SQLite runs it without holding Python's lock,
    so beside an export it costs the export little of that second. Every page the export
    reads is authenticated by SQLCipher as it is read, so nothing damaged gets into the file
    meanwhile; the file is put in place, and the login and the export audited, only once the
    check has passed. A file that fails it is left exactly as it was found.
    """
    passed: list[bool] = []
    thread = threading.Thread(
        target=lambda: passed.append(session.db.integrity_ok()),
        name="integrity check",
        daemon=True,
    )
    thread.start()

    def check() -> None:
        thread.join()
        if passed != [True]:
            raise integrity_failed(session.path)
        session.finish_opening()

    try:
        with kept_only_if(check):
            yield
    except Exception:
        thread.join()
        if passed != [True]:
            # A page that failed to decrypt stopped the export: the damage is what to report.
            raise integrity_failed(session.path) from None
        # The export failed on its own, having had the database open: its login is audited
        # all the same, though the export's failure is the one to report.
        with contextlib.suppress(Exception):
            session.finish_opening()
        raise
    check()  # (again, at no cost, if a file was written)
