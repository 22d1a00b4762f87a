"""Quartz cron schedules as Databricks reads them: check, describe, and preview fire times.

Quartz is not Unix cron: a seconds field comes first, an optional year last, exactly one of day-of-month /
day-of-week is ``?``, and day-of-week counts 1 = SUN … 7 = SAT. ``croniter`` (0 = SUN) computes the fire
times and ``cron-descriptor`` (which reads Quartz) writes the words; this module only translates
day-of-week numbering and turns library errors into messages that name the field.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import croniter
from croniter.croniter import CroniterBadDateError, CroniterError

from checkers.errors import CheckersError

FIELD_NAMES = ("seconds", "minutes", "hours", "day-of-month", "month", "day-of-week", "year")
_ALLOWED = {
    "seconds": "0–59", "minutes": "0–59", "hours": "0–23", "day-of-month": "1–31, L, nW, ?",
    "month": "1–12 or JAN–DEC", "day-of-week": "1–7 (1 = SUN) or SUN–SAT, nL, n#k, ?", "year": "1970–2099",
}
_DOW_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_FIELD_CHARS = {
    "seconds": r"[0-9*,/\-]+", "minutes": r"[0-9*,/\-]+", "hours": r"[0-9*,/\-]+",
    "day-of-month": r"[0-9*,/\-LW?]+", "month": r"[0-9A-Z*,/\-]+", "day-of-week": r"[0-9A-Z*,/\-#?]+",
    "year": r"[0-9*,/\-]+",
}
#: Databricks runs a job at most once every this many seconds.
MIN_INTERVAL = timedelta(seconds=10)


class CronError(CheckersError):
    """A Quartz cron expression or time zone Databricks would refuse."""

    def __init__(self, message: str, *, expression: str, field: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.expression = expression
        self.field = field


class CronNotSupportedError(CronError):
    """Valid Quartz that the local preview cannot compute (``L-3``, ``LW``)."""


@dataclass(frozen=True)
class QuartzCron:
    """A checked Quartz expression and its croniter translation."""

    expression: str
    """As written (whitespace normalised)."""
    fields: tuple[str, ...]
    """The 6 or 7 Quartz fields, upper-cased."""
    croniter_expression: str
    """The same schedule for croniter: 7 fields, seconds first, day-of-week 0 = SUN, ``?`` → ``*``."""


def _dow_value(token: str, expression: str) -> int:
    """A Quartz day-of-week (1–7 or a name) → croniter's 0 = SUN numbering."""
    if token in _DOW_NAMES:
        return _DOW_NAMES.index(token)
    if token.isdigit() and 1 <= int(token) <= 7:
        return int(token) - 1
    raise CronError(f"day-of-week `{token}` is out of range in `{expression}`.", expression=expression,
                    field="day-of-week", hint="Quartz counts days 1 = SUN … 7 = SAT (or SUN–SAT); "
                    "Unix cron's 0 = SUN does not exist here.")


def _translate_dow(value: str, expression: str) -> str:
    """Rewrite Quartz day-of-week numbers for croniter; names and specials keep their meaning."""
    if value in ("*", "?"):
        return "*"
    out = []
    for item in value.split(","):
        if m := re.fullmatch(r"\*/(\d+)", item):
            out.append(f"0-6/{m.group(1)}")
        elif m := re.fullmatch(r"(\w+)-(\w+)(?:/(\d+))?", item):
            step = f"/{m.group(3)}" if m.group(3) else ""
            out.append(f"{_dow_value(m.group(1), expression)}-{_dow_value(m.group(2), expression)}{step}")
        elif m := re.fullmatch(r"(\w+)/(\d+)", item):
            out.append(f"{_dow_value(m.group(1), expression)}-6/{m.group(2)}")
        elif m := re.fullmatch(r"(\w+)#(\d+)", item):
            out.append(f"{_dow_value(m.group(1), expression)}#{m.group(2)}")
        elif item == "L":
            out.append("6")  # Quartz: a lone L in day-of-week is the last day of the week, SAT
        elif m := re.fullmatch(r"(\w+?)L", item):
            out.append(f"L{_dow_value(m.group(1), expression)}")
        elif re.fullmatch(r"\w+", item):
            out.append(str(_dow_value(item, expression)))
        else:
            raise CronError(f"day-of-week `{item}` is not valid in `{expression}`.", expression=expression,
                            field="day-of-week", hint=f"Allowed: {_ALLOWED['day-of-week']}.")
    return ",".join(out)


def _unix_hint(fields: list[str]) -> str:
    if len(fields) == 5:
        minute, hour, dom, month, dow = fields
        if dow == "*":
            return (f"That looks like a 5-field Unix cron. Quartz puts seconds first and `?` in one day field: "
                    f"`0 {minute} {hour} {dom} {month} ?`.")
        return "That looks like a 5-field Unix cron: Quartz adds a seconds field first and uses `?` in one day field."
    return "Write: seconds minutes hours day-of-month month day-of-week [year], e.g. `0 0 2 * * ?`."


def parse_quartz(expression: str) -> QuartzCron:
    """Check a Quartz cron expression; raise :class:`CronError` naming the field that is wrong."""
    if not isinstance(expression, str) or not expression.strip():
        raise CronError("the cron expression is empty.", expression=str(expression),
                        hint="Daily at 02:00 is `0 0 2 * * ?`.")
    fields = expression.upper().split()
    if len(fields) not in (6, 7):
        raise CronError(f"`{expression}` has {len(fields)} fields; Quartz needs 6 or 7.", expression=expression,
                        hint=_unix_hint(fields))
    named = dict(zip(FIELD_NAMES, fields, strict=False))
    for name, value in named.items():
        if not re.fullmatch(_FIELD_CHARS[name], value):
            raise CronError(f"{name} `{value}` is not valid in `{expression}`.", expression=expression,
                            field=name, hint=f"Allowed in {name}: {_ALLOWED[name]}, with `,` `-` `/` `*`.")
    dom, dow = named["day-of-month"], named["day-of-week"]
    if (dom == "?") == (dow == "?"):
        which = "both are `?`" if dom == "?" else "neither is `?`"
        raise CronError(f"`{expression}`: exactly one of day-of-month and day-of-week must be `?` ({which}).",
                        expression=expression, field="day-of-month",
                        hint="Every day: `* * ?` in day-of-month, month, day-of-week, e.g. `0 0 2 * * ?`; "
                             "Mondays: `0 0 2 ? * MON`.")
    if ("?" in dom and dom != "?") or ("?" in dow and dow != "?"):
        raise CronError(f"`?` must stand alone in its field in `{expression}`.", expression=expression,
                        field="day-of-month" if "?" in dom else "day-of-week")
    if re.search(r"L-\d+|LW", dom):
        raise CronNotSupportedError(
            f"day-of-month `{dom}` is valid Quartz, but the local schedule preview cannot compute it.",
            expression=expression, field="day-of-month", hint="Databricks accepts it; only the preview is off.")
    translated = [*fields[:5], _translate_dow(dow, expression)]
    translated[3] = "*" if dom == "?" else dom
    translated.append(fields[6] if len(fields) == 7 else "*")
    cron_expr = " ".join(translated)
    try:
        croniter.expand(cron_expr, second_at_beginning=True)
    except CroniterError as exc:
        raise _locate(expression, fields, translated, exc) from None
    return QuartzCron(expression=" ".join(fields), fields=tuple(fields), croniter_expression=cron_expr)


def _locate(expression: str, fields: list[str], translated: list[str], exc: Exception) -> CronError:
    """croniter reports the whole expression; probe one field at a time to name the bad one."""
    for i, name in enumerate(FIELD_NAMES):
        probe = ["0", "0", "0", "*", "*", "*", "*"]
        probe[i] = translated[i]
        try:
            croniter.expand(" ".join(probe), second_at_beginning=True)
        except CroniterError:
            value = fields[i] if i < len(fields) else translated[i]
            return CronError(f"{name} `{value}` is not valid in `{expression}`.", expression=expression,
                             field=name, hint=f"Allowed in {name}: {_ALLOWED[name]}.")
    return CronError(f"`{expression}` is not a valid Quartz cron expression ({exc}).", expression=expression)


def zone(timezone_id: str) -> ZoneInfo:
    """The IANA zone for a Databricks ``timezone_id``; :class:`CronError` when unknown."""
    try:
        if not isinstance(timezone_id, str) or not timezone_id.strip():
            raise ValueError("empty")
        return ZoneInfo(timezone_id)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(str(timezone_id), sorted(available_timezones()), n=1, cutoff=0.8)
        hint = (f"Did you mean `{close[0]}`?" if close else
                "Use a Java/IANA id such as `UTC`, `Europe/Berlin` or `America/New_York`.")
        raise CronError(f"`{timezone_id}` is not a known time zone id.", expression="", field="timezone_id",
                        hint=hint) from None


def _iterate(quartz: QuartzCron, start: datetime) -> croniter:
    return croniter(quartz.croniter_expression, start, ret_type=datetime, second_at_beginning=True)


def next_fire_times(*, cron: str, timezone_id: str, start: datetime, count: int) -> list[datetime]:
    """The next ``count`` fire times strictly after ``start``, as aware datetimes in the job's zone.

    A naive ``start`` is read in that zone. Across a daylight-saving change the times follow Quartz (Java
    calendar) rules: a wall time skipped in spring fires an hour later, one repeated in autumn fires once.
    """
    quartz = parse_quartz(cron)
    tz = zone(timezone_id)
    local_start = start.replace(tzinfo=tz) if start.tzinfo is None else start.astimezone(tz)
    it = _iterate(quartz, local_start)
    fires: list[datetime] = []
    try:
        while len(fires) < count:
            fire: datetime = it.get_next()
            if fire.fold == 1 and fire.replace(fold=0).utcoffset() != fire.utcoffset():
                continue  # the repeated hour in autumn: Quartz resolves a wall time to its first instant
            fires.append(fire.astimezone(tz))
    except CroniterBadDateError:
        if not fires:
            raise CronError(f"`{cron}` never fires after {local_start:%Y-%m-%d %H:%M}.", expression=cron,
                            hint="Check the day-of-month / month / year combination (e.g. 30 February)."
                            ) from None
    return fires


def describe(*, cron: str, timezone_id: str) -> str:
    """Plain words for a schedule, e.g. ``Every day at 02:00 (UTC)``."""
    from cron_descriptor import ExpressionDescriptor, Options

    quartz = parse_quartz(cron)
    options = Options()
    options.use_24hour_time_format = True
    options.day_of_week_start_index_zero = False
    options.verbose = True
    fields = list(quartz.fields)
    if fields[5] == "L":
        fields[5] = "SAT"  # cron-descriptor does not read a lone Quartz `L` (= SAT) in day-of-week
    try:
        words = ExpressionDescriptor(" ".join(fields), options).get_description()
    except Exception:  # the words are a nicety; the expression itself is valid
        words = f"Cron `{quartz.expression}`"
    if m := re.fullmatch(r"At (.+), every day", words):
        words = f"Every day at {m.group(1)}"
    return f"{words} ({timezone_id})"


def fires_daily_at(*, cron: str, hour: int = 2, minute: int = 0, second: int | None = None) -> bool:
    """True when the expression fires exactly once every day, at ``hour:minute`` (docs/contract.md); at ``second``
    too when given.

    Any one second of that minute is "at 02:00" by default: the Databricks jobs UI writes a schedule of "every day at
    02:00" with a second of its own choosing (``27 0 2 * * ?``).
    """
    try:
        quartz = parse_quartz(cron)
    except CronError:
        return False
    (minutes, hours, dom, month, dow, seconds, year), nth = croniter.expand(
        quartz.croniter_expression, second_at_beginning=True)
    one_second = len(seconds) == 1 and isinstance(seconds[0], int)
    every_year = year == ["*"] or set(range(datetime.now(timezone.utc).year, 2100)) <= set(year)
    return (one_second and (second is None or seconds == [second]) and minutes == [minute] and hours == [hour]
            and dom == ["*"] and month == ["*"] and dow == ["*"] and every_year and not nth)


def min_interval(*, cron: str, samples: int = 400) -> timedelta | None:
    """Shortest gap between consecutive fires over the first ``samples`` fires from a fixed UTC start.

    None when the schedule fires fewer than twice. Used for the Databricks 10-second minimum.
    """
    quartz = parse_quartz(cron)
    it = _iterate(quartz, datetime(2024, 1, 1, tzinfo=timezone.utc))
    previous: datetime | None = None
    best: timedelta | None = None
    try:
        for _ in range(samples):
            fire: datetime = it.get_next()
            if previous is not None:
                gap = fire - previous
                best = gap if best is None or gap < best else best
            previous = fire
    except CroniterBadDateError:
        pass
    return best


def check_schedule(*, cron: str, timezone_id: str) -> None:
    """Raise :class:`CronError` for anything Databricks would refuse in a ``schedule`` block."""
    parse_quartz(cron)
    zone(timezone_id)
    next_fire_times(cron=cron, timezone_id=timezone_id, start=datetime.now(timezone.utc), count=1)
