"""robots.txt rules where protego alone differs from RFC 9309 and Google's reference parser (google/robotstxt):
the cases of its test suite named in each test."""

from __future__ import annotations

import pytest

from archiver.fetch.robots import Robots, rfc9309_records


def allowed(robots_txt: str, agent: str, url: str) -> bool:
    return Robots.from_text(robots_txt, agent).allowed(url)


def test_a_byte_order_mark_does_not_hide_the_first_line() -> None:
    # ID_UTF8ByteOrderMarkIsSkipped: RFC 9309 2.3, the file is UTF-8 text.
    for robots_txt in ("\ufeffUser-Agent: foo\nAllow: /AnyValue\n", "\ufeffUser-Agent: foo\nDisallow: /\n"):
        disallowing = "Disallow: /" in robots_txt
        assert allowed(robots_txt, "foo", "http://foo.bar/AnyValue") is not disallowing
    assert not allowed("\ufeff\nUser-Agent: foo\nDisallow: /AnyValue\n", "foo", "http://foo.bar/AnyValue")


@pytest.mark.parametrize("between", ["Invalid-Unknown-Line: unknown", "Sitemap: https://foo.bar/sitemap",
                                     "X-Robots-Whatever: 1"])
def test_a_line_between_two_user_agent_lines_does_not_end_the_group(between: str) -> None:
    # ID_LineSyntax_Groups_OtherRules: RFC 9309 2.2.4, other records MUST NOT interfere with the defined ones.
    robots_txt = f"User-agent: FooBot\n{between}\nUser-agent: *\nDisallow: /\n"
    assert not allowed(robots_txt, "FooBot", "http://foo.bar/")
    assert not allowed(robots_txt, "BarBot", "http://foo.bar/")


def test_a_user_agent_value_is_read_up_to_its_first_space_case_insensitively() -> None:
    # ID_UserAgentValueCaseInsensitive and ID_GoogleOnly_AcceptUserAgentUpToFirstSpace: RFC 9309 2.2.1, a
    # product token has no spaces and is matched case-insensitively.
    upper = "User-Agent: FOO BAR\nAllow: /x/\nDisallow: /\n"
    assert allowed(upper, "Foo", "http://foo.bar/x/y") and not allowed(upper, "Foo", "http://foo.bar/a/b")
    lower = "User-Agent: foo bar\nAllow: /x/\nDisallow: /\n"
    assert allowed(lower, "Foo", "http://foo.bar/x/y") and not allowed(lower, "Foo", "http://foo.bar/a/b")
    spaced = "User-Agent: *\nDisallow: /\nUser-Agent: Foo Bar\nAllow: /x/\nDisallow: /\n"
    assert allowed(spaced, "Foo", "http://foo.bar/x/y")


def test_the_known_records_are_kept_as_written() -> None:
    text = "User-agent: a\n# a comment\nDisallow: /x # why\nCrawl-delay: 5\nSitemap: https://foo.bar/s.xml\n"
    assert rfc9309_records(text) == text
