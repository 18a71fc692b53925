"""analyze: plain text by paragraphs, links and images in order, word count, reading time, source link."""

from __future__ import annotations

import pytest

from archiver.text import WORDS_PER_MINUTE, Content, analyze


def test_paragraphs_are_separated_by_blank_lines():
    assert analyze("<p>First paragraph.</p><p>Second <em>one</em>.</p>").text == "First paragraph.\n\nSecond one."


def test_headings_list_items_and_quotes_are_paragraphs_of_their_own():
    html = "<h2>Head</h2><p>Text</p><ul><li>one</li><li>two</li></ul><blockquote><p>q1</p><p>q2</p></blockquote>"
    assert analyze(html).text == "Head\n\nText\n\none\n\ntwo\n\nq1\n\nq2"


def test_whitespace_inside_a_paragraph_is_collapsed():
    assert analyze("<p>  Harbour\n   strike\tends  </p>").text == "Harbour strike ends"


def test_br_is_a_line_break_within_one_paragraph():
    # Addresses and verse keep their lines; the source's own newlines are only whitespace.
    assert analyze("<p>Line one<br>Line two</p>").text == "Line one\nLine two"
    assert analyze("<p>Line one<br>\nLine two</p><p>next</p>").text == "Line one\nLine two\n\nnext"
    assert analyze("<p>one\ntwo</p>").text == "one two"


def test_runs_of_br_do_not_make_empty_lines():
    assert analyze("<p>A<br><br>B</p>").text == "A\nB"
    assert analyze("<p><br>lead</p>").text == "lead"


def test_preformatted_text_keeps_its_lines():
    assert analyze("<pre>code\n\n  indented</pre><p>after</p>").text == "code\n\n  indented\n\nafter"


def test_line_breaks_inside_preformatted_text_are_line_ends():
    # Feeds and Medium write code blocks as <pre>line<br>line</pre>: the lines must not run together.
    text = analyze("<pre>user   real<br>sax c  0.06<br/>nokogiri 0.5</pre>").text
    assert text == "user   real\nsax c  0.06\nnokogiri 0.5"


def test_entities_are_decoded():
    assert analyze("<p>a &amp; b &lt;c&gt; caf&eacute;</p>").text == "a & b <c> café"


def test_loose_text_between_blocks_is_kept_in_order():
    assert analyze("Loose text<p>para</p>tail text").text == "Loose text\n\npara\n\ntail text"


def test_leading_text_and_following_inline_element_stay_one_paragraph():
    assert analyze("Hello <b>world</b> again").text == "Hello world again"


def test_table_cells_do_not_run_together():
    content = analyze("<table><tr><td>Price</td><td>Volume</td></tr></table>")
    assert content.word_count == 2
    assert "PriceVolume" not in content.text


def test_figcaption_text_is_kept():
    content = analyze("<figure><img src='https://e.com/a.png' alt='x'><figcaption>The quay</figcaption></figure>")
    assert content.text == "The quay"


def test_empty_or_blank_html_gives_empty_content():
    for html in ("", "   \n "):
        content = analyze(html)
        assert (content.text, content.links, content.images) == ("", [], [])
        assert (content.word_count, content.reading_time_minutes, content.source_link) == (0, 0, None)


def test_links_are_listed_in_document_order_with_their_text():
    html = (
        '<p>See <a href="https://a.com/1">first  <em>one</em></a> and <a href="https://a.com/2">second</a>.</p>'
        '<ul><li><a href="https://a.com/3">third</a></li></ul>'
    )
    assert analyze(html).links == [
        {"url": "https://a.com/1", "text": "first one"},
        {"url": "https://a.com/2", "text": "second"},
        {"url": "https://a.com/3", "text": "third"},
    ]


def test_anchors_without_href_are_not_links():
    content = analyze("<p>x<a>no href</a> <a href=''>empty</a></p>")
    assert content.links == []
    assert content.text == "xno href empty"


def test_images_are_listed_in_document_order_with_alt_text():
    html = (
        '<p><img src="https://a.com/i1.png" alt="One"></p>'
        '<figure><img src="https://a.com/i2.png"></figure><p><img alt="no src"></p>'
    )
    assert analyze(html).images == [
        {"src": "https://a.com/i1.png", "alt": "One"},
        {"src": "https://a.com/i2.png", "alt": ""},
    ]


def test_word_count_counts_words_with_apostrophes_and_hyphens_as_one():
    assert analyze("<p>don't stop-gap it\u2019s here</p>").word_count == 4


def test_word_count_ignores_punctuation():
    assert analyze("<p>Hello , world ! — ok ...</p>").word_count == 3


def test_word_count_counts_across_paragraphs():
    assert analyze("<p>one two</p><p>three</p><ul><li>four five</li></ul>").word_count == 5


def test_reading_time_rounds_up_to_whole_minutes():
    assert WORDS_PER_MINUTE == 230
    assert analyze("<p>word</p>").reading_time_minutes == 1
    assert analyze("<p>" + "word " * 230 + "</p>").reading_time_minutes == 1
    assert analyze("<p>" + "word " * 231 + "</p>").reading_time_minutes == 2
    assert analyze("<p>" + "word " * 1000 + "</p>").reading_time_minutes == 5


def test_reading_time_of_no_words_is_zero():
    assert Content(text="").reading_time_minutes == 0
    assert Content(text="— …").reading_time_minutes == 0


@pytest.mark.parametrize("label", ["Source", "source:", "Original article", "Original Story", "Via", "Read more at"])
def test_source_link_is_the_trailing_source_labelled_link(label):
    html = f'<p>Body <a href="https://other.example/">other</a></p><p><a href="https://origin.example/story">{label}</a></p>'
    assert analyze(html).source_link == "https://origin.example/story"


def test_source_link_prefers_the_last_source_labelled_link():
    html = (
        '<p><a href="https://first.example/">Source</a> mid</p>'
        '<p><a href="https://origin.example/story">Source:</a></p>'
        '<p><a href="https://o.example">other</a></p>'
    )
    assert analyze(html).source_link == "https://origin.example/story"


def test_source_link_is_none_without_a_source_label():
    html = '<p>Read <a href="https://a.example/">the report</a> and <a href="https://b.example/">more sources</a>.</p>'
    assert analyze(html).source_link is None


def test_source_label_must_be_the_whole_link_text():
    assert analyze('<p><a href="https://a.example/">Source code on GitHub</a></p>').source_link is None


def test_a_whole_document_without_a_body_gives_no_text_instead_of_an_assertion():
    # readability-lxml returns this for a page cut after `<head`; lxml's fragment parser asserted on it.
    assert analyze('<html lang="en-GB">\n</html>').text == ""
    assert analyze("<html><body><p>Kept</p></body></html>").text == "Kept"
