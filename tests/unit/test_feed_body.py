"""The richest feed body wins: content:encoded / atom:content > description / summary > media:description."""

from __future__ import annotations

from pathlib import Path

from archiver.formats import feed
from archiver.model import Input, Origin

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
