"""Clearly fictional cases for the demo, the tests and the benchmark.

Every name is an obvious placeholder ("Example", "Sample", ...). The showcase cases cover every
procedure, stage, flag and kind of event relative to the moment given, so the demo always has
something due today, something overdue and a child at immediate risk.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta

from dsl_console.core.calendar import WorkingCalendar
from dsl_console.core.clock import local_date, london_wall_time
from dsl_console.core.deadlines import case_state
from dsl_console.core.procedures import Procedure, ProcedureRegistry
from dsl_console.core.records import REASONS, Case, Child, Event, EventKind, Professional

FIRST = ["Ada", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jude", "Kit", "Lux"]
LAST = ["Example", "Sample", "Placeholder", "Testcase", "Fictional", "Madeup", "Dummy", "Specimen"]
AGENCIES = [
    "Children's social care",
    "Police",
    "School nursing",
    "GP practice",
    "Early help",
    "CAMHS",
    "Housing",
]
WORKERS = [
    Professional(
        "Sam Worker (fictional)",
        "Social worker",
        "Children's social care",
        "sam.worker@example.org",
    ),
    Professional(
        "Pat Officer (fictional)", "Detective sergeant", "Police", "pat.officer@example.org"
    ),
    Professional(
        "Lee Nurse (fictional)", "School nurse", "School nursing", "lee.nurse@example.org"
    ),
]
DSL = Professional(
    "Jo Lead (fictional)",
    "Designated safeguarding lead",
    "Example Primary School",
    "dsl@example.sch.uk",
)
# The child-welfare concerns, as the Summary Log reports them (fictional).
CONCERNS = [
    "Frequently arrives hungry and tired; attendance falling.",
    "Disclosed arguments at home and being left alone overnight.",
    "Unexplained bruising noticed twice this half term.",
]
SUMMARIES = [
    "Referral declined as below threshold; school believes the child is at risk.",
    "Case closed by social care without a plan; concerns continue at school.",
    "Information about a household change was not shared with school.",
    "Agreed child protection plan actions have not started after four weeks.",
    "Disagreement over whether a strategy discussion is needed.",
]


def _at(calendar: WorkingCalendar, day: date, hour: int, minute: int = 0) -> datetime:
    del calendar
    return london_wall_time(day, hour, minute)


def _working_days_back(calendar: WorkingCalendar, today: date, n: int) -> date:
    day = today
    while n > 0:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            n -= 1
    return day


def _anchor_day(now: datetime, calendar: WorkingCalendar) -> date:
    """The working day the showcase's "today" events fall on: today once 09:30 has passed
    (they happen between 08:30 and 09:30), else the working day before, so none is in the
    future."""
    today = local_date(now)
    if calendar.is_working_day(today) and now >= _at(calendar, today, 9, 30):
        return today
    return _working_days_back(calendar, today, 1)


def _child(rng: random.Random, today: date, index: int) -> Child:
    age_days = rng.randint(5 * 365, 16 * 365)
    name = f"{FIRST[index % len(FIRST)]} {LAST[(index // len(FIRST)) % len(LAST)]}"
    return Child(
        name=name,
        dob=today - timedelta(days=age_days),
        address=f"{index % 90 + 1} Example Road, Sampletown",
        parents="Parent Example (fictional)",
    )


def showcase(now: datetime, registry: ProcedureRegistry, calendar: WorkingCalendar) -> list[Case]:
    """A dozen hand-made cases: every procedure, flag and kind of event, as of `now`."""
    today = local_date(now)
    last_working = _anchor_day(now, calendar)
    rng = random.Random(7)

    def case(i: int, proc: str, opened: datetime, events: list[Event], **facts: object) -> Case:
        return Case(
            ref=f"DEMO-{i:03d}",
            procedure=proc,
            procedure_version=registry.get(proc).version,
            opened_at=opened,
            child=_child(rng, today, i),
            other_agency=str(facts.pop("other_agency", AGENCIES[i % len(AGENCIES)])),
            level_of_need=str(facts.pop("level_of_need", ["early-help", "s17", "s47"][i % 3])),
            reason=str(facts.pop("reason", list(REASONS)[i % len(REASONS)])),
            summary=SUMMARIES[i % len(SUMMARIES)],
            concern=CONCERNS[i % len(CONCERNS)],
            professionals=(WORKERS[i % len(WORKERS)],),
            raised_by=DSL,
            events=tuple(events),
            **facts,  # type: ignore[arg-type]
        )

    def day(n: int) -> date:
        return _working_days_back(calendar, last_working, n)

    cases = [
        # Immediate risk raised this morning, not yet escalated.
        case(
            1,
            "liverpool",
            _at(calendar, last_working, 8, 40),
            [
                Event(
                    _at(calendar, last_working, 8, 45),
                    EventKind.DISCUSSION,
                    by="Jo Lead",
                    note="Child disclosed at breakfast club; social care duty line called.",
                ),
            ],
            immediate_risk=True,
            level_of_need="s47",
            cp_plan=True,
        ),
        # Liverpool stage 2, overdue: stage 2 by day 9 passed.
        case(
            2,
            "liverpool",
            _at(calendar, day(14), 10),
            [
                Event(
                    _at(calendar, day(13), 11),
                    EventKind.DISCUSSION,
                    by="Jo Lead",
                    note="Discussed with the social worker; no agreement.",
                ),
                Event(
                    _at(calendar, day(12), 9),
                    EventKind.ESCALATED,
                    stage=2,
                    by="Jo Lead",
                    note="Raised with the head teacher and the team manager.",
                ),
                Event(
                    _at(calendar, day(12), 9, 30),
                    EventKind.TIMESCALE_MISSED,
                    stage=1,
                    note="Line manager on leave for two days.",
                ),
            ],
        ),
        # Gloucestershire stage 2, due today (entered five working days ago); IRO notice due.
        case(
            3,
            "gloucestershire",
            _at(calendar, day(7), 9),
            [
                Event(
                    _at(calendar, day(5), 14),
                    EventKind.ESCALATED,
                    stage=2,
                    by="Jo Lead",
                    note="Escalated to line managers.",
                ),
                Event(
                    _at(calendar, day(4), 10),
                    EventKind.MEETING,
                    by="Jo Lead",
                    note="Managers met; further information requested.",
                ),
            ],
            looked_after=True,
        ),
        # Newham stage 6: the Chair set the timescale.
        case(
            4,
            "newham",
            _at(calendar, day(20), 9),
            [
                Event(_at(calendar, day(19), 9), EventKind.ESCALATED, stage=2, by="Jo Lead"),
                Event(_at(calendar, day(18), 9), EventKind.ESCALATED, stage=3, by="Jo Lead"),
                Event(
                    _at(calendar, day(15), 9),
                    EventKind.ESCALATED,
                    stage=5,
                    by="Jo Lead",
                    note="Stage 4 skipped: no CP manager involvement needed.",
                ),
                Event(
                    _at(calendar, day(10), 9),
                    EventKind.ESCALATED,
                    stage=6,
                    by="Jo Lead",
                    note="Referred to the Independent Chair.",
                ),
                Event(
                    _at(calendar, day(9), 12),
                    EventKind.DEADLINE_SET,
                    due=_at(calendar, calendar.add_working_days(last_working, 4), 17),
                    note="Chair asked for resolution within ten working days.",
                ),
                Event(
                    _at(calendar, day(9), 12, 5),
                    EventKind.NOTIFIED,
                    whom="partnership",
                    note="Referral form sent to the partnership.",
                ),
            ],
            level_of_need="s47",
        ),
        # St Helens stage 4 with an agreed action; Escalation Notice sent.
        case(
            5,
            "st-helens",
            _at(calendar, day(6), 9),
            [
                Event(_at(calendar, day(6), 11), EventKind.ESCALATED, stage=2, by="Jo Lead"),
                Event(_at(calendar, day(4), 9), EventKind.ESCALATED, stage=3, by="Jo Lead"),
                Event(
                    _at(calendar, day(3), 9),
                    EventKind.ESCALATED,
                    stage=4,
                    by="Jo Lead",
                    note="Escalation Notice issued.",
                ),
                Event(
                    _at(calendar, day(3), 9, 10),
                    EventKind.NOTIFIED,
                    by="Jo Lead",
                    whom="partnership",
                    form="st-helens-notice",
                    note="Copy of the Escalation Notice to the LSCB business manager.",
                ),
                Event(
                    _at(calendar, day(2), 15),
                    EventKind.ACTION,
                    whom="Sam Worker",
                    due=_at(calendar, last_working, 17),
                    note="Share the assessment with school.",
                ),
            ],
        ),
        # City and Hackney: no timescales.
        case(
            6,
            "city-hackney",
            _at(calendar, day(3), 13),
            [
                Event(_at(calendar, day(2), 10), EventKind.ESCALATED, stage=2, by="Jo Lead"),
                Event(
                    _at(calendar, day(1), 10),
                    EventKind.NOTE,
                    by="Jo Lead",
                    note="Team manager to reply by the end of the week.",
                ),
            ],
            other_agency="Housing",
        ),
        # Resolved at stage 3 with outcome and lessons learned.
        case(
            7,
            "liverpool",
            _at(calendar, day(30), 9),
            [
                Event(_at(calendar, day(29), 9), EventKind.ESCALATED, stage=2, by="Jo Lead"),
                Event(_at(calendar, day(25), 9), EventKind.ESCALATED, stage=3, by="Jo Lead"),
                Event(
                    _at(calendar, day(24), 9),
                    EventKind.NOTIFIED,
                    whom="iro",
                    note="IRO told of the disagreement.",
                ),
                Event(
                    _at(calendar, day(23), 14),
                    EventKind.OUTCOME,
                    by="Jo Lead",
                    note="Strategy meeting agreed.",
                ),
                Event(
                    _at(calendar, day(23), 15),
                    EventKind.ACTION,
                    whom="Sam Worker",
                    due=_at(calendar, day(22), 17),
                    note="Send the strategy meeting minutes.",
                ),
                Event(_at(calendar, day(22), 12), EventKind.ACTION_DONE, action=1, by="Jo Lead"),
                Event(
                    _at(calendar, day(22), 16),
                    EventKind.RESOLVED,
                    by="Jo Lead",
                    note="Strategy meeting held; child protection enquiry started.",
                    lessons="Share the school's chronology with the first referral.",
                    method="Mediation meeting",
                ),
            ],
            cp_plan=True,
            level_of_need="s47",
        ),
        # Immediate risk raised and escalated the same day (no flag).
        case(
            8,
            "gloucestershire",
            _at(calendar, day(1), 9),
            [
                Event(
                    _at(calendar, day(1), 9, 30),
                    EventKind.RISK_RAISED,
                    by="Jo Lead",
                    note="Injury seen at drop-off.",
                ),
                Event(
                    _at(calendar, day(1), 10),
                    EventKind.RISK_ESCALATED,
                    by="Jo Lead",
                    note="Police and MASH informed; strategy discussion arranged.",
                ),
            ],
        ),
        # Newham stage 1, due in a few days.
        case(9, "newham", _at(calendar, last_working, 9, 15), []),
        # St Helens stage 1: same working day as opening.
        case(10, "st-helens", _at(calendar, last_working, 8, 30), []),
        # St Helens, social care, at stage 3: the Team Manager alert is overdue; the social
        # worker replied; the child was made subject to a CP plan mid-case.
        case(
            11,
            "st-helens",
            _at(calendar, day(6), 9),
            [
                Event(_at(calendar, day(5), 10), EventKind.ESCALATED, stage=2, by="Jo Lead"),
                Event(
                    _at(calendar, day(4), 14),
                    EventKind.RESPONSE,
                    by="Jo Lead",
                    note="Social worker replied: the referral stays closed.",
                ),
                Event(_at(calendar, day(3), 11), EventKind.ESCALATED, stage=3, by="Jo Lead"),
                Event(
                    _at(calendar, day(2), 15, 30),
                    EventKind.AMENDED,
                    by="Jo Lead",
                    field="cp_plan",
                    value=True,
                    note="Child made subject to a CP plan at conference.",
                ),
                Event(
                    _at(calendar, day(2), 16),
                    EventKind.PROFESSIONAL,
                    by="Jo Lead",
                    value={
                        "name": "Lee Manager (fictional)",
                        "role": "Team Manager",
                        "agency": "Children's social care",
                        "email": "lee.manager@example.org",
                        "involved": True,
                        "lead": True,
                    },
                    note="Team Manager now leads for social care.",
                ),
            ],
            other_agency="Children's social care",
            other_agency_kind="social-care",
        ),
        # Opened in error (a duplicate of another case) and voided.
        case(
            12,
            "liverpool",
            _at(calendar, day(3), 9),
            [
                Event(
                    _at(calendar, day(3), 9, 20),
                    EventKind.VOIDED,
                    by="Jo Lead",
                    note="Opened in error: a duplicate of DEMO-002.",
                ),
            ],
        ),
    ]
    return cases


def random_cases(
    now: datetime,
    registry: ProcedureRegistry,
    calendar: WorkingCalendar,
    count: int,
    *,
    seed: int = 1,
    open_share: float = 0.4,
    start: int = 100,
) -> Iterator[Case]:
    """Fictional cases in bulk (about three events each); `open_share` of them stay open."""
    rng = random.Random(seed)
    today = local_date(now)
    procedures = registry.latest()
    reasons = list(REASONS)
    # The working days before today, nearest first: walking back afresh for every case made
    # 100,000 benchmark cases take half a minute.
    back = [_working_days_back(calendar, today, 1)]
    while len(back) < 700:
        back.append(_working_days_back(calendar, back[-1], 1))
    for n in range(count):
        proc = procedures[n % len(procedures)]
        opened_day = back[rng.randint(1, 700) - 1] if n % 50 else today
        opened = _at(calendar, opened_day, 9, rng.randint(0, 59))
        if opened > now:
            opened = now - timedelta(minutes=5)
        moment = opened
        events: list[Event] = []
        stage = 1
        for _ in range(2):
            moment = moment + timedelta(hours=rng.randint(1, 60))
            if moment >= now:
                break
            if stage < proc.last_stage and rng.random() < 0.6:
                stage = rng.randint(stage + 1, min(proc.last_stage, stage + 2))
                events.append(
                    Event(
                        moment,
                        EventKind.ESCALATED,
                        stage=stage,
                        by="Jo Lead",
                        note="Escalated: no agreement.",
                    )
                )
            else:
                events.append(
                    Event(
                        moment,
                        EventKind.DISCUSSION,
                        by="Jo Lead",
                        note="Discussed with the other agency.",
                    )
                )
        resolve = rng.random() >= open_share
        moment = moment + timedelta(hours=rng.randint(1, 48))
        if resolve and moment < now:
            events.append(
                Event(
                    moment,
                    EventKind.RESOLVED,
                    by="Jo Lead",
                    note="Agreement reached.",
                    method="Discussion",
                )
            )
        case = Case(
            ref=f"SCH-{start + n:06d}",
            procedure=proc.id,
            procedure_version=proc.version,
            opened_at=opened,
            child=_child(rng, today, start + n),
            other_agency=AGENCIES[n % len(AGENCIES)],
            level_of_need=["early-help", "s17", "s47", "unknown"][n % 4],
            cp_plan=n % 9 == 0,
            looked_after=n % 13 == 0,
            immediate_risk=n % 97 == 0 and not resolve,
            reason=reasons[n % len(reasons)],
            summary=SUMMARIES[n % len(SUMMARIES)],
            professionals=(WORKERS[n % len(WORKERS)],),
            raised_by=DSL,
            events=tuple(events),
        )
        # Most schools send what the procedure asks once a case is resolved; one in ten
        # cases is left owing, for the owed view and the partnership notices to show.
        if resolve and rng.random() < 0.9:
            case = _send_what_is_owed(case, proc, calendar, now, rng)
        yield case


def _send_what_is_owed(
    case: Case, procedure: Procedure, calendar: WorkingCalendar, now: datetime, rng: random.Random
) -> Case:
    """The case with a notification recorded for every duty it still owes that one discharges."""
    owed = case_state(case, procedure, calendar).outstanding()
    moment = max((e.at for e in case.events), default=case.opened_at)
    added: list[Event] = []
    for status in owed:
        discharge = next(
            (d for d in status.duty.done_by if d.kind == EventKind.NOTIFIED and d.whom), None
        )
        moment = moment + timedelta(hours=rng.randint(1, 30))
        if discharge is None or moment >= now:
            continue
        added.append(
            Event(
                moment,
                EventKind.NOTIFIED,
                by="Jo Lead",
                whom=discharge.whom,
                form=discharge.form,
                note="Sent as the procedure asks.",
            )
        )
    return replace(case, events=(*case.events, *added)) if added else case


def every_stage(
    now: datetime, registry: ProcedureRegistry, calendar: WorkingCalendar, start: int = 50
) -> list[Case]:
    """One open case standing at each stage (2 and up) of every procedure."""
    today = local_date(now)
    last_working = (
        today if calendar.is_working_day(today) else _working_days_back(calendar, today, 1)
    )
    rng = random.Random(11)
    opened_day = _working_days_back(calendar, last_working, 2)
    cases = []
    n = start
    for proc in registry.latest():
        for stage in proc.stages[1:]:
            escalated = _at(calendar, _working_days_back(calendar, last_working, 1), 10)
            cases.append(
                Case(
                    ref=f"DEMO-{n:03d}",
                    procedure=proc.id,
                    procedure_version=proc.version,
                    opened_at=_at(calendar, opened_day, 9),
                    child=_child(rng, today, start + n),
                    other_agency=AGENCIES[n % len(AGENCIES)],
                    level_of_need="s17",
                    reason=list(REASONS)[n % len(REASONS)],
                    summary=SUMMARIES[n % len(SUMMARIES)],
                    professionals=(WORKERS[n % len(WORKERS)],),
                    raised_by=DSL,
                    events=(
                        Event(
                            escalated,
                            EventKind.ESCALATED,
                            stage=stage.number,
                            by="Jo Lead",
                            note=f"Escalated to {stage.name}.",
                        ),
                    ),
                )
            )
            n += 1
    return cases


def demo_cases(now: datetime, registry: ProcedureRegistry, calendar: WorkingCalendar) -> list[Case]:
    """The demo database's cases: the showcase, every stage of every procedure, and more."""
    return (
        showcase(now, registry, calendar)
        + every_stage(now, registry, calendar)
        + list(random_cases(now, registry, calendar, 30, seed=3))
    )
