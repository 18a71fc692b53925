"""clean_html: shortcodes, template tags and unsafe markup go; every paragraph of visible text stays."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from archiver.clean_html import clean, sanitize, strip_shortcodes, strip_template_tags, tidy, wpautop

BASE = "https://example.com/news/post"


def tree(html: str):
    return lxml_html.fragment_fromstring(html, create_parent="div")


def visible_text(html: str) -> str:
    return " ".join(tree(html).text_content().split())


def paragraphs(html: str) -> list[str]:
    """The text of each innermost text block, in document order."""
    blocks = ("p", "h1", "h2", "h3", "blockquote", "li", "td", "th", "figcaption", "pre")
    return [
        " ".join(el.text_content().split())
        for el in tree(html).iter(*blocks)
        if not any(child.tag in blocks for child in el.iterdescendants())
    ]


def tags(html: str) -> list[str]:
    return [el.tag for el in tree(html).iter() if isinstance(el.tag, str)][1:]


# --- WordPress shortcodes -------------------------------------------------------------------


def test_ad_shortcodes_are_removed_and_text_around_them_kept():
    out = clean("<p>Intro</p>[ad_1]<p>Body</p>[ad_2]")
    assert "[ad_" not in out
    assert out == "<p>Intro</p><p>Body</p>"


def test_caption_shortcode_becomes_figure_with_figcaption():
    body = (
        '[caption id="attachment_5" align="aligncenter" width="300"]'
        '<img src="https://e.com/a.jpg" alt="Quay" width="300" height="200"> The quay at dawn[/caption]'
    )
    out = clean(body)
    assert out == (
        '<figure><img src="https://e.com/a.jpg" alt="Quay" width="300" height="200">'
        "<figcaption>The quay at dawn</figcaption></figure>"
    )


def test_caption_attribute_becomes_figcaption():
    out = strip_shortcodes('[caption id="a" caption="Attr caption"]<img src="https://e.com/a.jpg">[/caption]')
    assert out == '<figure><img src="https://e.com/a.jpg"><figcaption>Attr caption</figcaption></figure>'


def test_caption_around_linked_image_keeps_link_in_figure():
    out = clean(
        '[caption id="a"]<a href="https://e.com/big.jpg"><img src="https://e.com/a.jpg"></a> The quay[/caption]'
    )
    figure = tree(out).find("figure")
    assert figure is not None
    assert figure.find("a/img") is not None
    assert figure.findtext("figcaption") == "The quay"


def test_caption_without_text_has_no_empty_figcaption():
    assert strip_shortcodes('[caption id="a"]<img src="x.jpg">[/caption]') == '<figure><img src="x.jpg"></figure>'


def test_caption_text_with_inline_markup_goes_into_figcaption():
    out = clean('[caption id="a"]<img src="https://e.com/a.jpg"> Credit: <em>Reuters</em>[/caption]')
    assert visible_text(out) == "Credit: Reuters"
    assert tree(out).find("figure/figcaption") is not None


def test_tweet_box_shortcode_keeps_quoted_text():
    assert clean("<p>[tweet_box]quoted words[/tweet_box]</p>") == "<p>quoted words</p>"


@pytest.mark.parametrize(
    "prose",
    ["He said [sic] it was fine [1].", "Price [USD] and [Note: x]", "See [2][3] and [a]", "[Updated at 5pm]"],
)
def test_bracketed_prose_survives(prose):
    assert clean(f"<p>{prose}</p>") == f"<p>{prose}</p>"


def test_upper_case_news_labels_are_not_taken_for_shortcodes():
    assert paragraphs(clean("<p>[VIDEO] Watch the mayor speak</p><p>[AUDIO] Listen</p>")) == [
        "[VIDEO] Watch the mayor speak", "[AUDIO] Listen"]


def test_gallery_shortcode_is_removed():
    assert clean('<p>text</p>[gallery ids="1,2,3"]') == "<p>text</p>"


def test_code_shortcode_becomes_escaped_preformatted_code():
    assert strip_shortcodes("[code]if a < b: pass[/code]") == "<pre><code>if a &lt; b: pass</code></pre>"
    out = clean("[sourcecode lang='py']x = 1 &amp;&amp; 2[/sourcecode]")
    assert out == "<pre><code>x = 1 &amp;&amp; 2</code></pre>"


def test_embed_shortcode_becomes_a_link():
    out = clean("[embed]https://www.youtube.com/watch?v=abc[/embed]")
    assert tree(out).find(".//a").get("href") == "https://www.youtube.com/watch?v=abc"


def test_video_shortcode_with_source_becomes_a_link():
    out = clean('[video mp4="https://e.com/v.mp4"][/video]')
    link = tree(out).find(".//a")
    assert (link.get("href"), link.text) == ("https://e.com/v.mp4", "Video")


# --- sanitizing -------------------------------------------------------------------------------


def test_script_style_and_iframe_are_removed_with_their_content():
    out = clean(
        "<p>A</p><script>alert('x')</script><style>p{color:red}</style>"
        "<iframe src='https://e.com'>inner text</iframe><noscript>enable js</noscript><p>B</p>"
    )
    assert out == "<p>A</p><p>B</p>"


@pytest.mark.parametrize("tag", ["iframe", "button", "script", "IFRAME"])
def test_self_closed_dropped_element_does_not_swallow_the_text_after_it(tag):
    # Found in the corpus (wp-whenitson-*): XHTML-serialized scrapes write `<iframe .../>`, which
    # HTML parses as an open iframe whose content, the rest of the article, is dropped with it.
    out = clean(f'<p><{tag} src="https://www.youtube.com/embed/x?a=1&amp;b=2" allowfullscreen=""/></p>'
                "<p>The article goes on.</p><p>And ends.</p>")
    assert paragraphs(out) == ["The article goes on.", "And ends."]
    assert tag.lower() not in out.lower()


def test_event_handler_attributes_are_removed():
    out = clean('<p onclick="steal()">Click <img src="https://e.com/a.png" onerror="steal()"></p>')
    assert "onclick" not in out
    assert "onerror" not in out
    assert "steal" not in out
    assert out == '<p>Click <img src="https://e.com/a.png"></p>'


def test_javascript_hrefs_are_removed_but_link_text_kept():
    out = clean('<p><a href="javascript:alert(1)">bad</a> <a href="JaVaScRiPt:alert(2)">worse</a></p>')
    assert "javascript" not in out.lower()
    assert visible_text(out) == "bad worse"


def test_safe_links_keep_href_and_get_nofollow():
    link = tree(clean("<p><a href='https://e.com/' target='_blank'>good</a></p>")).find(".//a")
    assert link.get("href") == "https://e.com/"
    assert link.get("target") is None
    assert "nofollow" in link.get("rel")


def test_mailto_links_are_kept():
    assert 'href="mailto:a@example.com"' in clean('<p><a href="mailto:a@example.com">mail</a></p>')


def test_ids_classes_inline_styles_and_tool_attributes_are_removed():
    out = clean('<p id="x" class="y" style="color:red" readability="5" data-track="1">Styled</p>')
    assert out == "<p>Styled</p>"


def test_headings_and_quotes_lose_ids_and_classes_but_stay():
    assert clean('<h2 id="sub">Sub</h2><blockquote class="q">Quote</blockquote>') == (
        "<h2>Sub</h2><blockquote>Quote</blockquote>"
    )


@pytest.mark.parametrize(
    "body",
    [
        '<p>Reuters - <span id="midArticle_0"/>Text after marker.</p>',
        '<p>Reuters - <span id="midArticle_0"></span>Text after marker.</p>',
    ],
)
def test_marker_spans_are_gone_and_text_stays(body):
    assert clean(body) == "<p>Reuters - Text after marker.</p>"


def test_spans_are_unwrapped_and_their_text_kept():
    assert clean('<p>Hello <span class="x" style="color:red">there</span> friend</p>') == "<p>Hello there friend</p>"


def test_layout_divs_are_unwrapped_and_their_paragraphs_kept():
    out = clean('<div class="entry"><p>first</p></div><div><p>second</p></div>')
    assert "<div" not in out
    assert [el.text for el in tree(out).iter("p")] == ["first", "second"]


def test_relative_urls_are_made_absolute_against_the_base():
    out = clean('<p><a href="/news/a">rel</a> <img src="img/b.png"> <img src="//cdn.e.com/c.png"></p>', base_url=BASE)
    root = tree(out)
    assert root.find(".//a").get("href") == "https://example.com/news/a"
    assert [img.get("src") for img in root.iter("img")] == [
        "https://example.com/news/img/b.png",
        "https://cdn.e.com/c.png",
    ]


def test_relative_urls_are_left_alone_without_a_base():
    assert tree(clean('<p><a href="/a">x</a></p>')).find(".//a").get("href") == "/a"


def test_absolute_urls_are_unchanged_by_the_base():
    out = clean('<p><a href="https://other.example/x">x</a></p>', base_url=BASE)
    assert tree(out).find(".//a").get("href") == "https://other.example/x"


def test_html_comments_are_removed():
    assert clean("<p>A</p><!-- tracking pixel --><p>B<!-- inline --></p>") == "<p>A</p><p>B</p>"


def test_ie_conditional_comments_are_removed_with_their_content():
    out = clean(
        "<p>A</p><!--[if lt IE 9]><script src='x.js'></script><![endif]--><!--[if IE]><p>IE</p><![endif]--><p>B</p>"
    )
    assert out == "<p>A</p><p>B</p>"


def test_tables_keep_their_cells():
    out = clean('<table class="t"><tr><th scope="col">Year</th></tr><tr><td colspan="2">2024</td></tr></table>')
    root = tree(out)
    assert root.find(".//th").get("scope") == "col"
    assert root.find(".//td").get("colspan") == "2"
    assert paragraphs(out) == ["Year", "2024"]


# --- tidying ----------------------------------------------------------------------------------


def test_runs_of_br_collapse_to_one():
    assert clean("<p>One<br><br><br>Two</p>") == "<p>One<br>Two</p>"
    assert clean("<p>Line<br>\n<br/>\nNext</p>") == "<p>Line<br>Next</p>"


def test_leading_and_trailing_br_are_removed():
    assert clean("<br><p>Only</p><br/><br>") == "<p>Only</p>"
    assert clean("<p><br>Lead and tail<br></p>") == "<p>Lead and tail</p>"


def test_empty_paragraphs_are_removed():
    assert clean("<p></p><p> </p><p>&nbsp;</p><p>\u00a0</p><p>Real</p>") == "<p>Real</p>"


def test_elements_emptied_by_sanitizing_are_removed_with_their_empty_parents():
    assert clean("<p><strong><script>x()</script></strong></p><p>Kept</p>") == "<p>Kept</p>"


def test_empty_inline_elements_are_removed():
    assert clean('<p><strong></strong>text<a href="https://e.com/x"></a></p>') == "<p>text</p>"


def test_inline_element_holding_only_a_space_keeps_the_words_apart():
    # Found in the corpus (rsparser__KatieFloyd.rss): "dueapp.com<strong> </strong>- Perhaps" lost its space.
    out = clean('<p><a href="https://e.com/">e.com</a><strong> </strong>- Perhaps<em>&nbsp;</em>so</p>')
    assert visible_text(out) == "e.com - Perhaps so"
    assert "<strong>" not in out
    assert "<em>" not in out


def test_paragraph_with_only_an_image_is_kept():
    assert clean('<p><img src="https://e.com/a.png"></p>') == '<p><img src="https://e.com/a.png"></p>'


def test_many_blank_lines_collapse_to_one():
    assert clean("<p>a</p>\n\n\n\n<p>b</p>") == "<p>a</p>\n\n<p>b</p>"


def test_tidy_alone_collapses_breaks_and_drops_empties():
    assert tidy("<br><p>x<br><br>y</p><p> </p><br>") == "<p>x<br>y</p>"


def test_wired_boilerplate_is_removed():
    assert clean("<p>Go Back to Top. Skip To: Start of Article.</p><p>Story</p>") == "<p>Story</p>"


def test_skip_to_content_link_text_is_removed():
    assert clean("<p>Skip to main content</p><p>Story</p>") == "<p>Story</p>"


def test_words_of_the_boilerplate_alone_are_kept():
    assert clean("<p>Start of Article text stays</p>") == "<p>Start of Article text stays</p>"


def test_boilerplate_phrase_inside_a_sentence_is_kept():
    prose = "<p>The new app lets readers skip to content that matters.</p>"
    assert clean(prose) == prose


# --- template tags ----------------------------------------------------------------------------


def test_liquid_raw_block_keeps_its_text():
    assert strip_template_tags("{% raw %}x{% endraw %}") == "x"
    assert strip_template_tags("{% raw %}{{ x }}{% endraw %}") == "{{ x }}"
    assert strip_template_tags("{%- raw -%}k{%- endraw -%}") == "k"


def test_several_raw_blocks_each_keep_their_text():
    assert strip_template_tags("{% raw %}a{% endraw %} mid {% raw %}b{% endraw %}") == "a mid b"


def test_liquid_include_and_output_tags_are_removed():
    assert strip_template_tags("a {% include a.html %} b {{ site.url }} c") == "a  b  c"


def test_hugo_shortcodes_are_removed_and_inner_text_kept():
    assert strip_template_tags('x {{< figure src="a.png" >}} y') == "x  y"
    assert strip_template_tags("{{% note %}}z{{% /note %}}") == "z"


def test_template_tags_are_stripped_only_when_asked():
    body = "<p>{% include a.html %}Text {{ page.title }}</p>"
    assert clean(body, template_tags=True) == "<p>Text </p>"
    assert clean(body) == body


# --- wpautop ----------------------------------------------------------------------------------


def test_wpautop_wraps_blank_line_separated_text_in_paragraphs():
    assert wpautop("First para.\n\nSecond para.") == "<p>First para.</p>\n<p>Second para.</p>"


def test_wpautop_turns_single_newlines_into_breaks():
    assert wpautop("Line one\nline two") == "<p>Line one<br>\nline two</p>"


def test_wpautop_keeps_existing_blocks():
    assert wpautop("<h2>Head</h2>\n\nText here\n\n<ul>\n<li>a</li>\n</ul>") == (
        "<h2>Head</h2>\n<p>Text here</p>\n<ul>\n<li>a</li>\n</ul>"
    )


def test_wpautop_handles_windows_line_endings():
    assert wpautop("One\r\n\r\nTwo") == "<p>One</p>\n<p>Two</p>"


def test_wpautop_wraps_inline_markup_paragraphs():
    assert wpautop("<strong>Bold</strong> start\n\nnext") == "<p><strong>Bold</strong> start</p>\n<p>next</p>"


def test_autop_applies_through_clean_only_when_asked():
    body = "First para.\n\nSecond para."
    assert clean(body, autop=True) == "<p>First para.</p>\n<p>Second para.</p>"
    assert "<p>First para.</p>" not in clean(body)


def test_wpautop_leaves_preformatted_blocks_intact():
    code = "<pre>line1\n\nline2</pre>"
    assert wpautop(code) == code


# --- the whole contract -----------------------------------------------------------------------


def test_every_paragraph_of_visible_text_is_kept():
    body = (
        '<div class="post" id="p1"><p class="lead" style="x">Harbour workers walked out on Monday.</p>'
        "[ad_1]<script>track()</script>"
        '<p>Reuters - <span id="midArticle_0"/>The union said talks had failed.<br><br><br></p>'
        "<!-- ad slot --><p></p>"
        "<h2 onclick='x()'>What next</h2>"
        "<blockquote>We will stay out [sic] until Friday.</blockquote>"
        "<ul><li>Ferries cancelled</li><li>Cargo delayed</li></ul>"
        '<p>More at <a href="/news/strike">the live page</a>.</p></div>'
    )
    out = clean(body, base_url=BASE)
    assert paragraphs(out) == [
        "Harbour workers walked out on Monday.",
        "Reuters - The union said talks had failed.",
        "What next",
        "We will stay out [sic] until Friday.",
        "Ferries cancelled",
        "Cargo delayed",
        "More at the live page.",
    ]
    assert set(tags(out)) <= {"p", "h2", "blockquote", "ul", "li", "a", "br"}


def test_sanitize_alone_keeps_only_allowed_tags():
    out = sanitize('<form><input value="x"><label>Name</label></form><p>ok</p>')
    assert "<form" not in out
    assert "<input" not in out
    assert "Name" in out
    assert "<p>ok</p>" in out


def test_clean_of_empty_body_is_empty():
    assert clean("") == ""
    assert clean("   \n ") == ""


def test_shortcode_like_text_inside_code_is_kept():
    html = "<p>[ad_1]Tap it:</p><pre>[button setTitle:@\"OK\"]</pre><p>or <code>[gallery]</code>.</p>"
    out = clean(html)
    assert "[button setTitle:" in out and "<code>[gallery]</code>" in out
    assert "[ad_1]" not in out


# --- every URL attribute alike ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "markup",
    [
        '<blockquote cite="javascript:alert(1)">quote</blockquote>',
        '<p><q cite="javascript:alert(2)">quote</q></p>',
        '<p><q cite=" JaVa&#09;script:alert(3)">quote</q></p>',
        '<p><q cite="&#x6A;avascript:alert(4)">quote</q></p>',
        '<blockquote cite="data:text/html,<script>alert(5)</script>">quote</blockquote>',
        '<blockquote cite="vbscript:msgbox(6)">quote</blockquote>',
    ],
)
def test_cite_with_a_script_scheme_is_dropped_like_href(markup):
    out = clean(markup, base_url=BASE)
    assert "cite" not in out
    assert "quote" in out


def test_cite_with_a_web_url_is_kept_and_made_absolute():
    out = clean('<blockquote cite="/source">a</blockquote><p><q cite="https://other.org/q">b</q></p>', base_url=BASE)
    assert 'cite="https://example.com/source"' in out
    assert 'cite="https://other.org/q"' in out


def test_control_characters_in_a_body_become_spaces():
    # lxml refuses them ("All strings must be XML compatible"): found by the property test.
    assert clean("\x01a\x00b\x0cc<p>d\x1be</p>") == "<p>a b c</p>\n<p>d e</p>"
