"""Dates as real sites write them: one-digit hours, RFC 822 in other languages, never a made-up date."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.dates import iso, parse_date
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input

FIXTURES = Path(__file__).parent.parent / "fixtures"


def normalized(path: Path):
    return normalize_input(Input(path.read_bytes(), path.name, Origin("file", str(path))))


@pytest.mark.parametrize(("text", "expected"), [
    ("2019-04-25 9:00:00", "2019-04-25T09:00:00+00:00"),
    ("2019-4-5 9:05", "2019-04-05T09:05:00+00:00"),
    ("2019-04-25T9:00:00+02:00", "2019-04-25T09:00:00+02:00"),
    ("2019/04/25 9:00:00 -0500", "2019-04-25T09:00:00-05:00"),
])
def test_hours_without_a_leading_zero_are_understood(text, expected):
    assert iso(parse_date(text)) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Seg, 24 Set 2018 19:42:40 -0300", "2018-09-24T19:42:40-03:00"),  # Portuguese
    ("Sáb, 01 Dez 2018 19:42:40 -0200", "2018-12-01T19:42:40-02:00"),
    ("Mié, 03 Ene 2018 08:05:00 +0100", "2018-01-03T08:05:00+01:00"),  # Spanish
    ("Mar, 11 Dic 2018 08:05:00 +0100", "2018-12-11T08:05:00+01:00"),
    ("jeu., 15 févr. 2018 10:00:00 +0100", "2018-02-15T10:00:00+01:00"),  # French
    ("lun., 24 sept. 2018 19:42:40 +0200", "2018-09-24T19:42:40+02:00"),
    ("ven., 24 août 2018 10:00:00 +0200", "2018-08-24T10:00:00+02:00"),
    ("Do, 22 Mär 2018 12:30:00 +0100", "2018-03-22T12:30:00+01:00"),  # German
    ("Di, 24 Okt 2018 19:42:40 GMT", "2018-10-24T19:42:40+00:00"),
    ("Gio, 14 Giu 2018 07:00:00 +0200", "2018-06-14T07:00:00+02:00"),  # Italian
    ("Wo, 17 Okt 2018 21:15:00 +0200", "2018-10-17T21:15:00+02:00"),  # Dutch
    ("di, 27 mrt 2018 19:42:40 +0200", "2018-03-27T19:42:40+02:00"),
])
def test_rfc_822_dates_with_non_english_day_and_month_names(text, expected):
    assert iso(parse_date(text)) == expected


@pytest.mark.parametrize("text", [
    "Seg, 31 Fev 2018 19:42:40 -0300",  # no 31 February in any language
    "Foo, 24 Bar 2018 19:42:40 -0300",  # not a month name
    "2019-04-25 25:00:00",
    "2019-04-25 9:60",
])
def test_impossible_or_unknown_dates_are_not_guessed(text):
    assert parse_date(text) is None


def test_feed_dates_in_six_languages_are_all_understood():
    posts = {p.title: p for p in normalized(FIXTURES / "feed" / "localized_dates.rss")}
    assert {title: p.published_at for title, p in posts.items() if title != "Unix time"} == {
        "Português": "2018-09-24T19:42:40-03:00",
        "Español": "2018-01-03T08:05:00+01:00",
        "Français": "2018-02-15T10:00:00+01:00",
        "Deutsch": "2018-03-22T12:30:00+01:00",
        "Italiano": "2018-06-14T07:00:00+02:00",
        "Nederlands": "2018-10-17T21:15:00+02:00",
    }


def test_a_unix_timestamp_in_dc_date_is_not_turned_into_a_made_up_date():
    post = next(p for p in normalized(FIXTURES / "feed" / "localized_dates.rss") if p.title == "Unix time")
    assert post.published_at is None and post.updated_at is None  # feedparser alone says 2016-01-13
    assert any("1537828960" in warning for warning in post.warnings)


def test_front_matter_date_with_a_one_digit_hour():
    post = normalized(FIXTURES / "frontmatter" / "one-digit-hour.md")[0]
    assert post.published_at == "2019-04-25T09:00:00+00:00"


@pytest.mark.parametrize(("text", "expected"), [
    ("Fr, 17 Mai 2019 13:38:23 MESZ", "2019-05-17T13:38:23+02:00"),  # German summer time
    ("Tue, 05 Mar 2024 14:22:10 CET", "2024-03-05T14:22:10+01:00"),
    ("Seg, 24 Set 2018 19:42:40 BRT", "2018-09-24T19:42:40-03:00"),
    ("Tue, 05 Mar 2024 14:22:10 EST", "2024-03-05T14:22:10-05:00"),
])
def test_zone_names_beyond_north_america_give_their_offset(text, expected):
    assert iso(parse_date(text)) == expected


@pytest.mark.parametrize("text", ["Tue, 05 Mar 2024 14:22:10 XYZ", "Tue, 05 Mar 2024 14:22:10 IST"])
def test_unknown_or_ambiguous_zone_names_are_not_guessed(text):
    assert parse_date(text) is None  # taking them as UTC would shift the instant by hours
