"""Copies of one story: SimHash fingerprints, bands and offline grouping."""

from __future__ import annotations

from pathlib import Path

from archiver import stories
from archiver.cli import main
from archiver.formats import frontmatter
from archiver.model import Input, Origin
from archiver.normalize import normalize

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"
STORY = (SAMPLES / "newswire-harbour-strike.txt").read_text("utf-8")


def republished(text: str, *, permalink: str, canonical: bool = True, edit: tuple[str, str] = ("", "")) -> str:
    """The sample story as another auto-blog would republish it: its own permalink, maybe no canonical."""
    front, body = text.split("\n---\n", 1)
    front = front.replace("https://news.example.org/harbour-workers-strike-as-talks-on-automation-stall/", permalink)
    if not canonical:
        front = front.split("original_link:")[0]
    return front + "\n---\n" + body.replace(*edit)


def post_of(text: str, name: str):
    item = Input(data=text.encode("utf-8"), name=name, origin=Origin(kind="file", uri=name))
    [raw] = list(frontmatter.parse(item))
    return normalize(raw, item.origin)


def test_identical_texts_have_identical_fingerprints() -> None:
    assert stories.fingerprint(post_of(STORY, "a").text) == stories.fingerprint(post_of(STORY, "b").text)


def test_a_small_edit_stays_within_the_copy_distance() -> None:
    original = post_of(STORY, "a")
    edited = post_of(republished(STORY, permalink="https://b.example/x", edit=("late on Monday night", "on Monday")),
                     "b")
    assert original.fingerprint != edited.fingerprint
    assert stories.are_copies(original.fingerprint, edited.fingerprint)


def test_different_stories_are_not_copies() -> None:
    other = (SAMPLES / "newswire-library-reopens.txt").read_text("utf-8")
    assert not stories.are_copies(post_of(STORY, "a").fingerprint, post_of(other, "b").fingerprint)


def test_short_texts_have_no_fingerprint() -> None:
    assert stories.fingerprint("Too short to tell a copy from a template.") is None


def test_copies_share_a_band() -> None:
    a = "0123456789abcdef"
    b = f"{int(a, 16) ^ 0b1011:016x}"  # three bits apart
    assert stories.are_copies(a, b)
    assert set(stories.bands(a)) & set(stories.bands(b))


def test_group_copies_links_same_canonical_and_near_identical_text() -> None:
    original = post_of(STORY, "original")
    same_canonical = post_of(republished(STORY, permalink="https://b.example/strike", edit=("Dock", "Harbour")), "b")
    no_canonical = post_of(republished(STORY, permalink="https://c.example/strike", canonical=False), "c")
    unrelated = post_of((SAMPLES / "newswire-library-reopens.txt").read_text("utf-8"), "d")
    assert len({original.id, same_canonical.id, no_canonical.id}) == 3  # each copy is its own post
    assert no_canonical.story_id != original.story_id  # nothing but the text says it is a copy

    groups = stories.group_copies([original, unrelated, same_canonical, no_canonical])

    assert [[p.source["uri"] for p in group] for group in groups] == [["original", "b", "c"]]


def test_copies_command_prints_groups(tmp_path: Path, capsys) -> None:
    copy = tmp_path / "copy.txt"
    copy.write_text(republished(STORY, permalink="https://c.example/strike", canonical=False))
    assert main(["copies", str(SAMPLES / "newswire-harbour-strike.txt"), str(copy),
                 str(SAMPLES / "newswire-library-reopens.txt")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and '"c.example' not in lines[0] and "https://c.example/strike" in lines[0]


def test_fingerprints_are_stable_across_releases() -> None:
    # The story index stores fingerprints: a faster implementation must give the same bits.
    text = " ".join(f"word{i % 37} harbour{i % 11}" for i in range(200))
    assert stories.fingerprint(text) == "22bd4eb42b8fde1d"
