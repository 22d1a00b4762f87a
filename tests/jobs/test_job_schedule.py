"""Quartz cron: day-of-week numbering, fire times across time zones and DST, words, and errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from checkers.jobs.schedule import (
    CronError,
    CronNotSupportedError,
    describe,
    fires_daily_at,
    min_interval,
    next_fire_times,
    parse_quartz,
    zone,
)

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")


def test_daily_0200_in_utc() -> None:
    fires = next_fire_times(cron="0 0 2 * * ?", timezone_id="UTC", start=datetime(2026, 1, 30, 12, tzinfo=UTC),
                            count=3)

    assert fires == [datetime(2026, 1, 31, 2, tzinfo=UTC), datetime(2026, 2, 1, 2, tzinfo=UTC),
                     datetime(2026, 2, 2, 2, tzinfo=UTC)]
    assert all(f.tzinfo is not None and f.utcoffset() == timedelta(0) for f in fires)


def test_daily_0200_in_berlin_keeps_wall_time_across_spring_dst() -> None:
    # DST starts Sun 2026-03-29 at 02:00 CET: the clock jumps to 03:00, so 02:00 does not exist that day
    fires = next_fire_times(cron="0 0 2 * * ?", timezone_id="Europe/Berlin",
                            start=datetime(2026, 3, 26, 12, tzinfo=BERLIN), count=5)

    assert [f.date().isoformat() for f in fires] == ["2026-03-27", "2026-03-28", "2026-03-29", "2026-03-30",
                                                     "2026-03-31"]
    assert all(f.tzinfo is not None and str(f.tzinfo) == "Europe/Berlin" for f in fires)
    before, after = fires[:2], fires[3:]
    assert all((f.hour, f.utcoffset()) == (2, timedelta(hours=1)) for f in before)
    assert all((f.hour, f.utcoffset()) == (2, timedelta(hours=2)) for f in after)
    assert [f.astimezone(UTC).hour for f in before + after] == [1, 1, 0, 0]
    # the missing 02:00 fires at the first existing instant after it, as Quartz's lenient calendar does
    assert fires[2].hour == 3 and fires[2].astimezone(UTC) == datetime(2026, 3, 29, 1, tzinfo=UTC)


def test_daily_0200_in_berlin_fires_once_on_the_autumn_day_with_two_0200s() -> None:
    fires = next_fire_times(cron="0 0 2 * * ?", timezone_id="Europe/Berlin",
                            start=datetime(2026, 10, 24, 12, tzinfo=BERLIN), count=3)

    assert [f.date().isoformat() for f in fires] == ["2026-10-25", "2026-10-26", "2026-10-27"]
    assert all(f.hour == 2 and f.minute == 0 for f in fires)
    assert fires[1].utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize("cron", ["0 0 2 ? * 2", "0 0 2 ? * MON", "0 0 2 ? * mon"])
def test_day_of_week_2_is_monday_in_quartz(cron: str) -> None:
    fires = next_fire_times(cron=cron, timezone_id="UTC", start=datetime(2026, 1, 1, tzinfo=UTC), count=6)

    assert len(fires) == 6
    assert {f.strftime("%A") for f in fires} == {"Monday"}
    assert all((f.hour, f.minute, f.second) == (2, 0, 0) for f in fires)
    assert [b - a for a, b in zip(fires, fires[1:], strict=False)] == [timedelta(days=7)] * 5


@pytest.mark.parametrize(("cron", "weekdays"), [
    ("0 0 2 ? * 1", {"Sunday"}),
    ("0 0 2 ? * 7", {"Saturday"}),
    ("0 0 2 ? * L", {"Saturday"}),
    ("0 0 2 ? * 2-6", {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}),
    ("0 0 2 ? * 1/3", {"Sunday", "Wednesday", "Saturday"}),
    ("0 0 2 ? * 6#3", {"Friday"}),
    ("0 0 2 ? * 6L", {"Friday"}),
])
def test_day_of_week_numbering_and_specials(cron: str, weekdays: set[str]) -> None:
    fires = next_fire_times(cron=cron, timezone_id="UTC", start=datetime(2026, 1, 1, tzinfo=UTC), count=12)

    assert {f.strftime("%A") for f in fires} == weekdays


def test_nth_and_last_weekday_of_month() -> None:
    third_fridays = next_fire_times(cron="0 0 2 ? * 6#3", timezone_id="UTC",
                                    start=datetime(2026, 1, 1, tzinfo=UTC), count=3)
    last_fridays = next_fire_times(cron="0 0 2 ? * 6L", timezone_id="UTC",
                                   start=datetime(2026, 1, 1, tzinfo=UTC), count=3)

    assert all(15 <= f.day <= 21 for f in third_fridays)
    assert all((f + timedelta(days=7)).month != f.month for f in last_fridays)
    assert len({f.month for f in last_fridays}) == 3


def test_naive_start_is_read_in_the_job_time_zone() -> None:
    (fire,) = next_fire_times(cron="0 0 2 * * ?", timezone_id="Asia/Tokyo", start=datetime(2026, 1, 1, 1, 0),
                              count=1)
    assert fire == datetime(2026, 1, 1, 2, tzinfo=ZoneInfo("Asia/Tokyo"))


@pytest.mark.parametrize(("cron", "expected"), [
    ("0 0 2 * * ?", True),
    ("0 0 2 ? * *", True),
    ("0 0 2 1/1 * ? *", True),
    ("0 0 2 ? * 1-7", True),
    ("0 0 2 ? * SUN-SAT", True),
    ("0 0 2 ? * 2", False),
    ("0 0 14 * * ?", False),
    ("0 0 2,14 * * ?", False),
    ("0 30 2 * * ?", False),
    ("27 0 2 * * ?", True),  # what the Databricks jobs UI writes for "every day at 02:00": a second of its own
    ("59 0 2 ? * *", True),
    ("*/30 0 2 * * ?", False),
    ("0-59 0 2 * * ?", False),
    ("0 0 2 * * ? 2027", False),
    ("0 0 2 * * ? 2019-2099", True),  # every year from now on: a year range that ends only where Quartz does
    ("0 0 2 * * ? 2019-2030", False),
    ("0 0 2 L * ?", False),
    ("0 2 * * *", False),
    ("not a cron", False),
])
def test_fires_daily_at_0200(cron: str, expected: bool) -> None:
    assert fires_daily_at(cron=cron) is expected


def test_fires_daily_at_a_given_second_only_when_asked() -> None:
    assert fires_daily_at(cron="27 0 2 * * ?", second=27)
    assert not fires_daily_at(cron="27 0 2 * * ?", second=0)


@pytest.mark.parametrize(("cron", "gap"), [
    ("*/5 * * * * ?", timedelta(seconds=5)),
    ("0,5 0 2 * * ?", timedelta(seconds=5)),
    ("0/15 * * * * ?", timedelta(seconds=15)),
    ("0 0 2 * * ?", timedelta(days=1)),
    ("0 0 2 ? * 2", timedelta(days=7)),
])
def test_min_interval(cron: str, gap: timedelta) -> None:
    assert min_interval(cron=cron) == gap


def test_describe_in_plain_words() -> None:
    assert describe(cron="0 0 2 * * ?", timezone_id="UTC") == "Every day at 02:00 (UTC)"
    assert "Monday" in describe(cron="0 0 2 ? * 2", timezone_id="Europe/Berlin")
    assert describe(cron="0 0 2 ? * 2", timezone_id="Europe/Berlin").endswith("(Europe/Berlin)")
    assert "Saturday" in describe(cron="0 0 2 ? * L", timezone_id="UTC")


@pytest.mark.parametrize(("cron", "field", "fragment"), [
    ("0 2 * * *", None, "`0 0 2 * * ?`"),  # the hint turns Unix cron into Quartz
    ("0 0 2 * * *", "day-of-month", "exactly one of day-of-month and day-of-week"),
    ("0 0 2 ? * ?", "day-of-month", "both are `?`"),
    ("0 0 2 ? * 0", "day-of-week", "1 = SUN"),
    ("0 0 2 ? * 8", "day-of-week", "out of range"),
    ("0 0 25 * * ?", "hours", "0–23"),
    ("0 60 2 * * ?", "minutes", "0–59"),
    ("0 0 2 32 * ?", "day-of-month", "day-of-month `32`"),
    ("0 0 2 * 13 ?", "month", "month `13`"),
    ("H 0 2 * * ?", "seconds", "seconds `H`"),
    ("0 0 2 * * ? 1800", "year", "year `1800`"),
    ("", None, "empty"),
])
def test_invalid_quartz_names_the_field(cron: str, field: str | None, fragment: str) -> None:
    with pytest.raises(CronError) as info:
        parse_quartz(cron)
    assert info.value.field == field
    assert fragment in str(info.value)


def test_schedule_that_never_fires_is_an_error() -> None:
    with pytest.raises(CronError, match="never fires"):
        next_fire_times(cron="0 0 2 30 2 ?", timezone_id="UTC", start=datetime(2026, 1, 1, tzinfo=UTC), count=1)


def test_valid_quartz_the_preview_cannot_compute_is_its_own_error() -> None:
    with pytest.raises(CronNotSupportedError):
        parse_quartz("0 0 2 LW * ?")


@pytest.mark.parametrize(("tz", "hint"), [("Europe/Berln", "Europe/Berlin"), ("", "IANA"), ("Mars/Base", "IANA")])
def test_unknown_time_zone(tz: str, hint: str) -> None:
    with pytest.raises(CronError) as info:
        zone(tz)
    assert info.value.field == "timezone_id"
    assert hint in (info.value.hint or "")
