"""Front-matter posts: the seed's shape (WordPress -> Jekyll export) and Jekyll/Hugo variants."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from archiver.errors import FrontMatterError, ParseError
from archiver.formats import detect, frontmatter
from archiver.model import Input, Origin, Post
from archiver.normalize import normalize

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"


def normalized(text: str | bytes, name: str = "post.md") -> Post:
    data = text.encode("utf-8") if isinstance(text, str) else text
    item = Input(data=data, name=name, origin=Origin(kind="file", uri=name))
    [raw] = list(detect(data, name).parse(item))
    return normalize(raw, item.origin, archived_at="2024-01-01T00:00:00+00:00")


@pytest.fixture(scope="module")
def seed(seed_dir: Path) -> tuple[str, Post]:
    path = next(seed_dir.iterdir())
    return path.read_text("utf-8"), normalized(path.read_bytes(), path.name)


def test_seed_is_recognised_by_content_despite_its_txt_name(seed_dir: Path) -> None:
    path = next(seed_dir.iterdir())
    assert path.suffix == ".txt"
    assert detect(path.read_bytes(), path.name) is frontmatter


def test_seed_metadata(seed: tuple[str, Post]) -> None:
    _, post = seed
    assert post.title == "Gloom at Syria talks as Russia backs government advance"
    assert post.published_at == "2016-02-11T20:40:20+00:00"
    assert post.categories == ["topNews"]
    assert post.authors == ["Staff Writer"]
    assert post.url == "https://www.whenitson.com/gloom-at-syria-talks-as-russia-backs-government-advance/"
    assert post.canonical_url == "http://feeds.reuters.com/~r/reuters/topNews/~3/jGIiH8RkCwk/story01.htm"
    assert post.status == "publish"
    assert post.source["original_id"] == "903"


def test_seed_keeps_every_paragraph_of_text(seed: tuple[str, Post]) -> None:
    source, post = seed
    paragraphs = re.findall(r"<p>(.*?)</p>", source, re.DOTALL)
    assert len(paragraphs) == 36
    for paragraph in paragraphs:
        visible = " ".join(re.sub(r"<[^>]+>", "", paragraph).split())
        assert visible in post.text
    assert post.text.startswith("MUNICH Major powers began")  # the dateline stays
    assert "(Additional reporting by Shadia Nasralla" in post.text  # and the credits line


def test_seed_html_is_clean(seed: tuple[str, Post]) -> None:
    _, post = seed
    for leftover in ("[ad_1]", "[ad_2]", "midArticle", "readability", "articleText", "class=", "id=", "<span"):
        assert leftover not in post.content_html
    assert not re.search(r"(<br>\s*){2,}", post.content_html)


def test_seed_source_link_is_kept(seed: tuple[str, Post]) -> None:
    _, post = seed
    source = "http://feeds.reuters.com/~r/reuters/topNews/~3/jGIiH8RkCwk/story01.htm"
    assert post.source_link == source
    assert {"url": source, "text": "Source"} in post.links


def test_front_matter_is_kept_losslessly(seed: tuple[str, Post]) -> None:
    _, post = seed
    fm = post.front_matter
    assert fm["ID"] == 903
    assert fm["post_date"] == "2016-02-11 20:40:20"  # as written, not re-formatted
    assert fm["original_cats"] == ["topNews"]
    assert fm["post_title"] == "Gloom at Syria talks as Russia backs government advance\n"
    assert fm["published"] is True


def test_bundled_samples_have_the_seed_shape() -> None:
    post = normalized((SAMPLES / "newswire-harbour-strike.txt").read_bytes(), "newswire-harbour-strike.txt")
    assert post.title == "Harbour workers strike as talks on automation stall"
    assert post.text.startswith("PORTHAVEN Dock workers")
    assert "<script" not in post.content_html and "onclick" not in post.content_html
    assert 'href="https://news.example.org/authors/ellen-kay"' in post.content_html  # made absolute
    assert post.source_link == "https://wire.example.com/world/harbour-strike-automation-2024-03-05/"


def test_caption_shortcode_becomes_a_figure() -> None:
    post = normalized((SAMPLES / "newswire-library-reopens.txt").read_bytes(), "x.txt")
    assert "<figure>" in post.content_html and "<figcaption>" in post.content_html
    assert "[caption" not in post.content_html
    assert "The restored reading room, with its original oak shelves." in post.text


def test_toml_front_matter() -> None:
    post = normalized('+++\ntitle = "Hello"\ndate = 2024-06-12T08:00:00Z\nauthors = ["A", "B"]\n+++\nBody *text*.\n')
    assert (post.title, post.published_at, post.authors) == ("Hello", "2024-06-12T08:00:00+00:00", ["A", "B"])
    assert "<em>text</em>" in post.content_html


def test_json_front_matter() -> None:
    post = normalized('{\n"title": "JSON post",\n"date": "2021-03-04T05:06:07Z",\n"tags": ["a", "b"]\n}\n\nBody.\n')
    assert (post.title, post.published_at, post.tags) == ("JSON post", "2021-03-04T05:06:07+00:00", ["a", "b"])


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # Found in the corpus (hugo-toml-rustblog-_index.md): the Rust blog's Zola section page.
        ('+++\ntitle = "Rust Blog"\nsort_by = "permalink"\ngenerate_feeds = true\n[extra]\nx = 1\n+++\n', "blog.md"),
        ("---\ntitle: Posts\n---\nAll the posts of the blog.\n", "_index.md"),
    ],
)
def test_section_pages_are_not_posts(text: str, name: str) -> None:
    item = Input(data=text.encode(), name=name, origin=Origin(kind="file", uri=name))
    with pytest.raises(ParseError, match="section page") as caught:
        list(frontmatter.parse(item))
    assert caught.value.code == "not_a_post"


def test_section_keys_with_a_body_are_still_a_post() -> None:
    post = normalized("---\ntitle: Sorted\nsort_by: date\n---\nA real post that happens to use the key.\n")
    assert post.title == "Sorted"


def test_date_in_file_name_without_leading_zeros() -> None:
    # Found in the corpus (test-2017-2-5-i-dont-like-zeroes.md): Jekyll reads `2017-2-5` as 2017-02-05.
    post = normalized("---\nfoo: bar\n---\nI have an abbreviated date.\n", "2017-2-5-i-dont-like-zeroes.md")
    assert post.published_at == "2017-02-05T00:00:00+00:00"
    assert post.title == "I Dont Like Zeroes"  # Jekyll titleizes the slug


def test_yaml_closed_with_document_end_marker() -> None:
    post = normalized("---\ntitle: Dots\n...\nBody.\n")
    assert post.title == "Dots" and post.text == "Body."


def test_dates_with_offset_and_naive_dates() -> None:
    assert normalized("---\ndate: 2013-05-06 23:25:46 -0500\n---\nx").published_at == "2013-05-06T23:25:46-05:00"
    assert normalized("---\ndate: 2013-05-06 23:25:46\n---\nx").published_at == "2013-05-06T23:25:46+00:00"


def test_unpublished_post_is_a_draft() -> None:
    assert normalized("---\ntitle: WIP\npublished: false\n---\nx").status == "draft"


def test_one_element_lists_are_unwrapped_and_folded_categories_split() -> None:
    post = normalized(
        "---\npost_title: T\noriginal_link:\n  - >\n    https://example.com/a\n"
        "original_cats:\n  - >\n    numerical model,Python,Science\n    Blogs\n---\n<p>x</p>\n"
    )
    assert post.canonical_url == "https://example.com/a"
    assert post.categories == ["numerical model", "Python", "Science Blogs"]


def test_unterminated_front_matter_is_a_clear_error() -> None:
    data = b"---\ntitle: never closed\n\nbody\n"
    item = Input(data=data, name="bad.md", origin=Origin(kind="file", uri="bad.md"))
    with pytest.raises(FrontMatterError, match="never closed") as error:
        list(frontmatter.parse(item))
    assert (error.value.code, error.value.stage) == ("bad_front_matter", "parse")


def test_invalid_yaml_is_a_clear_error() -> None:
    item = Input(data=b"---\ntitle: [unclosed\n---\nbody\n", name="bad.md", origin=Origin(kind="file", uri="bad.md"))
    with pytest.raises(FrontMatterError, match="not valid YAML"):
        list(frontmatter.parse(item))


def test_capitalised_keys_name_the_title_and_date():
    # Pelican sites (e.g. pelican-elegant's documentation) write YAML headers with `Title:` and `Date:`.
    text = ("---\nTitle: Footer -- Show Your Host Information\ndate: 2019-06-30 11:54\nSummary: Show the host\n"
            "---\nBody.\n")
    meta, body, warnings = frontmatter.split(text)
    raw = frontmatter.to_raw_post(meta, body, "hosted-on.md", warnings)
    assert raw.title == "Footer -- Show Your Host Information"
    assert raw.published == "2019-06-30 11:54"
    assert raw.excerpt == "Show the host"
    assert raw.front_matter["Title"] == "Footer -- Show Your Host Information"  # kept as written


# --- linear time on hostile front matter and bodies (each would take minutes if quadratic) -----


def test_a_hundred_thousand_terms_are_deduplicated_in_one_pass():
    tags = [f"t{i}" for i in range(100_000)]
    assert frontmatter.terms({"tags": [*tags, "t1", "t99999"]}, "tags") == tags
    assert frontmatter.names([f"a{i}" for i in range(100_000)] + ["a5"]) == [f"a{i}" for i in range(100_000)]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("<p>a</p>" + "\n" * 200_000 + "b", id="blank-lines"),
        pytest.param("<p>a</p>\n" + "[\n" * 100_000, id="brackets-never-closed"),
        pytest.param("<p>a</p>\n" + " " * 200_000 + "\n", id="indentation"),
    ],
)
def test_body_format_is_found_in_one_scan(body):
    assert frontmatter._body_format(body, "post.md") == "html"


@pytest.mark.parametrize("front_matter", ["redirect_to: https://x.example/new/", "redirect: /blog/new",
                                          "redirect_to:\n  - /new/", "Redirect_URL: /new"])
def test_a_redirect_stub_is_not_a_post(front_matter: str):
    with pytest.raises(ParseError, match="redirect stub") as caught:
        normalized(f"---\n{front_matter}\n---\n\n")
    assert caught.value.code == "not_a_post"


def test_a_post_that_names_a_redirect_and_has_a_body_is_a_post():
    assert normalized("---\ntitle: Moved on\nredirect: /new\n---\nThe body stays.\n").text == "The body stays."


def test_eleventy_javascript_front_matter_gives_its_literal_values():
    post = normalized('---js\nconst title = "A \\"fifth\\" post";\nconst date = \'2023-01-23\';\n'
                      "let draft = true;\nconst tags = ['a b', \"c\",];\n"
                      "const eleventyComputed = { x: (data) => data.y };\n---\nThe body\n")
    assert (post.title, post.published_at, post.status, post.tags) == (
        'A "fifth" post', "2023-01-23T00:00:00+00:00", "draft", ["a b", "c"])
    assert post.front_matter == {"title": 'A "fifth" post', "date": "2023-01-23", "draft": True, "tags": ["a b", "c"]}
    assert "JavaScript front matter: computed values not read: eleventyComputed" in post.warnings
    assert post.text == "The body"


def test_eleventy_javascript_front_matter_as_an_object():
    post = normalized("---javascript\n{\n  title: `Object form`,\n  \"date\": \"2021-05-06\",\n"
                      "  layout: someFunction(),\n}\n---\nText\n")
    assert (post.title, post.published_at) == ("Object form", "2021-05-06T00:00:00+00:00")


@pytest.mark.parametrize("document", [
    "title: Gloom at Syria talks\ndate: 2016-02-11 20:40:20\npublished: true\nID: 903\n",
    "post_title: >\n  Folded\n  text\ntags:\n  - a\n  - b\nmeta: {views: 12, ratio: 0.5, none: ~}\n",
    "big: " + "9" * 5000 + "\nwhen: 2024-11-05T10:00:00Z\nday: 2024-11-05\nnot_a_date: 2024-13-45\n",
    "quoted: 'it''s'\nescaped: \"tab\\there \\u00e9\"\nempty:\nlist: [1, [2, [3]]]\nyes: on\n",
])
def test_libyaml_loader_reads_what_the_bounded_loader_reads(document: str) -> None:
    # Documents without anchors or aliases take libyaml's loader (ten times faster): same values.
    assert "&" not in document and "*" not in document and frontmatter._CVerbatimLoader is not None
    assert frontmatter.load_yaml(document) == yaml.load(document, Loader=frontmatter._VerbatimLoader)
    assert isinstance(frontmatter.load_yaml(document).get("when", ""), str)  # timestamps stay text


@pytest.mark.parametrize("document", [
    "k: &a v", "- *a", "[&a 1]", "{a: *b}", '{"a":*b}', "k: !!str &a x", "? &a k", "\ufeff&a x", "&a x",
    "k:\n  &a v", "--- &a x", "a: [1,*b]", "k: 'quoted: &#039;x'", "k: !!binary x",
])
def test_anchors_aliases_and_tags_where_a_node_starts_take_the_bounded_loader(document: str) -> None:
    assert frontmatter._NODE_PROPERTY.search(document)


@pytest.mark.parametrize("document", [
    "title: AT&T", "url: a=1&amp;b", "n: 2*3", "title: Elections &#8211; x", "t: Wow!", "u: https://x/?a=1&#038;b=2",
])
def test_ampersands_inside_text_take_the_fast_loader(document: str) -> None:
    assert not frontmatter._NODE_PROPERTY.search(document)


def test_values_built_by_libyaml_are_bounded_too() -> None:
    # Defence in depth: were an alias to slip past the check above, walking its values stops at the budget.
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True))
    values = yaml.load(bomb, Loader=frontmatter._CVerbatimLoader)  # aliases are shared, not copied: cheap
    with pytest.raises(yaml.YAMLError, match="aliases are expanded"):
        frontmatter._check_bounds(values)


def test_a_document_libyaml_refuses_gets_the_bounded_loaders_verdict() -> None:
    document = "title: [not closed\ndate: 2024-01-01\n"
    with pytest.raises(yaml.YAMLError) as bounded:
        yaml.load(document, Loader=frontmatter._VerbatimLoader)
    with pytest.raises(yaml.YAMLError) as loaded:
        frontmatter.load_yaml(document)
    assert str(loaded.value) == str(bounded.value)
