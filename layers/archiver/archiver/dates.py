"""Date parsing for the date forms posts arrive with; output is ISO 8601 with an offset."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

_OFFSET = re.compile(r"\s*(Z|[+-]\d{2}:?\d{2}|UTC|GMT)$", re.IGNORECASE)
_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def zone(name: str) -> tzinfo:
    """The tzinfo for a setting like "UTC" or "Europe/Berlin"."""
    return UTC if name.upper() in ("UTC", "Z", "GMT") else ZoneInfo(name)


def parse_date(value: object, default_tz: tzinfo = UTC) -> datetime | None:
    """Parse a date as found in front matter, feeds or exports; None when it is not a date.

    Naive values are taken in `default_tz` (UTC unless configured): WordPress exports write
    `post_date` without a zone.
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        parsed = _parse_text(value.strip())
        if parsed is None:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with an explicit offset (`+00:00`, never a bare `Z`)."""
    return value.isoformat() if value else None


def _parse_text(text: str) -> datetime | None:
    if not text or text.startswith("0000-00-00"):
        return None
    slashed = _SLASHED.match(text)
    if slashed:
        y, m, d, hh, mm, ss = (int(g) if g else 0 for g in slashed.groups())
        return _safe(datetime, y, m, d, hh, mm, ss)
    candidate = text.replace("T", " ", 1) if re.match(r"^\d{4}-\d{2}-\d{2}T", text) else text
    match = _OFFSET.search(candidate)
    offset = ""
    if match:
        offset = match.group(1).upper()
        candidate = candidate[: match.start()]
        offset = "+00:00" if offset in ("Z", "UTC", "GMT") else offset
        if len(offset) == 5:  # -0500 -> -05:00
            offset = offset[:3] + ":" + offset[3:]
    try:
        return datetime.fromisoformat(candidate.strip().replace(" ", "T", 1) + offset)
    except ValueError:
        pass
    try:
        parsed = parsedate_to_datetime(text)  # RFC 822 / 2822, as in RSS
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None and text.rstrip().endswith("-0000"):
        parsed = parsed.replace(tzinfo=UTC)  # RFC 5322: "-0000" is UTC, source zone unknown
    return parsed


def _safe(factory, *args: int) -> datetime | None:
    try:
        return factory(*args)
    except ValueError:
        return None
