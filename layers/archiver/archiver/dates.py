"""Date parsing for the date forms posts arrive with; output is ISO 8601 with an offset."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

_OFFSET = re.compile(r"\s*(Z|[+-]\d{2}:?\d{2}|UTC|GMT)$", re.IGNORECASE)
# Year-month-day with `-` or `/`, and a time whose fields may drop their leading zero (`2019-04-25 9:00:00`).
_NUMERIC = re.compile(
    r"^(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?:(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?$"
)
# RFC 822 as RSS writes it, in any language: `Seg, 24 Set 2018 19:42:40 -0300` (the day name is ignored).
_RFC822_ANY_LANGUAGE = re.compile(
    r"^(?:[^\W\d_]+\.?,?\s+)?(\d{1,2})\.?\s+([^\W\d_]+)\.?,?\s+(\d{4})"
    r"(?:,?\s+(\d{1,2}:\d{2}(?::\d{2})?))?(?:\s+([+-]\d{4}|[A-Za-z]{1,5}))?$"
)
# Month names and abbreviations (accents removed, lower case) of Portuguese, Spanish, French, German,
# Italian and Dutch; English ones are email.utils' own.
_MONTH_WORDS = (
    "janeiro enero ene janvier janv januar jan gennaio gen januari",
    "fevereiro fev febrero feb fevrier fevr februar febbraio februari",
    "marco marzo mars marz maerz mar mrz maart mrt",
    "abril abr avril avr april apr aprile",
    "maio mayo mai maggio mag mei",
    "junho jun junio juin juni giugno giu",
    "julho jul julio juillet juil juli luglio lug",
    "agosto ago aout aou august aug",
    "setembro set septiembre sept sep septembre september settembre",
    "outubro out octubre oct octobre oktober okt ottobre ott",
    "novembro nov noviembre novembre november",
    "dezembro dez diciembre dic decembre dec dezember dicembre december",
)
_MONTHS = {word: number for number, words in enumerate(_MONTH_WORDS, 1) for word in words.split()}
# Zone names after an RFC 822 time: email.utils knows the North American ones; these are unambiguous others
# (IST, BST name two zones each: not guessed).
_ZONE_WORD = re.compile(r"\d:\d{2}(?::\d{2})?\s+([A-Za-z]{2,5})\s*$")
_RFC822_ZONES = {"UT", "UTC", "GMT", "Z", "AST", "ADT", "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT"}
_ZONE_OFFSETS = {
    "WET": "+0000", "WEST": "+0100", "CET": "+0100", "CEST": "+0200", "MEZ": "+0100", "MESZ": "+0200",
    "EET": "+0200", "EEST": "+0300", "MSK": "+0300", "BRT": "-0300", "BRST": "-0200", "ART": "-0300",
    "JST": "+0900", "KST": "+0900", "HKT": "+0800", "SGT": "+0800", "AEST": "+1000", "AEDT": "+1100",
    "ACST": "+0930", "AWST": "+0800", "NZST": "+1200", "NZDT": "+1300", "HST": "-1000", "AKST": "-0900",
    "AKDT": "-0800",
}
_ENGLISH_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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
    match = _OFFSET.search(text)
    body, offset = (text[: match.start()].strip(), match.group(1).upper()) if match else (text, "")
    numeric = _NUMERIC.match(body)
    if numeric:
        y, _, mo, d, hh, mi, ss, fraction = numeric.groups()
        micro = int((fraction or "0").ljust(6, "0"))
        parsed = _safe(datetime, int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), micro)
        return parsed.replace(tzinfo=_fixed_zone(offset)) if parsed and offset else parsed
    try:
        return datetime.fromisoformat(body.replace(" ", "T", 1) + _iso_offset(offset))
    except ValueError:
        pass
    return _rfc822(text) or _rfc822(_english_month(text))


def _iso_offset(offset: str) -> str:
    if offset in ("Z", "UTC", "GMT"):
        return "+00:00"
    return offset[:3] + ":" + offset[3:] if len(offset) == 5 else offset  # -0500 -> -05:00


def _fixed_zone(offset: str) -> tzinfo:
    text = _iso_offset(offset)
    sign = -1 if text.startswith("-") else 1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6])))


def _rfc822(text: str | None) -> datetime | None:
    if not text:
        return None
    zone_word = _ZONE_WORD.search(text)
    if zone_word and zone_word.group(1).upper() not in _RFC822_ZONES:
        offset = _ZONE_OFFSETS.get(zone_word.group(1).upper())
        if offset is None:
            return None  # an unknown zone: the instant is uncertain by hours, so it is not guessed
        text = text[: zone_word.start(1)] + offset
    try:
        parsed = parsedate_to_datetime(text)  # RFC 822 / 2822, as in RSS
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None and text.rstrip().endswith("-0000"):
        parsed = parsed.replace(tzinfo=UTC)  # RFC 5322: "-0000" is UTC, source zone unknown
    return parsed


def _english_month(text: str) -> str | None:
    """An RFC 822 date with a non-English month name, rewritten with the English abbreviation."""
    match = _RFC822_ANY_LANGUAGE.match(text)
    if not match:
        return None
    day, month_word, year, clock, zone_name = match.groups()
    plain = unicodedata.normalize("NFKD", month_word).encode("ascii", "ignore").decode("ascii").lower()
    month = _MONTHS.get(plain)
    if month is None:
        return None
    clock = clock or "00:00"
    return f"{int(day):02d} {_ENGLISH_MONTHS[month - 1]} {year} {clock} {zone_name or ''}".strip()


def _safe(factory, *args: int) -> datetime | None:
    try:
        return factory(*args)
    except ValueError:
        return None
