"""Every post of the real-world corpus (../shared/corpus), through `archiver normalize`'s path, keeps
the invariants of tests/corpus/invariants.py: valid against the schema, a title (or a recorded
reason), every source paragraph in `text`, nothing unsafe in `content_html`, dates parsed or warned.
`scripts/corpus_report.py` counts the same checks into docs/corpus.md.
"""

from __future__ import annotations

import pytest
from invariants import CORPUS, FOLDERS, check_post, run, summarize, unsafe_html

from archiver.model import Origin, RawPost
from archiver.normalize import normalize

MAX_LISTED = 20


def test_every_corpus_post_keeps_the_invariants(capsys) -> None:
    missing = [folder for folder in FOLDERS if not (CORPUS / folder).is_dir()]
    if missing:
        pytest.skip(f"corpus not found: {', '.join(str(CORPUS / f) for f in missing)} (CI has ../shared/corpus)")
    results = run()
    with capsys.disabled():
        for stats in summarize(results).values():
            print(f"\n[corpus {stats.folder}] files={stats.files} posts={stats.posts} "
                  f"pass={stats.pass_rate:.1%} errors={stats.errors} not_posts={dict(stats.not_posts)} "
                  f"failures={dict(stats.failures)} excepted={dict(stats.excepted)} "
                  f"no_date_in_source={stats.no_date_in_source}", end="")
    failures = [f"{file} [{invariant}] {detail}" for r in results for file, invariant, detail in r.failures()]
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:MAX_LISTED])


# The checks themselves, on hand-made posts: they must catch what they are there to catch.

def _checked(body: str, text_html: str | None = None, **raw_fields):
    raw = RawPost(format="wxr", body=body, title="T", published="2024-01-02 03:04:05", **raw_fields)
    post = normalize(raw, Origin("file", "x.xml"), archived_at="2024-01-01T00:00:00+00:00")
    if text_html is not None:  # simulate a normalizer that lost something
        post.text = text_html
    return check_post("x.xml", 0, post, raw)


def test_the_paragraph_check_catches_a_lost_paragraph() -> None:
    body = "<p>First paragraph.</p><p>Second paragraph.</p>[ad_1]<!-- note --><script>x()</script>"
    assert _checked(body).failures == {}
    assert "paragraphs" in _checked(body, text_html="First paragraph.").failures


def test_the_paragraph_check_reads_bodies_without_p_by_blank_lines() -> None:
    body = "Line one\nstill one.\n\nParagraph <b>two</b>."
    assert _checked(body).failures == {}
    assert "paragraphs" in _checked(body, text_html="Line one still one.").failures


@pytest.mark.parametrize(
    "html",
    ['<p>a [ad_1] b</p>', "<p>x</p><script>y()</script>", '<p onclick="y()">x</p>',
     '<a href=" javascript:y()">x</a>', "<iframe src='https://e.com'></iframe>", "<p>[caption id=1]x</p>"],
)
def test_the_html_check_catches_unsafe_markup(html: str) -> None:
    assert unsafe_html(html)


def test_the_html_check_leaves_code_and_prose_alone() -> None:
    assert unsafe_html("<pre><code>[button setImage:x];</code></pre><p>JavaScript: the good parts [sic]</p>") is None


def test_the_date_check_wants_a_warning_for_an_unreadable_date() -> None:
    check = _checked("<p>x</p>")
    assert "date" not in check.failures
    raw = RawPost(format="wxr", body="<p>x</p>", title="T", published="not a date")
    post = normalize(raw, Origin("file", "x.xml"))
    assert "date" not in check_post("x.xml", 0, post, raw).failures  # the normalizer warned
    post.warnings.clear()
    assert "date" in check_post("x.xml", 0, post, raw).failures
