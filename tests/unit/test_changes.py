"""The change record of a new version and the word-level diff: pure functions over post documents."""

from __future__ import annotations

import pytest

from archiver.changes import change_record, summary, word_diff
from archiver.changes import words as words_module

STORY = ("The harbour authority said the strike would continue until the dispute over night shifts was settled. "
         "Ferries to the islands run on a reduced timetable in the meantime.")


def document(text: str = STORY, **fields: object) -> dict:
    base = {"version": 1, "title": "Harbour strike", "published_at": "2026-11-20T10:00:00+00:00",
            "updated_at": None, "authors": ["Ana Ruiz"], "canonical_url": "https://news.example/strike",
            "tags": ["harbour"], "categories": ["News"], "text": text, "content_html": f"<p>{text}</p>"}
    return {**base, **fields}


def paragraphs(count: int, words: int = 20) -> str:
    return "\n\n".join(" ".join(f"p{n}w{i}" for i in range(words)) for n in range(count))


def test_an_edited_text_counts_the_words_in_and_out_and_says_where() -> None:
    edited = STORY.replace("night shifts", "weekend shifts") + " The union will vote on Friday."
    record = change_record(document(), document(edited, version=2))
    assert record["flags"] == ["edited"]
    assert (record["from_version"], record["to_version"]) == (1, 2)
    text = record["text"]
    assert (text["deleted"], text["inserted"], text["spans_total"]) == (1, 7, 2)
    replaced, appended = text["spans"]
    assert replaced == {"op": "replace", "old_at": 12, "new_at": 12, "old": "night", "new": "weekend",
                        "old_words": 1, "new_words": 1}
    assert (appended["op"], appended["new"]) == ("insert", "The union will vote on Friday.")
    assert record["fields"] == {} and record["other_fields"] == ["content_html"]


def test_a_retraction_notice_flags_the_version_retracted() -> None:
    notice = "This article has been retracted after the authority withdrew its statement."
    record = change_record(document(), document(f"{notice}\n\n{STORY}", version=2))
    assert record["flags"] == ["edited", "retracted"]
    assert record["retracted_by"] == ["notice"]
    assert record["notices"] == [{"kind": "retraction", "text": notice}]


@pytest.mark.parametrize("notice", [
    "Dieser Artikel wurde von der Redaktion zurückgezogen.",
    "Cet article a été retiré à la demande de l'auteur.",
    "Este artículo ha sido retirado.",
    "Questo articolo è stato rimosso.",
    "L\u2019article a été supprimé par la rédaction.",
    "Dit artikel is ingetrokken.",
    "The story was taken down on Monday.",
])
def test_retraction_notices_are_known_in_several_languages(notice: str) -> None:
    record = change_record(document(), document(f"{STORY}\n\n{notice}", version=2))
    assert "retracted" in record["flags"], notice


def test_a_retracted_title_flags_the_version_retracted() -> None:
    record = change_record(document(), document(title="[Retracted] Harbour strike", version=2))
    assert record["flags"] == ["edited", "retracted"]
    assert record["fields"]["title"] == {"old": "Harbour strike", "new": "[Retracted] Harbour strike"}


def test_a_body_shrunk_to_a_small_share_flags_the_version_retracted() -> None:
    long_text = paragraphs(5)  # 100 words
    record = change_record(document(long_text), document("This page is no longer available.", version=2))
    assert record["flags"] == ["edited", "retracted"]
    assert record["retracted_by"] == ["shrinkage"]
    assert (record["text"]["deleted"], record["text"]["inserted"]) == (100, 6)
    trimmed = change_record(document(long_text), document(paragraphs(3), version=2))  # 60 %: an edit
    assert trimmed["flags"] == ["edited"]


def test_a_correction_is_flagged_corrected_not_retracted_and_only_when_new() -> None:
    correction = "Correction: an earlier version misnamed the harbour master."
    record = change_record(document(), document(f"{STORY}\n\n{correction}", version=2))
    assert record["flags"] == ["edited", "corrected"]
    assert record["notices"] == [{"kind": "correction", "text": correction}]
    kept = change_record(document(f"{STORY}\n\n{correction}"),
                         document(f"{STORY} Talks resume.\n\n{correction}", version=2))
    assert kept["flags"] == ["edited"] and kept["notices"] == []
    noted = change_record(document(), document(f"Editor\u2019s note: names changed.\n\n{STORY}", version=2))
    assert noted["flags"] == ["edited", "corrected"] and noted["notices"][0]["kind"] == "editors_note"


def test_a_metadata_only_change_lists_its_fields_and_no_words() -> None:
    record = change_record(document(), document(
        version=2, title="Harbour strike ends", updated_at="2026-11-21T08:00:00+00:00",
        authors=["Ana Ruiz", "Tom Berg"], tags=["harbour", "ferries"], canonical_url="https://news.example/s"))
    assert record["flags"] == ["edited"]
    assert sorted(record["fields"]) == ["authors", "canonical_url", "tags", "title", "updated_at"]
    assert record["fields"]["authors"]["added"] == ["Tom Berg"] and record["fields"]["authors"]["removed"] == []
    assert record["fields"]["updated_at"] == {"old": None, "new": "2026-11-21T08:00:00+00:00"}
    assert (record["text"]["inserted"], record["text"]["deleted"], record["text"]["spans"]) == (0, 0, [])
    assert summary(record) == {"flags": ["edited"], "inserted": 0, "deleted": 0,
                               "fields": ["authors", "canonical_url", "tags", "title", "updated_at"]}
    assert summary({**record, "from_version": 1, "to_version": 3})["from_version"] == 1  # a skipped number


def test_a_version_that_changes_nothing_a_reader_sees_has_no_flags() -> None:
    record = change_record(document(), document(version=2, content_html="<p><b>same words</b></p>"))
    assert record["flags"] == [] and record["other_fields"] == ["content_html"]


def test_the_spans_are_bounded_and_the_counts_exact() -> None:
    old = paragraphs(30, words=5)
    new = "\n\n".join(p.replace("w2", "x2") for p in old.split("\n\n"))
    diff = word_diff(old, new, max_spans=4)
    assert (diff["inserted"], diff["deleted"], diff["spans_total"], len(diff["spans"])) == (30, 30, 30, 4)
    assert [s["old_at"] for s in diff["spans"]] == [2, 7, 12, 17]  # word positions in the whole text


def test_a_long_span_shows_its_first_words_and_counts_the_rest() -> None:
    diff = word_diff("start end", "start " + " ".join(f"w{i}" for i in range(100)) + " end", span_words=3)
    [span] = diff["spans"]
    assert (span["new"], span["new_words"], span["old"]) == ("w0 w1 w2 …", 100, "")


def test_a_block_too_large_to_compare_word_by_word_counts_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(words_module, "MAX_BLOCK_CELLS", 10)
    diff = word_diff("a b c d e", "a b x d e")
    assert (diff["deleted"], diff["inserted"], diff["spans_total"]) == (5, 5, 1)
    assert word_diff("a b c", "a b c") == {"words_before": 3, "words_after": 3, "inserted": 0, "deleted": 0,
                                           "spans": [], "spans_total": 0}
