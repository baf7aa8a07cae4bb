"""Opening hours: weekly windows in the campaign's zone, dated exceptions, DST changes, and open-now."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from postdesk.campaigns.schedule import Schedule, SpecialDay, Window, is_open
from tests.campaigns.helpers import error_fields, make_campaign, make_server

WEEKDAYS_9_TO_17 = tuple(Window(day, time(9), time(17)) for day in range(7))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    "at, expected",
    [
        # 2026-03-28 is still winter (CET, UTC+1): 07:30 UTC is 08:30 in Madrid.
        (utc(2026, 3, 28, 7, 30), False),
        (utc(2026, 3, 28, 8, 30), True),
        # 2026-03-29 clocks go forward (CEST, UTC+2): 07:30 UTC is already 09:30.
        (utc(2026, 3, 29, 7, 30), True),
        (utc(2026, 3, 29, 15, 30), False),  # 17:30 local
        # 2026-10-25 clocks go back to CET: 07:30 UTC is 08:30 again, 15:30 UTC is 16:30.
        (utc(2026, 10, 24, 7, 30), True),
        (utc(2026, 10, 25, 7, 30), False),
        (utc(2026, 10, 25, 15, 30), True),
    ],
)
def test_windows_follow_local_time_across_daylight_saving_changes(at, expected):
    assert is_open(Schedule("Europe/Madrid", WEEKDAYS_9_TO_17), at) is expected


def test_the_same_instant_is_open_in_one_zone_and_closed_in_another():
    at = utc(2026, 6, 10, 14, 0)  # Wednesday: 23:00 in Tokyo, 10:00 in New York
    assert is_open(Schedule("America/New_York", WEEKDAYS_9_TO_17), at)
    assert not is_open(Schedule("Asia/Tokyo", WEEKDAYS_9_TO_17), at)


def test_overnight_window_runs_past_midnight_and_past_the_autumn_change():
    # Saturday 22:00 → Sunday 06:00 local, across the night the clocks go back (one hour longer).
    night = Schedule("Europe/Madrid", (Window(5, time(22), time(6)),))
    assert is_open(night, utc(2026, 10, 24, 20, 30))  # Sat 22:30 CEST
    assert is_open(night, utc(2026, 10, 25, 4, 30))  # Sun 05:30 CET
    assert not is_open(night, utc(2026, 10, 25, 5, 30))  # Sun 06:30 CET
    assert not is_open(night, utc(2026, 10, 24, 19, 30))  # Sat 21:30 CEST


def test_window_opening_in_the_skipped_spring_hour_opens_when_the_clock_jumps():
    early = Schedule("Europe/Madrid", (Window(6, time(2, 30), time(4)),))  # 02:30 does not exist on 2026-03-29
    assert not is_open(early, utc(2026, 3, 29, 0, 59))  # 01:59 CET
    assert is_open(early, utc(2026, 3, 29, 1, 45))  # 03:45 CEST
    assert not is_open(early, utc(2026, 3, 29, 2, 0))  # 04:00 CEST


def test_exceptions_close_a_day_or_replace_its_hours():
    holiday = SpecialDay(date(2026, 12, 25))
    short_day = SpecialDay(date(2026, 12, 24), time(9), time(13))
    schedule = Schedule("Europe/Madrid", WEEKDAYS_9_TO_17, (holiday, short_day))
    assert not is_open(schedule, utc(2026, 12, 25, 11, 0))
    assert is_open(schedule, utc(2026, 12, 24, 11, 0))  # 12:00 local
    assert not is_open(schedule, utc(2026, 12, 24, 13, 0))  # 14:00 local: closed early
    assert is_open(schedule, utc(2026, 12, 26, 11, 0))


def test_a_schedule_without_windows_is_always_open_except_on_closed_days():
    always = Schedule("UTC", (), (SpecialDay(date(2026, 1, 1)),))
    assert is_open(always, utc(2026, 1, 2, 3, 0)) and not is_open(always, utc(2026, 1, 1, 12, 0))


async def test_schedule_windows_and_exceptions_are_added_removed_and_decide_open_now(client, company):
    await make_server(client, company)
    campaign = await make_campaign(client, company)
    base = f"/api/campaigns/{campaign['id']}/schedule"
    put = await client.put(base, headers=company.admin.headers, json={
        "timezone": "Asia/Tokyo",
        "windows": [{"weekday": day, "opens": "00:00", "closes": "00:00"}
                    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")],
        "exceptions": [{"day": "2026-01-01", "description": "New year"}],
    })
    assert put.status_code == 200, put.text
    assert put.json()["exceptions"][0]["closed_all_day"] is True
    added = await client.post(f"{base}/windows", headers=company.admin.headers,
                              json={"weekday": "sunday", "opens": "00:00", "closes": "00:00"})
    assert added.status_code == 201, added.text
    schedule = (await client.get(base, headers=company.admin.headers)).json()
    assert [w["weekday"] for w in schedule["windows"]][-1] == "sunday" and len(schedule["windows"]) == 7

    open_now = f"/api/campaigns/{campaign['id']}/open-now"
    now = (await client.get(open_now, headers=company.admin.headers)).json()
    assert now["open"] is True and now["timezone"] == "Asia/Tokyo" and now["local_time"].endswith("+09:00")
    today_in_tokyo = datetime.now(ZoneInfo("Asia/Tokyo")).date().isoformat()
    holiday = await client.post(f"{base}/exceptions", headers=company.admin.headers,
                                json={"day": today_in_tokyo, "description": "Closed today"})
    assert holiday.status_code == 201, holiday.text
    assert (await client.get(open_now, headers=company.admin.headers)).json()["open"] is False
    clash = await client.post(f"{base}/exceptions", headers=company.admin.headers,
                              json={"day": today_in_tokyo, "opens": "10:00", "closes": "12:00"})
    assert clash.status_code == 409 and error_fields(clash) == {"day"}
    removed = await client.delete(f"{base}/exceptions/{holiday.json()['id']}", headers=company.admin.headers)
    assert removed.status_code == 204
    assert (await client.get(open_now, headers=company.admin.headers)).json()["open"] is True
    assert (await client.delete(f"{base}/windows/{added.json()['id']}", headers=company.admin.headers)).status_code == 204
    assert len((await client.get(base, headers=company.admin.headers)).json()["windows"]) == 6


async def test_bad_schedule_input_names_the_field(client, company):
    await make_server(client, company)
    campaign = await make_campaign(client, company)
    base = f"/api/campaigns/{campaign['id']}/schedule"
    cases = [
        ({"timezone": "Europe/Atlantis"}, {"timezone"}),
        ({"timezone": "../../etc/passwd"}, {"timezone"}),
        ({"timezone": "UTC", "windows": [{"weekday": "funday", "opens": "09:00", "closes": "10:00"}]},
         {"windows.0.weekday"}),
        ({"timezone": "UTC", "windows": [{"weekday": "monday", "opens": "25:00", "closes": "10:00"}]},
         {"windows.0.opens"}),
        ({"timezone": "UTC", "exceptions": [{"day": "2026-02-30"}]}, {"exceptions.0.day"}),
        ({"timezone": "UTC", "exceptions": [{"day": "2026-02-03", "opens": "10:00"}]}, {"exceptions.0"}),
    ]
    for body, fields in cases:
        response = await client.put(base, headers=company.admin.headers, json=body)
        assert response.status_code == 422, (body, response.text)
        assert error_fields(response) == fields, body
