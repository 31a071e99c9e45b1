"""The export commands: choose what to write, write it atomically, audit it, name the chain head."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Literal

from dsl_console.core.clock import parse_date
from dsl_console.errors import InputError
from dsl_console.services.exports.atomic import atomic_output
from dsl_console.services.session import Session
from dsl_console.services.transfer import write_document
from dsl_console.store import audit
from dsl_console.store.cases import iter_cases, load_case


def export_json(session: Session, out: Path) -> int:
    """Every case with its full history, in the import format."""
    count = 0

    def counted():  # type: ignore[no-untyped-def]
        nonlocal count
        for case in iter_cases():
            count += 1
            yield case

    with atomic_output(out, "w") as handle:
        for chunk in write_document(counted()):
            handle.write(chunk)
    return count


def _date_range(args: argparse.Namespace) -> tuple[date | None, date | None]:
    start = parse_date(args.date_from, "--from") if args.date_from else None
    end = parse_date(args.date_to, "--to") if args.date_to else None
    if start and end and end < start:
        raise InputError("--to is before --from")
    return start, end


def run_export(session: Session, args: argparse.Namespace) -> str:
    """Run `dsl-console export WHAT ...`; returns the line to print."""
    out = Path(args.out)
    school = session.config.school
    now = session.now()
    if args.what == "json":
        count = export_json(session, out)
        detail = f"json {count} cases"
    elif args.what == "log":
        from dsl_console.services.exports.summary_log import write_log

        start, end = _date_range(args)
        count = write_log(
            iter_cases(opened_from=start, opened_to_date=end),
            session.registry,
            session.calendar,
            school=school,
            out=out,
            fmt=args.format,
            as_of=now,
            initials=args.initials,
        )
        detail = f"log {args.format} {count} cases" + (" initials" if args.initials else "")
    elif args.what == "report":
        from dsl_console.services.exports.forms import write_form

        case = load_case(args.ref)
        write_form(
            case,
            session.registry,
            session.calendar,
            form=args.form,
            school=school,
            out=out,
            as_of=now,
        )
        count, detail = 1, f"report {args.form}"
    else:
        from dsl_console.services.exports.analysis import write_analysis, yearly_figures

        fmt: Literal["pdf", "csv"] = "csv" if out.suffix.lower() == ".csv" else "pdf"
        figures = yearly_figures(
            iter_cases(), session.registry, session.calendar, args.year, now, school=school
        )
        write_analysis(figures, out, fmt)
        count, detail = 1, f"analysis {args.year} {fmt}"
    ref = args.ref if args.what == "report" else ""
    session.write(lambda: audit.record(session.now(), session.user, "export", ref, detail))
    last_id, digest = audit.head()
    what = (
        ""
        if args.what in ("report", "analysis")
        else (f" ({count} case{'' if count == 1 else 's'})")
    )
    return f"wrote {out}{what}; audit head {last_id}:{digest}"
