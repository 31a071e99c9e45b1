"""Working days, bank holidays per nation, the end of the day, and the deadline rules (contract §1)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl_console.core.calendar import WorkingCalendar, calendar_from
from dsl_console.core.clock import LONDON, local_date, parse_moment
from dsl_console.errors import InputError

ENG = WorkingCalendar("ENG")
SCT = WorkingCalendar("SCT")
NIR = WorkingCalendar("NIR")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_christmas_2026_skips_the_observed_boxing_day():
    # Thu 24 Dec is a working day. Fri 25 Christmas, Sat 26 Boxing Day (observed Mon 28),
    # weekend: the 1st working day after the 24th is Tue 29 Dec; 17:00 GMT is 17:00 UTC.
    assert ENG.within(utc(2026, 12, 24, 10), 1) == utc(2026, 12, 29, 17)
    assert not ENG.is_working_day(date(2026, 12, 28))


def test_easter_2027_across_the_clock_change():
    # Liverpool stage 1 "by day 2": opened Thu 25 Mar 2027 (day 1). Good Friday 26 Mar, weekend
    # (clocks go forward Sun 28 Mar), Easter Monday 29 Mar: day 2 is Tue 30 Mar, 17:00 BST = 16:00Z.
    assert ENG.by_day(utc(2027, 3, 25, 10), 2) == utc(2027, 3, 30, 16)


def test_scotland_keeps_st_andrews_day_england_does_not():
    # Within 5 working days of Wed 25 Nov 2026. England: 26, 27, 30 Nov, 1, 2 Dec -> Wed 2 Dec.
    # Scotland closes Mon 30 Nov (St Andrew's Day): 26, 27 Nov, 1, 2, 3 Dec -> Thu 3 Dec.
    assert ENG.within(utc(2026, 11, 25, 10), 5) == utc(2026, 12, 2, 17)
    assert SCT.within(utc(2026, 11, 25, 10), 5) == utc(2026, 12, 3, 17)


def test_subdivision_holidays_are_present():
    # The national list alone misses these: Easter Monday (ENG), 2 January (SCT), St Patrick (NIR).
    assert not ENG.is_working_day(date(2027, 3, 29))
    assert ENG.is_working_day(date(2027, 1, 4))
    assert not SCT.is_working_day(date(2026, 1, 2))
    assert not NIR.is_working_day(date(2027, 3, 17))
    assert not ENG.is_working_day(date(2026, 8, 31))  # August bank holiday


def test_closure_days_and_end_of_day_from_config():
    calendar = WorkingCalendar("ENG", time(16, 30), frozenset({date(2026, 12, 24)}))
    # Closure on Thu 24 Dec: within 1 of Wed 23 Dec is now Tue 29 Dec, ending at 16:30.
    assert calendar.within(utc(2026, 12, 23, 10), 1) == utc(2026, 12, 29, 16, 30)


def test_by_day_when_opened_on_a_weekend():
    # Opened Sat 28 Nov 2026: day 1 is Mon 30 Nov, day 2 is Tue 1 Dec.
    assert ENG.by_day(utc(2026, 11, 28, 10), 2) == utc(2026, 12, 1, 17)


def test_within_counts_from_a_non_working_day_as_day_zero():
    # Sun 29 Nov 2026 is day 0; the 1st working day after it is Mon 30 Nov.
    assert ENG.within(utc(2026, 11, 29, 12), 1) == utc(2026, 11, 30, 17)


def test_same_working_day_in_hours_evening_weekend_and_holiday():
    assert ENG.same_working_day(utc(2026, 11, 23, 10)) == (utc(2026, 11, 23, 17), False)
    evening = utc(2026, 11, 23, 18)
    assert ENG.same_working_day(evening) == (evening, True)
    saturday = utc(2026, 11, 28, 10)
    assert ENG.same_working_day(saturday) == (saturday, True)
    christmas = utc(2026, 12, 25, 10)
    assert ENG.same_working_day(christmas) == (christmas, True)
    # 16:59 BST in summer is still in hours: due at 17:00 BST (16:00Z).
    assert ENG.same_working_day(utc(2027, 6, 1, 15, 59)) == (utc(2027, 6, 1, 16), False)


def test_working_days_left_both_ways():
    due = utc(2026, 12, 29, 17)
    # (24 Dec, 29 Dec] holds one working day, the 29th.
    assert ENG.working_days_left(utc(2026, 12, 24, 10), due) == 1
    assert ENG.working_days_left(utc(2026, 12, 29, 9), due) == 0
    # Wed 30 Dec: minus the working days in (29 Dec, 30 Dec] = -1.
    assert ENG.working_days_left(utc(2026, 12, 30, 9), due) == -1


def test_local_time_input_dst_gap_refused_and_repeat_takes_first():
    with pytest.raises(InputError, match="does not exist"):
        parse_moment("2027-03-28T01:30:00")
    # 01:30 on 25 Oct 2026 happens twice; the first is BST (UTC+1), i.e. 00:30Z.
    assert parse_moment("2026-10-25T01:30:00") == utc(2026, 10, 25, 0, 30)
    assert parse_moment("2026-07-01T09:00") == utc(2026, 7, 1, 8)
    assert parse_moment("2026-07-01T09:00:00Z") == utc(2026, 7, 1, 9)


@pytest.mark.parametrize(
    "text", ["2026-02-30T10:00:00", "yesterday", "2026-13-01", "", "26-01-01T10:00"]
)
def test_bad_timestamps_are_refused(text: str):
    with pytest.raises(InputError):
        parse_moment(text)


# -- properties ----------------------------------------------------------------------------------
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)
)
calendars = st.sampled_from([ENG, SCT, NIR, WorkingCalendar("WLS")])


@settings(max_examples=300, deadline=None)
@given(moment=moments, n=st.integers(0, 40), m=st.integers(0, 40), calendar=calendars)
def test_within_n_then_m_is_within_n_plus_m_from_a_working_day(moment, n, m, calendar):
    day = local_date(moment)
    if not calendar.is_working_day(day):
        moment = calendar.end_of(calendar.next_working_day(day)) - timedelta(hours=3)
    assert calendar.within(calendar.within(moment, n), m) == calendar.within(moment, n + m)


@settings(max_examples=300, deadline=None)
@given(moment=moments, n=st.integers(1, 40), calendar=calendars)
def test_a_due_is_the_end_of_a_working_day(moment, n, calendar):
    for due in (calendar.within(moment, n), calendar.by_day(moment, n)):
        local = due.astimezone(LONDON)
        assert (local.hour, local.minute) == (17, 0)
        assert calendar.is_working_day(local.date())


@settings(max_examples=300, deadline=None)
@given(moment=moments, n=st.integers(0, 60), calendar=calendars)
def test_working_days_left_counts_back_what_within_added(moment, n, calendar):
    assert calendar.working_days_left(moment, calendar.within(moment, n)) == n


@settings(max_examples=200, deadline=None)
@given(
    a=st.dates(date(2020, 1, 1), date(2040, 1, 1)), b=st.dates(date(2020, 1, 1), date(2040, 1, 1))
)
def test_counting_by_bisection_matches_counting_day_by_day(a, b):
    slow, day = 0, a
    while day < b:
        day += timedelta(days=1)
        slow += ENG.is_working_day(day)
    assert ENG.working_days_between(a, b) == slow


def test_risk_instruction_in_hours_late_and_out_of_hours():
    from dsl_console.core.wording import risk_instruction

    raised_due = utc(2026, 11, 23, 17)  # Monday's end of day
    assert "before 17:00" in risk_instruction(raised_due, utc(2026, 11, 23, 10), ENG)
    # Tuesday 10:00: the same-day deadline has passed, but it is working hours.
    assert "deadline has passed" in risk_instruction(raised_due, utc(2026, 11, 24, 10), ENG)
    # Monday 18:00 and Saturday: out of hours, the emergency route.
    assert "emergency duty team" in risk_instruction(raised_due, utc(2026, 11, 23, 18), ENG)
    assert "emergency duty team" in risk_instruction(raised_due, utc(2026, 11, 28, 10), ENG)


# -- the units of contract v2: hours, calendar days, a stage's same working day --------------
MOMENTS = st.datetimes(
    min_value=datetime(2001, 1, 1), max_value=datetime(2059, 12, 1), timezones=st.just(UTC)
)
CLOSED = WorkingCalendar("ENG", time(17, 0), frozenset({date(2026, 12, 23), date(2027, 2, 15)}))


@settings(max_examples=300, deadline=None)
@given(MOMENTS, st.integers(1, 720))
def test_within_hours_is_exact_whatever_the_clocks_do(moment, hours):
    due = ENG.within_hours(moment, hours)
    # Absolute time: the difference in UTC is the number of hours, across any DST change.
    assert due - moment == timedelta(hours=hours)


@settings(max_examples=300, deadline=None)
@given(MOMENTS, st.integers(1, 365))
def test_within_calendar_days_lands_n_dates_later_at_the_end_of_the_day(moment, days):
    due = CLOSED.within_calendar_days(moment, days)
    local = due.astimezone(LONDON)
    # Weekends, bank holidays and closures all count: only the date and the hour matter.
    assert local.date() == local_date(moment) + timedelta(days=days)
    assert (local.hour, local.minute) == (17, 0)


@settings(max_examples=300, deadline=None)
@given(MOMENTS)
def test_a_stage_same_working_day_is_never_at_once(moment):
    due = CLOSED.same_working_day_or_next(moment)
    day = local_date(due)
    assert due > moment  # unlike an immediate risk, never due at the moment itself
    assert CLOSED.is_working_day(day)
    assert due == CLOSED.end_of(day)
    # It is the first working-day end after the moment: no working day ends in between.
    assert CLOSED.working_days_between(local_date(moment), day) <= 1
    if local_date(moment) != day:
        assert CLOSED.working_days_between(local_date(moment), day) == 1


@settings(max_examples=200, deadline=None)
@given(MOMENTS, st.integers(1, 30))
def test_the_other_agencys_days_ignore_the_school_closures(moment, days):
    theirs = CLOSED.without_closures()
    assert not theirs.closures
    due = theirs.within(moment, days)
    # Their working days are the nation's: the same as a calendar with no closures at all.
    assert due == ENG.within(moment, days)
    assert CLOSED.within(moment, days) >= due


def test_same_working_day_for_a_stage_on_a_saturday_and_after_hours():
    # Sat 21 Nov 2026 10:00: the end of Monday 23 Nov. Mon 23 Nov 18:00: the end of Tue 24 Nov.
    assert ENG.same_working_day_or_next(utc(2026, 11, 21, 10)) == utc(2026, 11, 23, 17)
    assert ENG.same_working_day_or_next(utc(2026, 11, 23, 18)) == utc(2026, 11, 24, 17)
    # Within hours it is that day's end, as for an immediate risk.
    assert ENG.same_working_day_or_next(utc(2026, 11, 23, 9)) == utc(2026, 11, 23, 17)
    # Tue 22 Dec 18:00 with Wed 23 Dec closed: the end of Thu 24 Dec.
    assert CLOSED.same_working_day_or_next(utc(2026, 12, 22, 18)) == utc(2026, 12, 24, 17)


def test_why_a_day_is_not_working_is_said_in_words() -> None:
    calendar = calendar_from("ENG", time(17, 0), [date(2026, 12, 23)])
    assert calendar.why_not_working(date(2026, 11, 28)) == "the weekend"
    assert calendar.why_not_working(date(2026, 12, 25)) == "Christmas Day, a bank holiday"
    assert calendar.why_not_working(date(2026, 12, 23)) == "a school closure day"
    assert calendar.why_not_working(date(2026, 12, 22)) == ""
    # Scotland's own holidays: 2 January is one there, not in England.
    assert calendar_from("SCT", time(17, 0), []).why_not_working(date(2026, 1, 2)) != ""
    assert calendar_from("ENG", time(17, 0), []).why_not_working(date(2026, 1, 2)) == ""


def test_a_line_naming_many_cases_says_how_many_more_it_leaves_out():
    from dsl_console.core.wording import some_refs

    refs = [f"SCH-2026-{i:03d}" for i in range(1, 313)]
    assert some_refs(refs) == (
        "SCH-2026-001, SCH-2026-002, SCH-2026-003, SCH-2026-004, SCH-2026-005 and 307 more"
    )
    assert some_refs(refs[:5]) == ", ".join(refs[:5])  # all of them: nothing more to say
    assert some_refs(refs[:1]) == "SCH-2026-001"
