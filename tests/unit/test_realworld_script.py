"""The real-world scoring (scripts/realworld.py): its definitions, and the integrity of tests/realworld."""

import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
REALWORLD = ROOT / "tests" / "realworld"


@pytest.fixture(scope="module")
def rw():
    spec = importlib.util.spec_from_file_location("realworld", ROOT / "scripts" / "realworld.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["realworld"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("expected", "actual", "right"), [
    ("2019-04-25T09:00:00+02:00", "2019-04-25T07:00:00+00:00", True),  # the same instant
    ("2019-04-25T09:00:00+02:00", "2019-04-25T09:00:00+00:00", False),
    ("2019-04-25T09:00:00", "2019-04-25T09:00:00+00:00", True),  # no zone in the source: wall clock kept
    ("2019-04-25T09:00:00", "2019-04-25T09:00:00+02:00", True),  # e.g. archived with --timezone
    ("2019-04-25T09:00:00", "2019-04-25T07:00:00+00:00", False),
    ("2019-04-25", "2019-04-25T00:00:00-05:00", True),  # a date only: the same day
    ("2016-06-01T08:35:00.001-07:00", "2016-06-01T15:35:00+00:00", True),  # to the second
    (None, None, True),  # no date in the source: none may be invented
    (None, "2024-01-01T00:00:00+00:00", False),
    ("2019-04-25", None, False),
])
def test_dates_are_compared_as_the_source_states_them(rw, expected, actual, right):
    assert rw.date_right(expected, actual) is right


def test_junk_outside_code_is_found_and_code_is_left_alone(rw):
    assert rw.junk_in("<p>Text {% include x.html %} and [caption id=1]x[/caption]</p>") == [
        "{% include x.html %}", "[caption id=1]", "[/caption]"]
    assert rw.junk_in("<p>its title: mid-sentence</p><pre>{{ code }}</pre><code>{% raw %}</code>") == []
    assert rw.junk_in("<p>Title: Counting cranes</p>") == ["Title: "]


def test_posts_are_matched_by_order_or_by_title(rw):
    want = [{"title": "A"}, {"title": "B"}, {"title": "C"}]
    posts = [SimpleNamespace(title="C"), SimpleNamespace(title="A")]
    pairs = rw.match(want, posts, lambda p: p.title)
    assert [(w["title"], p.title if p else None) for w, p in pairs] == [("A", "A"), ("B", None), ("C", "C")]


def test_the_section_is_replaced_and_the_rest_of_the_file_kept(rw, tmp_path):
    doc = tmp_path / "corpus.md"
    doc.write_text("# Corpus\n\nkept\n")
    rw.write_section(doc, "first")
    rw.write_section(doc, "second")
    text = doc.read_text()
    assert text.startswith("# Corpus\n\nkept\n") and "second" in text and "first" not in text


def test_every_source_has_an_expected_answer_and_committed_files_exist():
    sources = json.loads((REALWORLD / "sources.json").read_text())
    expected = json.loads((REALWORLD / "expected.json").read_text())
    assert {s["file"] for s in sources} == set(expected)
    for source in sources:
        assert source["license"] and len(source["commit"]) == 40
        if source["committed"]:
            assert (REALWORLD / "files" / source["file"]).is_file(), source["file"]
            assert (REALWORLD / "files" / source["file"].split("/")[0] / "LICENSE").is_file()
    assert len({s["repo"] for s in sources if s["counted"]}) >= 20
    assert len(sources) >= 150
