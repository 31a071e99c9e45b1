"""The working-day calendar: weekdays less the nation's bank holidays and the school's closures."""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from dsl_console.core.clock import local_date, london_wall_time

NATIONS = ("ENG", "WLS", "SCT", "NIR")
# The range of years the calendar precomputes; outside it, days are computed one by one.
FIRST_YEAR, LAST_YEAR = 2000, 2060

# A nation's bank holidays, FIRST_YEAR to LAST_YEAR, by date with their names.
HolidaySource = Callable[[str], Mapping[date, str]]


@lru_cache(maxsize=8)
def library_holidays(nation: str) -> dict[date, str]:
    """The bank holidays of a UK nation as the holidays library gives them, subdivision
    included (Easter Monday, August), with their names."""
    if nation not in NATIONS:
        raise ValueError(f"unknown nation {nation!r}")
    # Imported here: the library's country package imports every country it knows (about
    # 0.15 s), which a process that reads a copy of the dates (holiday_cache) never pays.
    import holidays

    table = holidays.country_holidays("GB", subdiv=nation, years=range(FIRST_YEAR, LAST_YEAR + 1))
    return dict(table.items())


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days for one school: Monday to Friday, less bank holidays and closure days."""

    nation: str = "ENG"
    end_of_day: time = time(17, 0)
    closures: frozenset[date] = field(default_factory=frozenset)
    # Where the bank holidays come from: the library itself, or a copy of its dates that is
    # quicker to read (dsl_console.holiday_cache). Either gives the same days.
    holidays: HolidaySource = field(default=library_holidays, compare=False, repr=False)

    def __post_init__(self) -> None:
        names = self.holidays(self.nation)
        off = frozenset(names) | self.closures
        start, end = date(FIRST_YEAR, 1, 1).toordinal(), date(LAST_YEAR, 12, 31).toordinal()
        off_ordinals = {day.toordinal() for day in off}
        # Weekdays by ordinal ((ordinal + 6) % 7 is date.weekday()): 22,000 days in 2 ms,
        # where stepping dates took 35 ms of every command's start.
        days = [
            ordinal
            for ordinal in range(start, end + 1)
            if (ordinal + 6) % 7 < 5 and ordinal not in off_ordinals
        ]
        # Sorted ordinals of every working day: counting and stepping become bisections.
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_off", off)
        # The days themselves, in the fingerprint: a corrected bank holiday moves dues as
        # surely as a new closure day.
        digest = hashlib.sha256(",".join(sorted(d.isoformat() for d in names)).encode()).hexdigest()
        object.__setattr__(self, "_holidays_digest", digest[:16])
        object.__setattr__(self, "_ordinals", days)
        # Due moments by (local date, working days): a sweep or an export of 100,000 cases
        # asks for the same few thousand again and again.
        object.__setattr__(self, "_within", {})
        object.__setattr__(self, "_by_day", {})

    # -- days ---------------------------------------------------------------------------
    def is_working_day(self, day: date) -> bool:
        """Whether a date is a working day."""
        return day.weekday() < 5 and day not in self._off  # type: ignore[attr-defined]

    def why_not_working(self, day: date) -> str:
        """Why a date is not a working day, in words ('the weekend', 'Christmas Day, a bank
        holiday', 'a school closure day'); '' for a working day."""
        if day.weekday() >= 5:
            return "the weekend"
        name = self._names.get(day)  # type: ignore[attr-defined]
        if name is not None:
            return f"{name}, a bank holiday"
        if day in self.closures:
            return "a school closure day"
        return ""

    def _in_range(self, day: date) -> bool:
        return FIRST_YEAR < day.year < LAST_YEAR

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after a date."""
        return self.add_working_days(day, 1)

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after a date (the date itself is day 0); n >= 0."""
        if n <= 0:
            return day
        if self._in_range(day):
            ordinals: list[int] = self._ordinals  # type: ignore[attr-defined]
            index = bisect_right(ordinals, day.toordinal()) + n - 1
            if index < len(ordinals):
                return date.fromordinal(ordinals[index])
        while n > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def working_days_between(self, after: date, upto: date) -> int:
        """How many working days lie in (after, upto]; 0 when upto <= after."""
        if upto <= after:
            return 0
        if self._in_range(after) and self._in_range(upto):
            ordinals: list[int] = self._ordinals  # type: ignore[attr-defined]
            return bisect_right(ordinals, upto.toordinal()) - bisect_right(
                ordinals, after.toordinal()
            )
        count, day = 0, after
        while day < upto:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    # -- moments ------------------------------------------------------------------------
    def end_of(self, day: date) -> datetime:
        """The end of the working day on a date, as aware UTC."""
        return london_wall_time(day, self.end_of_day.hour, self.end_of_day.minute)

    def within(self, moment: datetime, n: int) -> datetime:
        """Due 'within n working days' of a moment: the end of the n-th working day after it."""
        key = (local_date(moment), n)
        known: dict[tuple[date, int], datetime] = self._within  # type: ignore[attr-defined]
        found = known.get(key)
        if found is None:
            found = known[key] = self.end_of(self.add_working_days(key[0], n))
        return found

    def by_day(self, opened: datetime, n: int) -> datetime:
        """Due 'by day n' counted from the opening: day 1 is the opening date if working."""
        key = (local_date(opened), n)
        known: dict[tuple[date, int], datetime] = self._by_day  # type: ignore[attr-defined]
        found = known.get(key)
        if found is None:
            first = key[0]
            if not self.is_working_day(first):
                first = self.next_working_day(first)
            found = known[key] = self.end_of(self.add_working_days(first, n - 1))
        return found

    def same_working_day(self, moment: datetime) -> tuple[datetime, bool]:
        """Due 'the same working day' as a moment, and whether the moment is out of hours.

        Within working hours the due is that day's end; in the evening, at a weekend or on a
        holiday it is the moment itself: at once, by the emergency route.
        """
        day = local_date(moment)
        if self.is_working_day(day):
            end = self.end_of(day)
            if moment < end:
                return end, False
        return moment, True

    def within_calendar_days(self, moment: datetime, n: int) -> datetime:
        """Due 'within n calendar days': the end-of-day time n days after the moment's date."""
        return self.end_of(local_date(moment) + timedelta(days=n))

    @staticmethod
    def within_hours(moment: datetime, n: int) -> datetime:
        """Due 'within n hours': exactly n hours later, whatever the clocks do meanwhile."""
        return moment + timedelta(hours=n)

    def same_working_day_or_next(self, moment: datetime) -> datetime:
        """A stage's or a duty's 'same working day' (contract section 1, v2).

        Within working hours, the end of that day; otherwise (evening, weekend, holiday,
        closure) the end of the next working day: only an immediate risk is due at once.
        """
        day = local_date(moment)
        if self.is_working_day(day):
            end = self.end_of(day)
            if moment < end:
                return end
        return self.end_of(self.next_working_day(day))

    def without_closures(self) -> WorkingCalendar:
        """The same calendar less the school's closure days: the other agency's clock."""
        if not self.closures:
            return self
        return _without_closures(self.nation, self.end_of_day, self.holidays)

    def working_days_left(self, as_of: datetime, due: datetime) -> int:
        """Working days from as_of's date to due's date; negative once the due date is past."""
        a, d = local_date(as_of), local_date(due)
        if d >= a:
            return self.working_days_between(a, d)
        return -self.working_days_between(d, a)

    def fingerprint(self) -> str:
        """A short text that changes whenever the calendar's rules change."""
        closures = ",".join(sorted(d.isoformat() for d in self.closures))
        days_off = self._holidays_digest  # type: ignore[attr-defined]
        return f"{self.nation}|{self.end_of_day.isoformat('minutes')}|{closures}|{days_off}"


@lru_cache(maxsize=4)
def _without_closures(nation: str, end_of_day: time, holidays: HolidaySource) -> WorkingCalendar:
    return WorkingCalendar(nation=nation, end_of_day=end_of_day, holidays=holidays)


def calendar_from(
    nation: str,
    end_of_day: time,
    closures: Iterable[date],
    holidays: HolidaySource = library_holidays,
) -> WorkingCalendar:
    """Build a calendar from configured values."""
    return WorkingCalendar(nation, end_of_day, frozenset(closures), holidays)
