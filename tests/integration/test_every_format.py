"""Every supported format, end to end: `archiver normalize` and `archiver local ingest`."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import jsonschema
import pytest

from archiver.cli import main
from archiver.local.keys import inbox_keys
from archiver.schema import post_schema

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures"
SAMPLES = REPO_ROOT / "events" / "samples"
ONE_OF_EACH = {
    "front matter (YAML, HTML body)": SAMPLES / "newswire-harbour-strike.txt",
    "front matter (YAML, Markdown)": SAMPLES / "2024-05-01-welcome-to-the-archive.md",
    "front matter (TOML)": SAMPLES / "Café reopens on the quay.md",
    "HTML page": FIXTURES / "html" / "article_jsonld.html",
    "RSS 2.0": FIXTURES / "feed" / "rss2.xml",
    "RSS 1.0": FIXTURES / "feed" / "rdf.rdf",
    "Atom": FIXTURES / "feed" / "atom.xml",
    "JSON Feed": FIXTURES / "json_feed" / "feed11.json",
    "WordPress WXR": FIXTURES / "wxr" / "export.xml",
    "WordPress REST (one post)": FIXTURES / "wp_json" / "post.json",
    "WordPress REST (array)": FIXTURES / "wp_json" / "posts.json",
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """One file of each format, plus a zip and a tar.gz of a `_posts/` folder."""
    folder = tmp_path_factory.mktemp("bundles")
    posts = [SAMPLES / "newswire-harbour-strike.txt", SAMPLES / "2024-05-01-welcome-to-the-archive.md"]
    with zipfile.ZipFile(folder / "posts.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for post in posts:
            archive.write(post, f"_posts/{post.name}")
    with tarfile.open(folder / "posts.tar.gz", "w:gz") as archive:
        for post in posts:
            data = post.read_bytes()
            info = tarfile.TarInfo(f"_posts/{post.name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return [*ONE_OF_EACH.values(), folder / "posts.zip", folder / "posts.tar.gz"]


def test_normalize_prints_schema_valid_posts_for_every_format(inputs: list[Path], capsys) -> None:
    validator = jsonschema.Draft202012Validator(post_schema())
    for path in inputs:
        assert main(["normalize", str(path)]) == 0, path
        documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert documents, f"no post from {path.name}"
        for document in documents:
            validator.validate(document)
            assert document["title"] and document["text"], path.name


def test_local_ingest_archives_every_format(inputs: list[Path]) -> None:
    result = subprocess.run([sys.executable, "-m", "archiver", "local", "ingest", *map(str, inputs)],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["key"] for line in lines] == inbox_keys(inputs)
    keys = {p.name: line["key"] for p, line in zip(inputs, lines, strict=True)}
    for line in lines:
        assert line["status"] in ("archived", "duplicate") and line["post_ids"], line
    bundled = {line["key"]: line["post_ids"] for line in lines}
    assert len(bundled[keys["posts.zip"]]) == 2 and bundled[keys["posts.zip"]] == bundled[keys["posts.tar.gz"]]
