"""Tags and categories of front matter: list items are kept whole; only a plain string is split."""

from __future__ import annotations

from pathlib import Path

from archiver.formats import frontmatter
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input

FIXTURES = Path(__file__).parent.parent / "fixtures" / "frontmatter"


def normalized(text: str, name: str = "post.md"):
    return normalize_input(Input(text.encode(), name, Origin("file", name)))[0]


def test_list_items_with_spaces_are_kept_whole():
    path = FIXTURES / "list-terms.md"
    post = normalize_input(Input(path.read_bytes(), path.name, Origin("file", str(path))))[0]
    assert post.tags == ["Active Directory", "Server 2008"]
    assert post.categories == ["Windows Server", "Identity and access"]


def test_toml_list_items_are_kept_whole_as_hugo_and_zola_do():
    post = normalized('+++\ntitle = "T"\ntags = ["Active Directory", "Server 2008"]\n+++\nBody.\n')
    assert post.tags == ["Active Directory", "Server 2008"]


def test_list_items_holding_commas_are_kept_whole():
    post = normalized('---\ntitle: T\ntags:\n  - "Hello, world"\n  - C#\n---\nBody.\n')
    assert post.tags == ["Hello, world", "C#"]


def test_a_plain_string_is_split_on_whitespace_as_jekyll_does():
    assert normalized("---\ntitle: T\ntags: python web  scraping\n---\nBody.\n").tags == ["python", "web", "scraping"]


def test_a_plain_string_with_commas_is_split_on_commas():
    post = normalized("---\ntitle: T\ncategories: Data science, Machine learning\n---\nBody.\n")
    assert post.categories == ["Data science", "Machine learning"]


def test_wordpress_export_folded_comma_joined_categories_are_still_split():
    meta = {"original_cats": ["coldplay,super bowl 50,Culture,Underwire,puppy", "Top Stories"]}
    assert frontmatter.terms(meta, "categories", "original_cats") == [
        "coldplay", "super bowl 50", "Culture", "Underwire", "puppy", "Top Stories"]


def test_seed_categories_are_unchanged(seed_dir: Path):
    seed = next(p for p in sorted(seed_dir.iterdir()) if p.is_file())
    post = normalize_input(Input(seed.read_bytes(), seed.name, Origin("file", str(seed))))[0]
    assert post.categories == ["topNews"]
