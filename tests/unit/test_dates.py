"""parse_date and iso: every date form posts arrive with becomes ISO 8601 with an explicit offset."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfoNotFoundError

import pytest

from archiver.dates import iso, parse_date, zone

BERLIN = zone("Europe/Berlin")


def as_iso(value: object, default_tz=UTC) -> str | None:
    return iso(parse_date(value, default_tz))


def test_naive_date_is_taken_as_utc():
    assert as_iso("2016-02-11 20:40:20") == "2016-02-11T20:40:20+00:00"


def test_configured_zone_is_applied_to_naive_dates_in_winter():
    assert as_iso("2016-02-11 20:40:20", BERLIN) == "2016-02-11T20:40:20+01:00"


def test_configured_zone_follows_daylight_saving_time():
    assert as_iso("2016-07-11 20:40:20", BERLIN) == "2016-07-11T20:40:20+02:00"


def test_explicit_offset_wins_over_configured_zone():
    assert as_iso("2016-07-11 20:40:20 +0000", BERLIN) == "2016-07-11T20:40:20+00:00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2013-05-06 23:25:46 -0500", "2013-05-06T23:25:46-05:00"),
        ("2013-05-06T23:25:46-0500", "2013-05-06T23:25:46-05:00"),
        ("2024-03-05T14:22:10+05:30", "2024-03-05T14:22:10+05:30"),
        ("2024-03-05 14:22:10 UTC", "2024-03-05T14:22:10+00:00"),
        ("2024-03-05T14:22:10 gmt", "2024-03-05T14:22:10+00:00"),
    ],
)
def test_numeric_and_named_offsets_are_kept(text, expected):
    assert as_iso(text) == expected


def test_zulu_suffix_becomes_explicit_utc_offset():
    assert as_iso("2024-03-05T14:22:10Z") == "2024-03-05T14:22:10+00:00"


def test_iso_output_never_uses_bare_z():
    assert not as_iso("2024-03-05T14:22:10Z").endswith("Z")


def test_fractional_seconds_are_kept():
    assert as_iso("2024-03-05T14:22:10.123Z") == "2024-03-05T14:22:10.123000+00:00"


def test_date_only_is_midnight_utc():
    assert as_iso("2024-03-05") == "2024-03-05T00:00:00+00:00"


def test_date_only_is_midnight_in_configured_zone():
    assert as_iso("2024-03-05", BERLIN) == "2024-03-05T00:00:00+01:00"


def test_minutes_without_seconds_are_understood():
    assert as_iso("2024-03-05T14:22") == "2024-03-05T14:22:00+00:00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tue, 05 Mar 2024 14:22:10 GMT", "2024-03-05T14:22:10+00:00"),
        ("Tue, 05 Mar 2024 14:22:10 +0100", "2024-03-05T14:22:10+01:00"),
        ("Tue, 05 Mar 2024 14:22:10 EST", "2024-03-05T14:22:10-05:00"),
        ("Tue, 05 Mar 2024 14:22:10 Z", "2024-03-05T14:22:10+00:00"),
    ],
)
def test_rfc_822_dates_from_rss_are_understood(text, expected):
    assert as_iso(text) == expected


def test_rfc_822_date_without_zone_takes_configured_zone():
    assert as_iso("Tue, 05 Mar 2024 14:22:10", BERLIN) == "2024-03-05T14:22:10+01:00"


def test_rfc_822_minus_zero_offset_is_utc_even_with_configured_zone():
    assert as_iso("Tue, 05 Mar 2024 14:22:10 -0000", BERLIN) == "2024-03-05T14:22:10+00:00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019/7/23 12:00:00", "2019-07-23T12:00:00+00:00"),
        ("2019/07/23 12:00", "2019-07-23T12:00:00+00:00"),
        ("2019/7/23", "2019-07-23T00:00:00+00:00"),
    ],
)
def test_slashed_dates_are_understood(text, expected):
    assert as_iso(text) == expected


def test_surrounding_whitespace_is_ignored():
    assert as_iso("  2016-02-11 20:40:20\n") == "2016-02-11T20:40:20+00:00"


@pytest.mark.parametrize(
    "value",
    [
        "0000-00-00 00:00:00",  # WordPress's "no date" for drafts
        "0000-00-00",
        "2023-01-29 18:30:22 2023 -0800",  # malformed export: year repeated before the offset
        "2024-13-45",
        "2024-02-30 10:00:00",
        "2019/2/30",
        "2024-03-05T25:00:00Z",
        "not a date",
        "March 5, 2024",
        "1709649000",
        "",
        "   ",
    ],
)
def test_text_that_is_not_a_date_gives_none(value):
    assert parse_date(value) is None


@pytest.mark.parametrize("value", [None, True, False, 12345, 3.5, ["2024-03-05"], {"date": "2024-03-05"}])
def test_non_date_values_give_none(value):
    assert parse_date(value) is None


def test_naive_datetime_object_is_taken_in_default_zone():
    assert iso(parse_date(datetime(2020, 1, 2, 3, 4, 5))) == "2020-01-02T03:04:05+00:00"
    assert iso(parse_date(datetime(2020, 1, 2, 3, 4, 5), BERLIN)) == "2020-01-02T03:04:05+01:00"


def test_aware_datetime_object_keeps_its_offset():
    value = datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-7)))
    assert iso(parse_date(value, BERLIN)) == "2020-01-02T03:04:05-07:00"


def test_date_object_is_midnight_in_default_zone():
    assert iso(parse_date(date(2016, 7, 11))) == "2016-07-11T00:00:00+00:00"
    assert iso(parse_date(date(2016, 7, 11), BERLIN)) == "2016-07-11T00:00:00+02:00"


def test_parsed_dates_are_always_aware():
    for value in ("2016-02-11 20:40:20", "2024-03-05", "2019/7/23", "Tue, 05 Mar 2024 14:22:10", date(2020, 1, 1)):
        assert parse_date(value).tzinfo is not None, value


def test_iso_of_none_is_none():
    assert iso(None) is None


@pytest.mark.parametrize("name", ["UTC", "utc", "Z", "GMT"])
def test_utc_aliases_give_utc(name):
    assert zone(name) is UTC


def test_named_zone_is_an_iana_zone():
    assert datetime(2024, 7, 1, tzinfo=zone("America/New_York")).utcoffset() == timedelta(hours=-4)


def test_unknown_zone_name_is_an_error():
    with pytest.raises(ZoneInfoNotFoundError):
        zone("Mars/Olympus_Mons")
