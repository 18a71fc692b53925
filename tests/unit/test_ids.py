"""Ids, URL identity, site names and slugs: the naming contracts every archived key depends on."""

from __future__ import annotations

import re

import pytest

from archiver.ids import ID_LENGTH, is_absolute_url, normalize_url, post_id, site_of, slugify, story_id

ID_PATTERN = re.compile(r"^[a-z2-7]{20}$")
URL = "https://example.com/news/harbour-strike"
SHA = "0" * 64


def id_of(url: str | None, site: str | None = None, original_id: str | None = None, content: str = SHA) -> str:
    return post_id(url=url, site=site, original_id=original_id, content_sha256=content)


@pytest.mark.parametrize(
    "variant",
    [
        URL + "/",
        URL + "?utm_source=newsletter&utm_medium=email&utm_campaign=spring",
        URL + "?fbclid=IwAR0abc",
        URL + "?gclid=xyz",
        URL + "?mc_cid=1&mc_eid=2",
        URL + "#comments",
        URL + "/?utm_source=x#respond",
        "https://EXAMPLE.com/news/harbour-strike",
        "HTTPS://Example.COM:443/news/harbour-strike/",
        "  " + URL + "  ",
    ],
)
def test_same_url_with_tracking_fragment_slash_or_host_case_gets_same_id(variant):
    assert id_of(variant) == id_of(URL)


def test_tracking_params_are_dropped_but_real_query_params_kept():
    assert normalize_url(URL + "?id=2&utm_campaign=z") == URL + "?id=2"
    assert id_of(URL + "?id=2&utm_campaign=z") == id_of(URL + "?id=2")
    assert id_of(URL + "?id=2") != id_of(URL + "?id=3")


def test_normalized_url_has_lower_case_host_and_no_fragment():
    assert normalize_url("https://News.Example.COM/A/B/#top") == "https://news.example.com/A/B"


def test_site_root_normalizes_to_slash():
    assert normalize_url("https://example.com") == "https://example.com/"
    assert normalize_url("https://example.com/?utm_source=a") == "https://example.com/"


def test_non_default_port_is_part_of_identity():
    assert normalize_url("https://example.com:8080/a") == "https://example.com:8080/a"
    assert id_of("https://example.com:8080/a") != id_of("https://example.com/a")


@pytest.mark.parametrize(
    "other",
    [
        "https://example.com/news/library-reopens",
        "http://example.com/news/harbour-strike",  # another scheme is another resource
        "https://example.com/News/Harbour-Strike",  # paths are case-sensitive
        "https://other.example/news/harbour-strike",
    ],
)
def test_different_urls_get_different_ids(other):
    assert id_of(other) != id_of(URL)


def test_url_id_does_not_depend_on_content_or_original_id():
    assert id_of(URL, "example.com", "1", "a" * 64) == id_of(URL, "other", "2", "b" * 64)


def test_without_url_id_falls_back_to_site_and_original_id():
    first = id_of(None, site="example.com", original_id="42", content="a" * 64)
    assert first == id_of(None, site="example.com", original_id="42", content="b" * 64)
    assert first != id_of(None, site="example.com", original_id="43")
    assert first != id_of(None, site="example.org", original_id="42")


def test_relative_url_is_not_used_for_the_id():
    assert id_of("/2024/05/post", site="example.com", original_id="42") == id_of(
        None, site="example.com", original_id="42"
    )


def test_without_url_or_original_id_id_falls_back_to_content():
    assert id_of(None, site="example.com", content="a" * 64) == id_of(None, content="a" * 64)
    assert id_of(None, content="a" * 64) != id_of(None, content="b" * 64)


def test_fallbacks_do_not_collide_with_each_other():
    by_site = id_of(None, site="x", original_id="y")
    by_content = id_of(None, content="x#y")
    assert by_site != by_content


@pytest.mark.parametrize(
    "made",
    [
        lambda: id_of(URL),
        lambda: id_of(None, site="example.com", original_id="42"),
        lambda: id_of(None, content="f" * 64),
        lambda: story_id(canonical_url=URL, url=None, content_sha256=SHA),
        lambda: story_id(canonical_url=None, url=None, content_sha256=SHA),
    ],
    ids=["url", "site", "content", "story-url", "story-content"],
)
def test_ids_are_twenty_lower_case_base32_characters(made):
    value = made()
    assert len(value) == ID_LENGTH == 20
    assert ID_PATTERN.match(value)


def test_story_id_is_shared_by_copies_with_the_same_canonical_url():
    original = "https://origin.example/news/harbour-strike"
    copy_a = story_id(canonical_url=original, url="https://blog-a.example/harbour", content_sha256="a" * 64)
    copy_b = story_id(canonical_url=original + "/?utm_source=rss", url="https://b.example/x", content_sha256="b" * 64)
    assert copy_a == copy_b
    assert id_of("https://blog-a.example/harbour") != id_of("https://b.example/x")


def test_story_id_of_the_original_equals_that_of_its_copies():
    original = "https://origin.example/news/harbour-strike"
    assert story_id(canonical_url=None, url=original, content_sha256=SHA) == story_id(
        canonical_url=original, url="https://copy.example/a", content_sha256="c" * 64
    )


def test_story_id_differs_from_post_id_of_the_same_url():
    assert story_id(canonical_url=URL, url=URL, content_sha256=SHA) != id_of(URL)


def test_story_id_falls_back_to_content_without_absolute_urls():
    same = story_id(canonical_url="/rel", url=None, content_sha256="a" * 64)
    assert same == story_id(canonical_url=None, url=None, content_sha256="a" * 64)
    assert same != story_id(canonical_url=None, url=None, content_sha256="b" * 64)


@pytest.mark.parametrize("variant", ["https://example.com/caf%C3%A9", "https://example.com/caf%c3%a9"])
def test_percent_encoded_and_unicode_paths_get_same_id(variant):
    assert id_of(variant) == id_of("https://example.com/café")


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("https://www.example.com/a", "example.com"),
        ("https://WWW.Example.com/a", "example.com"),
        ("https://news.example.com/a", "news.example.com"),
        ("http://example.com:8080/a", "example.com"),
        ("https://wwwexample.com/", "wwwexample.com"),
    ],
)
def test_site_is_host_without_www(url, site):
    assert site_of(url) == site


def test_site_without_url_is_slug_of_site_name():
    assert site_of(None, {"site_name": "Café Daily News"}) == "cafe-daily-news"
    assert site_of("/relative/path", {"site_name": "X"}) == "x"


def test_site_without_url_or_name_is_unknown():
    assert site_of(None) == "unknown-site"
    assert site_of(None, {"site_name": None}) == "unknown-site"


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Café déjà vu", "cafe-deja-vu"),
        ("Harbour strike: day 3!", "harbour-strike-day-3"),
        ("  --Hello,   World!-- ", "hello-world"),
        ("Naïve résumé für Ärzte", "naive-resume-fur-arzte"),
        ("Don\u2019t panic", "dont-panic"),
    ],
)
def test_slug_is_ascii_lower_case_and_hyphenated(text, slug):
    assert slugify(text) == slug


@pytest.mark.parametrize("text", ["", None, "   ", "!!!", "東京"])
def test_slug_of_empty_or_unsluggable_text_is_untitled(text):
    assert slugify(text) == "untitled"


def test_slug_is_capped_at_eighty_characters_by_default():
    assert slugify("a" * 100) == "a" * 80


def test_slug_cap_does_not_leave_trailing_hyphen():
    slug = slugify("ab-" * 40, max_length=9)
    assert slug == "ab-ab-ab"
    assert len(slug) <= 9


@pytest.mark.parametrize("text", ["Café déjà vu", "x" * 200, "Ünïcödé — tïtle ¿?", "2024/05/01 post"])
def test_slugs_are_key_safe(text):
    assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slugify(text))


@pytest.mark.parametrize(
    ("text", "slug"), [("Straße", "strasse"), ("Łódź", "lodz"), ("Ørsted", "orsted"), ("Æsir œuvre", "aesir-oeuvre")]
)
def test_slug_transliterates_letters_without_decomposition(text, slug):
    assert slugify(text) == slug


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.com", True),
        ("http://example.com/a?b=c", True),
        ("HTTP://EXAMPLE.COM", True),
        ("ftp://example.com/a", False),
        ("//example.com/a", False),
        ("/a/b", False),
        ("a/b", False),
        ("https:///a", False),
        ("javascript:alert(1)", False),
        ("mailto:a@example.com", False),
        ("", False),
        (None, False),
    ],
)
def test_only_http_urls_with_a_host_are_absolute(value, expected):
    assert is_absolute_url(value) is expected
