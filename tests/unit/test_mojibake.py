"""Text that is UTF-8 decoded twice ("donâ€™t") is archived as its author wrote it, per field, with a warning."""

from __future__ import annotations

from archiver import mojibake
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input


def twice(text: str) -> str:
    """What a CMS that reads UTF-8 as Windows-1252 (Latin-1 for the bytes cp1252 leaves undefined) and writes
    it out again makes of `text`."""
    return "".join(_cp1252(byte) for byte in text.encode("utf-8"))


def _cp1252(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)


RSS = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Café</title>
<item><title>{bad_title}</title><link>https://x.example/1</link>
<description><![CDATA[<p>{bad_body}</p>]]></description></item>
<item><title>Déjà vu</title><link>https://x.example/2</link>
<description><![CDATA[<p>Written right: “quoted” naïve façade.</p>]]></description></item>
</channel></rss>"""


def test_double_encoded_items_are_repaired_and_the_right_ones_left_alone():
    title, body = "São Paulo\u2019s café", "Don\u2019t — it\u2019s “über” fine."
    data = RSS.format(bad_title=twice(title), bad_body=twice(body)).encode()
    bad, good = normalize_input(Input(data, "feed.xml", Origin("file", "feed.xml")))
    assert (bad.title, bad.text) == ("São Paulo\u2019s café", "Don\u2019t — it\u2019s “über” fine.")
    assert any(w.startswith(mojibake.WARNING) and "title" in w and "body" in w for w in bad.warnings)
    assert (good.title, good.text) == ("Déjà vu", "Written right: “quoted” naïve façade.")
    assert not any(w.startswith(mojibake.WARNING) for w in good.warnings)


def test_a_lost_no_break_space_and_cp1252s_undefined_byte_are_repaired():
    # "Â " is U+00A0's first byte with its second turned into a space; "”" is E2 80 9D, and 9D is not cp1252.
    assert mojibake.repair("podcast.Â Youâ€™re here,â€\x9d he said") == "podcast.\xa0You\u2019re here,” he said"


def test_a_lost_no_break_space_alone_is_repaired():
    assert mojibake.repair("<p>oh my!Â  In this post</p>") == "<p>oh my!\xa0 In this post</p>"


def test_text_without_its_signs_is_unchanged():
    for text in ("naïve façade — “quoted” «é»", "ÂGE d'or", "plain", "", None):
        assert mojibake.repair(text) == text


def test_in_a_double_encoded_post_a_lone_a_circumflex_left_of_a_no_break_space_goes_in_every_field():
    # The title's only sign ("Â" at its end, the no-break space trimmed) is not enough for ftfy alone.
    data = RSS.format(bad_title="Great InterviewsÂ", bad_body=twice("Don\u2019t") + "Â &#8211; fine").encode()
    bad, _ = normalize_input(Input(data, "feed.xml", Origin("file", "feed.xml")))
    assert (bad.title, bad.text) == ("Great Interviews", "Don\u2019t \u2013 fine")  # no "Â" left
    assert mojibake.repair("Great InterviewsÂ") == "Great InterviewsÂ"  # alone: not repaired
