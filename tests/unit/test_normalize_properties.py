"""Property: whatever bytes arrive, `normalize_input` ends with posts that fit the schema, or an ArchiverError.

Random bytes and mutations (cuts, repeats, hostile tokens) of one sample of every format go
through the path of `archiver normalize`. Each input must finish (the test completes; nothing is
timed here: `scripts/measure_inputs.py` reports time per KB), raise nothing but ArchiverError,
and give posts that validate against schema/post.v1.json and serialize with allow_nan=False.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from archiver.errors import ArchiverError
from archiver.model import Input, Origin
from archiver.pipeline import normalize_input
from archiver.schema import post_schema

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
VALIDATOR = Draft202012Validator(post_schema())


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tar_gz(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


YAML_POST = b"---\ntitle: Harbour <em>news</em>\ndate: 2024-05-01\ntags: [a, b]\n---\nSome *Markdown* [link](/x).\n"
TOML_POST = b"+++\ntitle = 'Toml'\ndate = 2024-05-01T10:00:00Z\n+++\n<p>HTML body</p>\n"
JSON_POST = b'{\n"title": "Json", "date": "2024-05-01"\n}\nBody text.\n'
SEEDS: list[tuple[str, bytes]] = [
    ("post.md", YAML_POST),
    ("toml.md", TOML_POST),
    ("json.md", JSON_POST),
    ("wordpress.md", b"---\npost_title: WP &#8217;s\nID: 7\n---\nLine one\nline two\n\n[caption]x[/caption]"),
    ("rss2.xml", (FIXTURES / "feed" / "rss2.xml").read_bytes()),
    ("atom.xml", (FIXTURES / "feed" / "atom.xml").read_bytes()),
    ("feed11.json", (FIXTURES / "json_feed" / "feed11.json").read_bytes()),
    ("posts.json", (FIXTURES / "wp_json" / "posts.json").read_bytes()),
    ("export.xml", (FIXTURES / "wxr" / "export.xml").read_bytes()),
    ("page.html", (FIXTURES / "html" / "article_jsonld.html").read_bytes()),
    ("posts.zip", _zip({"a.md": YAML_POST, "b.md": TOML_POST})),
    ("posts.tar.gz", _tar_gz({"a.md": YAML_POST, "c.json": JSON_POST})),
    ("post.md.gz", gzip.compress(YAML_POST)),
]
# Pieces that have broken something before: template tags, shortcodes, markup, controls, numbers.
TOKENS = [
    b"{{", b"}}", b"{%", b"%}", b"{% raw %}", b"{{<", b"[caption ", b"[/caption]", b"[video]", b"[code]", b"<pre",
    b"<em>", b"</em>", b"<br>", b"<p>", b"</p>", b"<template>", b"<script>", b"]]>", b"<![CDATA[", b"&", b"&#0;",
    b"\x00", b"\x1b[31m", "\u202e".encode(), b"\xff\xfe", b"\xef\xbb\xbf", b"\n", b"\n\n\n", b"   ", b"---\n",
    b"+++\n", b"[", b"]", b"{", b"}", b'"', b"NaN", b"Infinity", b"1e999", b"9" * 30, b"*a", b"&a",
    b"\xc3", b"\xe9", b"http://", b"javascript:", b"<a href=", b"<!DOCTYPE x [",
]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    name, data = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(data)))
        operation = draw(st.sampled_from(["insert", "delete", "repeat", "truncate", "random"]))
        if operation == "insert":
            data = data[:at] + draw(st.sampled_from(TOKENS)) * draw(st.integers(1, 50)) + data[at:]
        elif operation == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 200)) :]
        elif operation == "repeat":
            piece = data[at : at + draw(st.integers(1, 64))]
            data = data[:at] + piece * draw(st.integers(1, 200)) + data[at:]
        elif operation == "truncate":
            data = data[:at]
        else:
            data = data[:at] + draw(st.binary(max_size=64)) + data[at:]
    return name, data


NAMES = st.sampled_from(["x.md", "x.html", "x.xml", "x.json", "x.rss", "x.zip", "x.gz", "x.txt", "x"])
# Fresh examples on every developer run (new bugs surface); CI replays a fixed sequence so that a
# red build always names a reproducible input.
property_settings = settings(max_examples=150, deadline=None, database=None, derandomize=bool(os.environ.get("CI")),
                             suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def check(name: str, data: bytes) -> None:
    item = Input(data=data, name=name, origin=Origin(kind="file", uri=name))
    try:
        posts = normalize_input(item, archived_at="2024-01-01T00:00:00+00:00")
    except ArchiverError as exc:
        assert exc.code and exc.stage and "\n" not in exc.message
        return
    assert posts
    for post in posts:
        document = post.to_dict()
        errors = [f"{list(e.path)}: {e.message}" for e in VALIDATOR.iter_errors(document)]
        assert not errors, errors
        json.dumps(document, allow_nan=False)


@pytest.mark.parametrize(("name", "data"), SEEDS, ids=[name for name, _ in SEEDS])
def test_every_seed_is_archived(name, data):
    item = Input(data=data, name=name, origin=Origin(kind="file", uri=name))
    assert normalize_input(item)
    check(name, data)


@property_settings
@given(mutated())
def test_mutated_inputs_of_every_format_end_in_posts_or_an_archiver_error(sample):
    check(*sample)


@property_settings
@given(NAMES, st.binary(max_size=2048))
def test_random_bytes_end_in_posts_or_an_archiver_error(name, data):
    check(name, data)


@property_settings
@given(NAMES, st.text(max_size=2048))
def test_random_text_ends_in_posts_or_an_archiver_error(name, text):
    check(name, text.encode("utf-8", "surrogatepass"))
