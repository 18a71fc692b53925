"""normalize: one RawPost from any format becomes a schema-valid Post with clean HTML, dates, ids and hashes."""

from __future__ import annotations

import dataclasses
import re

import pytest
from jsonschema import Draft202012Validator
from lxml import html as lxml_html

from archiver.dates import zone
from archiver.model import Origin, Post, RawPost
from archiver.normalize import NORMALIZER_VERSION, normalize, render_markdown
from archiver.schema import post_schema

ORIGIN = Origin(kind="s3", uri="s3://inbox/posts/a.md", bucket="inbox", key="posts/a.md")
ARCHIVED_AT = "2024-06-01T00:00:00+00:00"
URL = "https://example.com/2024/05/harbour-strike/"
ID = re.compile(r"^[a-z2-7]{20}$")


def raw(**fields) -> RawPost:
    defaults = dict(format="html", body="<p>Harbour workers walked out on Monday.</p>", title="Harbour strike", url=URL)
    defaults.update(fields)
    return RawPost(**defaults)


def post(archived_at: str = ARCHIVED_AT, **fields) -> Post:
    return normalize(raw(**fields), ORIGIN, archived_at=archived_at)


def schema_errors(value: Post) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in Draft202012Validator(post_schema()).iter_errors(value.to_dict())
    ]


# --- metadata ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Don&#8217;t panic", "Don\u2019t panic"),
        ("Q&amp;A: rates &amp; fees", "Q&A: rates & fees"),
        ("AT&T results", "AT&T results"),
        ("A <em>bold</em> move", "A bold move"),
        ("5 &lt; 6: tips", "5 < 6: tips"),
        ("  spaced \n title  ", "spaced title"),
    ],
)
def test_title_is_plain_text_without_entities_or_tags(title, expected):
    assert post(title=title).title == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("How to use the &lt;script&gt; tag", "How to use the <script> tag"),
        ("The &lt;main&gt; element explained", "The <main> element explained"),
    ],
)
def test_escaped_markup_in_title_is_kept_as_text(title, expected):
    assert post(title=title).title == expected


def test_missing_title_is_derived_from_first_line_with_a_warning():
    value = post(title=None, body="<p>Harbour workers walked out.</p><p>More.</p>")
    assert value.title == "Harbour workers walked out."
    assert any("no title" in w for w in value.warnings)


def test_missing_title_prefers_the_file_name():
    value = post(title="", extra={"file_slug": "harbour-strike-ends"})
    assert value.title == "Harbour Strike Ends"  # as Jekyll titleizes a slug
    assert any("file name" in w for w in value.warnings)


def test_authors_categories_and_tags_are_plain_and_empty_ones_dropped():
    value = post(authors=["A &amp; B", "", "  "], categories=["News", "<b>Local</b>"], tags=["caf&eacute;", None])
    assert value.authors == ["A & B"]
    assert value.categories == ["News", "Local"]
    assert value.tags == ["café"]


def test_excerpt_is_plain_text_or_none():
    assert post(excerpt="<p>Short &amp; sweet</p>").excerpt == "Short & sweet"
    assert post(excerpt="").excerpt is None


def test_status_draft_is_kept():
    assert post(status="draft").status == "draft"


def test_status_defaults_to_publish():
    assert post().status == "publish"


# --- body -------------------------------------------------------------------------------------


def test_markdown_body_is_rendered_to_html():
    value = post(format="frontmatter", body_format="markdown", body="Intro *text*.\n\n## Section\n\n- one\n- two\n")
    root = lxml_html.fragment_fromstring(value.content_html, create_parent="div")
    assert [el.tag for el in root] == ["p", "h2", "ul"]
    assert root.find("p/em").text == "text"
    assert [li.text for li in root.iter("li")] == ["one", "two"]
    assert value.text == "Intro text.\n\nSection\n\none\n\ntwo"


def test_render_markdown_supports_tables_strikethrough_and_inline_html():
    out = render_markdown("a | b\n--|--\n1 | 2\n\n~~gone~~ <kbd>x</kbd>")
    assert "<table>" in out
    assert "<td>1</td>" in out
    assert "<s>gone</s>" in out
    assert "<kbd>x</kbd>" in out


def test_html_in_markdown_is_sanitized():
    value = post(format="frontmatter", body_format="markdown", body="Hi <script>alert(1)</script> there\n")
    assert "script" not in value.content_html
    assert "alert" not in value.text


def test_front_matter_markdown_has_liquid_tags_removed():
    body = "See {% include note.html %}the {{ site.title }}docs.\n"
    value = post(format="frontmatter", body_format="markdown", body=body)
    assert value.content_html == "<p>See the docs.</p>"


def test_front_matter_markdown_raw_block_keeps_its_text():
    value = post(format="frontmatter", body_format="markdown", body="Use {% raw %}`{{ site.url }}`{% endraw %} here.\n")
    assert value.text == "Use {{ site.url }} here."


def test_front_matter_html_raw_block_keeps_its_text():
    value = post(format="frontmatter", body="<p>Use {% raw %}{{ site.url }}{% endraw %} here</p>")
    assert value.text == "Use {{ site.url }} here"


def test_body_is_cleaned_and_text_links_images_derived():
    value = post(
        body='<p class="x">Strike <a href="/live">live</a><script>x()</script></p><p><img src="/a.png" alt="Quay"></p>'
    )
    assert "class=" not in value.content_html
    assert "script" not in value.content_html
    assert value.text == "Strike live"
    assert value.links == [{"url": "https://example.com/live", "text": "live"}]
    assert value.images == [{"src": "https://example.com/a.png", "alt": "Quay"}]
    assert (value.word_count, value.reading_time_minutes) == (2, 1)


def test_relative_urls_resolve_against_site_url_when_post_has_no_url():
    value = post(url=None, site_url="https://example.org/blog/", body='<p><a href="page">p</a></p>')
    assert value.links == [{"url": "https://example.org/blog/page", "text": "p"}]


def test_wpautop_hint_applies_to_html_bodies():
    value = post(format="wxr", body="Para one.\n\nPara two\nline", extra={"wpautop": True})
    assert value.content_html == "<p>Para one.</p>\n<p>Para two<br>\nline</p>"


def test_wpautop_hint_is_not_in_the_output_but_other_extras_are():
    value = post(format="wxr", extra={"wpautop": True, "comments": [{"author": "x"}]})
    assert value.extra == {"comments": [{"author": "x"}]}


def test_trailing_source_link_is_recorded():
    value = post(body='<p>Story.</p><p><a href="https://origin.example/story">Source</a></p>')
    assert value.source_link == "https://origin.example/story"


# --- dates ------------------------------------------------------------------------------------


def test_published_date_is_iso_with_offset():
    assert post(published="2016-02-11 20:40:20").published_at == "2016-02-11T20:40:20+00:00"


def test_configured_zone_is_applied_to_naive_dates():
    value = normalize(
        raw(published="2016-02-11 20:40:20"), ORIGIN, archived_at=ARCHIVED_AT, default_tz=zone("Europe/Berlin")
    )
    assert value.published_at == "2016-02-11T20:40:20+01:00"


def test_unparseable_date_gives_none_and_a_warning():
    value = post(published="2023-01-29 18:30:22 2023 -0800")
    assert value.published_at is None
    assert len(value.warnings) == 1
    assert "published" in value.warnings[0]
    assert "2023-01-29 18:30:22 2023 -0800" in value.warnings[0]


def test_missing_dates_give_none_without_warning():
    value = post(published=None, updated="")
    assert (value.published_at, value.updated_at) == (None, None)
    assert value.warnings == []


def test_wordpress_zero_date_gives_none():
    assert post(published="0000-00-00 00:00:00").published_at is None


def test_updated_date_is_parsed_too():
    assert post(updated="Tue, 05 Mar 2024 14:22:10 GMT").updated_at == "2024-03-05T14:22:10+00:00"


def test_warnings_from_the_format_are_kept():
    assert post(warnings=["feed: item without guid"]).warnings[0] == "feed: item without guid"


# --- urls, ids, hashes ------------------------------------------------------------------------


def test_canonical_url_defaults_to_url():
    assert post().canonical_url == URL


def test_canonical_url_from_the_source_is_kept():
    value = post(canonical_url="https://origin.example/story")
    assert (value.url, value.canonical_url) == (URL, "https://origin.example/story")


def test_relative_urls_are_not_kept_as_post_urls():
    value = post(url="/2024/05/x", canonical_url="x.html", image="/lead.png")
    assert (value.url, value.canonical_url, value.image) == (None, None, None)


def test_entity_encoded_url_is_decoded():
    assert post(url="https://e.com/a?x=1&amp;y=2").url == "https://e.com/a?x=1&y=2"


def test_ids_are_base32_and_stable_across_runs():
    first, second = post(), post(archived_at="2025-01-01T00:00:00+00:00")
    assert ID.match(first.id)
    assert ID.match(first.story_id)
    assert (first.id, first.story_id) == (second.id, second.story_id)


def test_id_follows_the_url_not_the_content():
    assert post(body="<p>v1</p>").id == post(body="<p>v2, corrected</p>").id
    assert post(url=URL + "?utm_source=rss").id == post().id


def test_copies_of_one_story_share_story_id_but_not_id():
    original = post(url="https://origin.example/story")
    copy = post(url="https://blog.example/copied-story", canonical_url="https://origin.example/story")
    assert copy.story_id == original.story_id
    assert copy.id != original.id


def test_posts_without_url_get_id_from_site_and_original_id():
    a = post(url=None, site_url="https://www.example.com/", original_id="42", body="<p>a</p>")
    b = post(url=None, site_url="https://www.example.com/", original_id="42", body="<p>b</p>")
    assert a.id == b.id
    assert a.site == "example.com"


def test_content_sha256_changes_when_content_changes():
    assert post(body="<p>v1</p>").content_sha256 != post(body="<p>v2</p>").content_sha256


def test_content_sha256_changes_when_title_changes():
    assert post(title="Strike").content_sha256 != post(title="Strike ends").content_sha256


def test_content_sha256_ignores_archived_at():
    assert post(archived_at="2024-06-01T00:00:00+00:00").content_sha256 == (
        post(archived_at="2030-12-31T23:59:59+00:00").content_sha256
    )


def test_content_sha256_ignores_markup_that_cleaning_removes():
    assert post(body='<p class="a">Same</p>').content_sha256 == post(body='<p id="b">Same</p><!-- x -->').content_sha256


def test_source_records_origin_and_format():
    value = post(format="rss", site_name="Example News", site_url="https://example.com/", original_id="guid-1")
    assert value.source == {
        "kind": "s3",
        "uri": "s3://inbox/posts/a.md",
        "format": "rss",
        "site_name": "Example News",
        "site_url": "https://example.com/",
        "original_id": "guid-1",
    }


def test_normalizer_version_and_archived_at_are_recorded():
    value = post()
    assert value.normalizer_version == NORMALIZER_VERSION
    assert value.archived_at == ARCHIVED_AT


def test_archived_at_defaults_to_now_with_offset():
    value = normalize(raw(), ORIGIN)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00", value.archived_at)


def test_front_matter_is_kept_losslessly():
    front_matter = {"title": "x", "published": "2023-01-29 18:30:22 2023 -0800", "custom": {"a": [1, 2]}}
    assert post(front_matter=front_matter).front_matter == front_matter


# --- schema -----------------------------------------------------------------------------------


def test_full_post_validates_against_the_json_schema():
    value = post(
        format="rss",
        authors=["Ada"],
        categories=["News"],
        tags=["port"],
        excerpt="Short.",
        language="en",
        image="https://example.com/lead.jpg",
        published="2016-02-11 20:40:20",
        updated="2024-03-05T14:22:10Z",
        canonical_url="https://origin.example/story",
        site_name="Example",
        site_url="https://example.com/",
        original_id="123",
        front_matter={"k": "v"},
        extra={"wpautop": True, "comments": []},
        body='<p>Text <a href="/x">x</a> <img src="/i.png"></p><p><a href="https://origin.example/s">Source</a></p>',
    )
    assert schema_errors(value) == []


def test_minimal_post_validates_against_the_json_schema():
    value = normalize(RawPost(format="html", body="<p>x</p>"), Origin(kind="file", uri="x.html"))
    assert schema_errors(value) == []


def test_post_with_unparseable_date_and_no_url_validates_against_the_json_schema():
    value = post(url=None, published="not a date", title=None, body="")
    assert schema_errors(value) == []


def test_schema_rejects_a_post_with_a_broken_field():
    broken = dataclasses.replace(post(), published_at="2016-02-11 20:40:20")
    assert any(e.startswith("published_at") for e in schema_errors(broken))
