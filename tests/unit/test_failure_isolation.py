"""One input's trouble is that input's failure: a bug becomes `internal_error` with its stage, the others go on;
a relative or invalid base URL never crashes the sanitizer (links resolve against the feed URL, or stay)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archiver import clean_html, ids, pipeline
from archiver.cli import main
from archiver.errors import InternalError
from archiver.model import Input, Origin

FEEDS = Path(__file__).parent.parent / "fixtures" / "feed"


def _write_posts(tmp_path: Path) -> list[Path]:
    paths = []
    for name in ("a", "b", "c"):
        path = tmp_path / f"{name}.md"
        path.write_text(f"---\ntitle: Post {name}\n---\nBody of {name}.\n")
        paths.append(path)
    return paths


def test_a_bug_on_one_input_is_its_failure_and_the_inputs_after_it_are_processed(tmp_path, monkeypatch, capsys):
    real_normalize = pipeline.normalize

    def buggy(raw, origin, **kwargs):
        if origin.uri.endswith("b.md"):
            raise KeyError("a bug in the normalizer")
        return real_normalize(raw, origin, **kwargs)

    monkeypatch.setattr(pipeline, "normalize", buggy)
    a, b, c = _write_posts(tmp_path)

    status = main(["normalize", str(a), str(b), str(c)])

    out, err = capsys.readouterr()
    assert status == 1
    assert [json.loads(line)["title"] for line in out.splitlines()] == ["Post a", "Post c"]
    assert err.splitlines() == [f"archiver: {b}: internal_error (normalize): KeyError: 'a bug in the normalizer'"]
    assert "Traceback" not in err


def test_a_bug_while_parsing_is_an_internal_error_of_stage_parse(monkeypatch):
    def broken(module, item, **options):
        raise AttributeError("parser bug")
        yield  # a generator, as the real one is

    monkeypatch.setattr(pipeline.formats, "each_post", broken)
    item = Input(b"---\ntitle: x\n---\ny\n", "x.md", Origin("file", "x.md"))
    with pytest.raises(InternalError) as error:
        pipeline.normalize_input(item)
    assert (error.value.code, error.value.stage) == ("internal_error", "parse")
    assert error.value.message == "AttributeError: parser bug"


def test_feed_with_a_relative_site_link_and_a_non_url_id_keeps_its_links_as_written(capsys):
    path = FEEDS / "relative_links.atom"
    assert main(["normalize", str(path)]) == 0
    post = json.loads(capsys.readouterr().out)
    assert post["title"] == "First" and post["url"] is None
    assert 'href="other/"' in post["content_html"] and 'src="pic.png"' in post["content_html"]
    assert post["source"]["original_id"] == "not a url at all"


def test_relative_links_resolve_against_the_feeds_self_link(capsys):
    assert main(["normalize", str(FEEDS / "relative_links_self.atom")]) == 0
    post = json.loads(capsys.readouterr().out)
    assert post["url"] == "https://relative.example.org/blog/second/"
    assert post["source"]["site_url"] == "https://relative.example.org/blog/"
    assert 'href="https://relative.example.org/blog/first/"' in post["content_html"]


def test_relative_links_resolve_against_the_url_a_document_was_fetched_from():
    from archiver.model import RawPost
    from archiver.normalize import normalize

    raw = RawPost(format="rss", body='<p><a href="x.html">x</a></p>', title="T", site_url="/news/")
    post = normalize(raw, Origin("url", "https://fetched.example.net/feeds/all.rss"))
    assert post.source["site_url"] == "https://fetched.example.net/news/"
    assert 'href="https://fetched.example.net/news/x.html"' in post.content_html


@pytest.mark.parametrize("base", ["/blog/", "not a url", "http://[::1", "http://exa mple.com/", "javascript:x"])
def test_sanitizer_keeps_relative_links_when_the_base_is_unusable(base):
    html = clean_html.clean('<p><a href="a/b">link</a> <img src="c.png" alt="c"></p>', base_url=base)
    assert 'href="a/b"' in html and 'src="c.png"' in html


def test_an_unbalanced_ipv6_host_is_not_an_absolute_url():
    assert not ids.is_absolute_url("http://[::1")
    assert ids.is_absolute_url("http://[::1]/x")


def test_a_reader_that_stops_early_gets_no_traceback():
    import subprocess
    import sys

    feed = str(FEEDS / "rss2.xml")
    process = subprocess.Popen([sys.executable, "-m", "archiver", "normalize", *[feed] * 150],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.read(100)  # like `| head -c 100`: the rest of the output has no reader
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.wait(timeout=120)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
    assert process.returncode == 1
