"""Medium's export (fixtures in tests/fixtures/medium, written for these tests after the shape of real
export files: Medium's stylesheet, h-entry classes, graf markup); zips are built in memory."""

import io
import zipfile
from pathlib import Path

import pytest

from archiver import formats
from archiver.errors import ParseError
from archiver.formats import medium
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input

FIXTURES = Path(__file__).parent.parent / "fixtures" / "medium"
POST = FIXTURES / "posts" / "2018-08-11_Counting-Cranes-at-Dawn-0a1b2c3d4e5f.html"
DRAFT = FIXTURES / "posts" / "draft_Half-Written-Ideas-9f8e7d6c5b4a.html"


def export_zip(root: str = "", skip: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(FIXTURES.rglob("*")):
            name = path.relative_to(FIXTURES).as_posix()
            if path.is_file() and not name.startswith(skip):
                zf.writestr(root + name, path.read_bytes())
    return buf.getvalue()


def normalized(data: bytes, name: str):
    return normalize_input(Input(data, name, Origin("file", name)), archived_at="2024-01-01T00:00:00+00:00")


def test_an_export_post_is_detected_before_html_pages():
    assert formats.detect(POST.read_bytes(), POST.name) is medium
    assert formats.detect(DRAFT.read_bytes(), "x.html") is medium
    assert formats.detect((FIXTURES / "claps" / "claps.html").read_bytes(), "claps.html").NAME == "html"
    article = (FIXTURES.parent / "html" / "article_jsonld.html").read_bytes()
    assert not medium.sniff(article[:4096], "article_jsonld.html")


def test_h_entry_fields_are_read_exactly():
    (post,) = normalized(POST.read_bytes(), POST.name)
    assert post.title == "Counting Cranes at Dawn"
    assert post.excerpt == "Four hundred cranes before breakfast"
    assert post.published_at == "2018-08-11T11:23:34.123000+00:00"
    assert post.url == "https://medium.com/@anaruiz/counting-cranes-at-dawn-0a1b2c3d4e5f"
    assert post.authors == ["Ana Ruiz"]
    assert post.tags == ["Birds", "Winter Count"]
    assert post.image == "https://cdn-images-1.medium.com/max/800/1*cranes.jpeg"
    assert post.extra["file_slug"] == "Counting-Cranes-at-Dawn"


def test_body_is_the_e_content_without_the_repeated_title_or_footer():
    (post,) = normalized(POST.read_bytes(), POST.name)
    assert post.text.count("Counting Cranes at Dawn") == 0
    assert "We counted 412 cranes & two herons, see the tally." in post.text
    assert "The cold made the counting slow." in post.text
    assert "Exported from" not in post.text and "Canonical link" not in post.text
    assert not post.content_html.startswith("<hr>")


def test_a_draft_file_is_a_draft_without_a_date():
    (post,) = normalized(DRAFT.read_bytes(), "posts/" + DRAFT.name)
    assert (post.title, post.status, post.published_at) == ("Half-Written Ideas", "draft", None)
    assert post.text == "Not ready yet, but saved."


@pytest.mark.parametrize("root", ["", "medium-export-0123/"])
def test_the_export_zip_gives_its_posts_only_with_the_profile_name_on_drafts(root):
    posts = normalized(export_zip(root), "medium-export.zip")
    assert sorted((p.title, p.status, tuple(p.authors)) for p in posts) == [
        ("Counting Cranes at Dawn", "publish", ("Ana Ruiz",)),
        ("Half-Written Ideas", "draft", ("Ana Ruiz",)),  # drafts name no author: the account's name
    ]
    assert {p.extra["bundle_entry"] for p in posts} == {
        f"{root}posts/2018-08-11_Counting-Cranes-at-Dawn-0a1b2c3d4e5f.html",
        f"{root}posts/draft_Half-Written-Ideas-9f8e7d6c5b4a.html"}


def test_a_zip_of_posts_without_the_account_folders_is_read_entry_by_entry():
    data = export_zip(skip=("profile/", "claps/", "README"))
    posts = normalized(data, "posts.zip")
    assert sorted(p.title for p in posts) == ["Counting Cranes at Dawn", "Half-Written Ideas"]
    assert all(p.source["format"] == "medium" for p in posts)


def test_a_file_without_h_entry_is_refused():
    html = b"<html><head><style>section[data-field=subtitle]{}</style></head><body><p>x</p></body></html>"
    with pytest.raises(ParseError, match="no h-entry"):
        list(medium.parse(Input(html, "x.html", Origin("file", "x.html"))))


def test_layout_claims_only_medium_account_exports():
    assert medium.layout_root(["posts/a.html", "profile/profile.html"]) == ""
    assert medium.layout_root(["x/posts/a.html", "x/claps/claps.html"]) == "x/"
    assert medium.layout_root(["posts/a.html", "posts/b.html"]) is None
    assert medium.layout_root(["_posts/2019-01-01-a.md", "profile/me.md"]) is None
    assert medium.wants("posts/a.html", "") and medium.wants("profile/profile.html", "")
    assert not medium.wants("claps/claps.html", "") and not medium.wants("posts/sub/a.html", "")
