"""The one place that turns wall-clock times and zones into UTC instants and back.

Instants are stored in UTC; a meeting is shown in its zone (its venue's, else the
delegation's). A wall-clock time that a daylight-saving change skips or repeats names
no single instant, so it is refused unless written with an offset.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class WallClockError(ValueError):
    """A wall-clock time that names no instant, or more than one, in its zone."""


_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:\d{2})?$"
)


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The zone of that IANA name; raises ValueError with a readable message if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, IsADirectoryError, UnicodeEncodeError) as exc:
        raise ValueError(f"'{name}' is not an IANA time zone (such as Asia/Seoul)") from exc


def is_valid_zone(name: str) -> bool:
    try:
        zone(name)
    except ValueError:
        return False
    return True


def is_nonexistent(wall: datetime, tz: ZoneInfo) -> bool:
    """True when the zone skips this wall-clock time (spring forward)."""
    aware = wall.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall


def is_ambiguous(wall: datetime, tz: ZoneInfo) -> bool:
    """True when the zone repeats this wall-clock time (fall back)."""
    if is_nonexistent(wall, tz):
        return False
    return (
        wall.replace(tzinfo=tz, fold=0).utcoffset() != wall.replace(tzinfo=tz, fold=1).utcoffset()
    )


def wall_to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """The instant of an unambiguous, existing wall-clock time."""
    if is_nonexistent(wall, tz):
        raise WallClockError(
            f"{wall:%Y-%m-%d %H:%M} does not exist in {tz.key} (clocks skip it); "
            "write it with an offset or choose another time"
        )
    if is_ambiguous(wall, tz):
        raise WallClockError(
            f"{wall:%Y-%m-%d %H:%M} happens twice in {tz.key} (clocks fall back); "
            "write it with an offset such as +01:00 to say which"
        )
    return wall.replace(tzinfo=tz).astimezone(UTC)


def parse_document_datetime(text: str, zone_name: str) -> datetime:
    """A document time to a UTC instant: exact with an offset or Z, else wall-clock in zone_name."""
    match = _DATETIME.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a date and time like 2024-09-25T14:00")
    year, month, day, hour, minute, second, offset = match.groups()
    try:
        naive = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a valid date and time: {exc}") from None
    if offset:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    return wall_to_utc(naive, zone(zone_name))


def meeting_zone_name(venue, delegation_zone: str) -> str:
    """The zone a meeting's times are in: its venue's, else the delegation's (the spec's rule)."""
    return venue.timezone if venue is not None else delegation_zone


def to_local(instant: datetime, zone_name: str) -> datetime:
    """An aware UTC instant as an aware datetime in the named zone."""
    return instant.astimezone(zone(zone_name))


def format_document_datetime(instant: datetime, zone_name: str) -> str:
    """Wall-clock time in the zone, with the offset only where the wall time is ambiguous."""
    local = to_local(instant, zone_name)
    wall = local.replace(tzinfo=None)
    text = wall.isoformat(timespec="seconds" if wall.second else "minutes")
    if is_ambiguous(wall, local.tzinfo):
        text += offset_text(local.utcoffset())
    return text


def offset_text(offset: timedelta) -> str:
    """A UTC offset as ISO 8601 writes it: +09:00, -04:00."""
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def day_start(day: date, zone_name: str) -> datetime:
    """The first instant of a local day, in UTC.

    Where midnight itself is skipped, fold=0 reads it with the offset before the change,
    which is exactly the first instant after the gap.
    """
    return datetime.combine(day, time()).replace(tzinfo=zone(zone_name)).astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
