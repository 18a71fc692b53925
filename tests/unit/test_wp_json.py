from pathlib import Path

import pytest

from archiver.errors import ParseError, UnsupportedFormat
from archiver.formats import wp_json
from archiver.model import Input, Origin

FIXTURES = Path(__file__).parent.parent / "fixtures" / "wp_json"


def load(name: str) -> Input:
    path = FIXTURES / name
    return Input(path.read_bytes(), name, Origin("file", str(path)))


def test_sniff_recognises_rest_posts_and_users_but_not_json_feed():
    assert wp_json.sniff(load("post.json").data, "post.json")
    assert wp_json.sniff(load("posts.json").data, "posts.json")
    assert wp_json.sniff(load("users.json").data, "users.json")
    assert not wp_json.sniff(b'{"version": "https://jsonfeed.org/version/1", "items": []}', "f.json")


def test_single_post_with_embedded_authors_terms_and_featured_media():
    (post,) = wp_json.parse(load("post.json"))
    assert post.format == "wp-json"
    assert post.title == "Rock \u2019n\u2019 Roll & more"  # tags dropped, entities decoded
    assert post.front_matter["title_rendered"].startswith("Rock &#8217;n")
    assert post.body == "<p>Body of the post.</p>\n"
    assert post.excerpt == "<p>Body&#8230;</p>"
    assert post.url == "https://wp.example.com/2023/05/rock-n-roll/"
    assert post.original_id == "42"
    assert post.published == "2023-05-01T10:00:00Z"  # date_gmt wins, as UTC
    assert post.updated == "2023-05-02T10:00:00Z"
    assert post.authors == ["Pat Writer"]
    assert post.categories == ["Music"]
    assert post.tags == ["Rock & Roll", "Live"]
    assert post.image == "https://wp.example.com/wp-content/uploads/hero.jpg"
    assert post.front_matter["slug"] == "rock-n-roll"
    assert "_embedded" not in post.front_matter


def test_array_of_posts_keeps_status_and_type_and_falls_back_to_local_date():
    first, second = wp_json.parse(load("posts.json"))
    assert first.status == "draft"
    assert first.published == "2022-01-01T08:00:00"
    assert first.authors == []
    assert second.extra["post_type"] == "page"
    assert second.published == "2022-01-02T08:00:00Z"


def test_user_objects_are_unsupported_not_posts():
    with pytest.raises(UnsupportedFormat, match="user objects, not posts"):
        list(wp_json.parse(load("users.json")))


def test_truncated_response_is_a_parse_error():
    data = load("post.json").data[:200]
    with pytest.raises(ParseError, match="truncated JSON"):
        list(wp_json.parse(Input(data, "cut.json", Origin("file", "cut.json"))))


def test_title_full_of_unclosed_angle_brackets_is_read_in_one_scan():
    # `<[^>]*>` tried from each of 100,000 "<" ran to the end every time (minutes).
    assert wp_json._plain({"rendered": "<" * 100_000 + "Title"}).endswith("Title")
