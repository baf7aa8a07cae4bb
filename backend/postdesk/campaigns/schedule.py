"""When a campaign is open: weekly windows in a named time zone, replaced on dated exceptions.

Pure functions, no database: routing, the dialer and the API all ask `is_open`.
Times are wall-clock times in the schedule's zone, so "09:00" stays 09:00 across daylight-saving
changes; a window whose closing time is not after its opening time runs past midnight.
An empty schedule (no weekly windows) is open around the clock, except on its exception days.
"""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta


@dataclass(frozen=True)
class Window:
    weekday: int  # 0 = Monday, as datetime.weekday()
    opens: time
    closes: time


@dataclass(frozen=True)
class SpecialDay:
    day: date
    opens: time | None = None  # None with closes None: closed all day
    closes: time | None = None


@dataclass(frozen=True)
class Schedule:
    timezone: str
    windows: tuple[Window, ...] = ()
    exceptions: tuple[SpecialDay, ...] = field(default=())


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def valid_timezone(name: str) -> bool:
    return name in _zone_names() or name == "UTC"


def _ranges_of_day(schedule: Schedule, day: date, zone: zoneinfo.ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The instants (UTC) during which windows that start on `day` are open."""
    specials = [e for e in schedule.exceptions if e.day == day]
    if specials:
        hours = [(e.opens, e.closes) for e in specials if e.opens is not None and e.closes is not None]
    elif schedule.windows:
        hours = [(w.opens, w.closes) for w in schedule.windows if w.weekday == day.weekday()]
    else:
        hours = [(time(0), time(0))]  # no weekly windows: open all day
    ranges = []
    for opens, closes in hours:
        end_day = day if closes > opens else day + timedelta(days=1)
        # Converting each end to UTC on its own keeps DST right: a 09:00 opening is 09:00 local on either side.
        start = datetime.combine(day, opens, tzinfo=zone).astimezone(UTC)
        end = datetime.combine(end_day, closes, tzinfo=zone).astimezone(UTC)
        ranges.append((start, end))
    return ranges


def is_open(schedule: Schedule, at: datetime) -> bool:
    if at.tzinfo is None:
        raise ValueError("is_open needs an aware datetime")
    zone = zoneinfo.ZoneInfo(schedule.timezone)
    instant = at.astimezone(UTC)
    today = at.astimezone(zone).date()
    # Yesterday's overnight windows may still be running.
    for day in (today - timedelta(days=1), today):
        if any(start <= instant < end for start, end in _ranges_of_day(schedule, day, zone)):
            return True
    return False
