"""The richest feed body wins: content:encoded / atom:content > description / summary > media:description."""

from __future__ import annotations

from pathlib import Path

from archiver.formats import feed
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input

PATH = Path(__file__).parent.parent / "fixtures" / "feed" / "media_caption.rss"


def posts() -> dict[str, object]:
    return {p.title: p for p in feed.parse(Input(PATH.read_bytes(), PATH.name, Origin("file", str(PATH))))}


def test_description_wins_over_a_media_caption_that_follows_it():
    post = posts()["Description then caption"]
    assert post.body.startswith("<p>Paragraph sentence number 0") and len(post.body) > 3000
    assert "lighthouse" not in post.body and post.excerpt is None
    assert post.image == "https://media.example.org/1.jpg"


def test_description_wins_over_a_media_caption_that_comes_first():
    post = posts()["Caption then description"]
    assert post.body.startswith("<p>Paragraph sentence number 0") and len(post.body) > 3000
    assert post.excerpt is None  # the caption is no excerpt either


def test_full_content_wins_and_the_description_is_the_excerpt():
    post = posts()["Full content, description and caption"]
    assert post.body.startswith("<p>Full text.")
    assert post.excerpt == "A short teaser."


def test_a_caption_is_the_body_when_there_is_nothing_else():
    assert posts()["Only a caption"].body == "A video about the strike."


PODCAST = Path(__file__).parent.parent / "fixtures" / "feed" / "itunes_summary.rss"


def podcast_posts() -> dict[str, object]:
    return {p.title: p for p in feed.parse(Input(PODCAST.read_bytes(), PODCAST.name, Origin("file", str(PODCAST))))}


def test_show_notes_win_over_an_itunes_summary_that_follows_them():
    # feedparser files the later itunes:summary as `content`, which would outrank the description.
    post = podcast_posts()["Notes then summary"]
    assert "<li>A guest</li>" in post.body and "..." not in post.body
    assert post.excerpt is None


def test_show_notes_win_over_an_itunes_summary_that_comes_first():
    assert podcast_posts()["Summary then notes"].body == "<p>The full show notes of episode two.</p>"


def test_an_itunes_summary_is_the_body_when_there_is_nothing_else():
    assert podcast_posts()["Only a summary"].body == "Episode three, summed up."


def _rss(*descriptions: str) -> Input:
    items = "".join(f"<item><title>{n}</title><link>https://x.example/{n}</link><description>{d}</description></item>"
                    for n, d in enumerate(descriptions))
    data = f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode()
    return Input(data, "feed.rss", Origin("file", "feed.rss"))


def test_unescaped_elements_then_cdata_html_are_read_as_html():
    # An image left unescaped before the CDATA body: feedparser reads the description as XHTML and
    # escapes the CDATA's HTML, which would show "<p>" and "<a href" as text.
    [post] = normalize_input(_rss('<img src="https://x.example/i.jpg"/><![CDATA[<p>Hello <b>world</b>, '
                                  'AT&amp;T <a href="https://x.example/a">link</a></p>]]>'))
    assert post.text == "Hello world, AT&T link"
    assert '<a href="https://x.example/a"' in post.content_html and "&lt;p" not in post.content_html
    assert any("unescaped" in w for w in post.warnings)


def test_escaped_text_inside_unescaped_html_stays_text():
    [post] = normalize_input(_rss("<p>Use <code>&lt;div&gt;</code> here</p>"))
    assert post.text == "Use <div> here"
