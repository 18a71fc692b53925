"""Template syntax of site generators never leaks into the archive nor breaks code:
`{% highlight %}` (quoted language too) is a code block, Nunjucks filters and comments go, Hugo `ref`
links point to the site path, WordPress.com `[youtube=URL]` keeps a link to the video."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html as lxml_html

from archiver.clean_html import clean, hugo_ref_path, strip_template_tags
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input

PATH = Path(__file__).parent.parent / "fixtures" / "frontmatter" / "2021-03-04-template-syntax.md"


@pytest.fixture(scope="module")
def post():
    return normalize_input(Input(PATH.read_bytes(), PATH.name, Origin("file", str(PATH))))[0]


def test_highlight_with_a_quoted_language_is_a_code_block_not_headings(post):
    root = lxml_html.fragment_fromstring(post.content_html, create_parent="div")
    assert root.findall(".//h1") == []
    codes = [code.text_content() for code in root.iter("code")]
    assert codes[0] == "# install the tools\nmake setup\n"


def test_eleventy_filter_inside_a_raw_highlight_block_stays_code_and_is_no_heading(post):
    root = lxml_html.fragment_fromstring(post.content_html, create_parent="div")
    assert "# Hello, {{ title | editable }}" in root.findall(".//code")[1].text_content()
    assert all("{{" not in h.text_content() for h in root.iter("h1", "h2", "h3", "h4", "h5", "h6"))


def test_nunjucks_comments_are_removed(post):
    assert "draft line" not in post.text and "{#" not in post.text


def test_hugo_ref_links_point_to_the_site_path_or_keep_their_text(post):
    links = {a["text"]: a["url"] for a in post.links}
    assert links["setup notes"] == "/posts/setup-notes/#install"
    assert links["the deploy guide"] == "/guides/deploy/"
    assert "sibling post" not in links and "the sibling post and" in post.text  # not derivable: text only
    assert 'href=""' not in post.content_html


@pytest.mark.parametrize(("target", "path"), [
    ("/posts/my-post.md", "/posts/my-post/"),
    ("posts/my-post/index.md", "/posts/my-post/"),
    ("/blog/_index.md", "/blog/"),
    ("/about", "/about/"),
    ("my-post.md", None),
    ("#anchor", "#anchor"),
    ("/", "/"),
])
def test_hugo_ref_paths(target, path):
    assert hugo_ref_path(target) == path


def test_highlight_in_an_html_body_is_escaped_preformatted_code():
    html = strip_template_tags("<p>x</p>{% highlight html %}<b>bold</b>{% endhighlight %}")
    assert html == "<p>x</p><pre><code>&lt;b&gt;bold&lt;/b&gt;</code></pre>"


def test_code_with_backtick_fences_gets_a_longer_fence():
    out = strip_template_tags("{% highlight md %}\n```\ncode\n```\n{% endhighlight %}", markdown=True)
    assert "````md\n```\ncode\n```\n````" in out


@pytest.mark.parametrize(("shortcode", "url"), [
    ("[youtube=https://www.youtube.com/watch?v=JaNH56Vpg-A&amp;w=320&amp;h=240]",
     "https://www.youtube.com/watch?v=JaNH56Vpg-A&w=320&h=240"),
    ("[youtube https://youtu.be/JaNH56Vpg-A]", "https://youtu.be/JaNH56Vpg-A"),
    ("[youtube]https://www.youtube.com/watch?v=JaNH56Vpg-A[/youtube]",
     "https://www.youtube.com/watch?v=JaNH56Vpg-A"),
    ("[youtube JaNH56Vpg-A]", "https://www.youtube.com/watch?v=JaNH56Vpg-A"),
    ("[vimeo 123456]", "https://vimeo.com/123456"),
    ("[vimeo=https://vimeo.com/123456]", "https://vimeo.com/123456"),
])
def test_wordpress_com_video_shortcodes_keep_a_link_to_the_video(shortcode, url):
    out = clean(f"<p>Watch this:</p>\n{shortcode}\n<p>Done.</p>")
    hrefs = [a.get("href") for a in lxml_html.fragment_fromstring(out, create_parent="div").iter("a")]
    assert hrefs == [url]
    assert "[youtube" not in out and "[vimeo" not in out
