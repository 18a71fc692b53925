"""Hostile and unusual inputs, one per class of issue 7 (time, memory, bad input, sanitizer).

    .venv/bin/python scripts/hostile_inputs.py DIR [--only NAME ...]

Writes each input as a file under DIR and prints its name and size. `scripts/measure_inputs.py`
runs them through `archiver normalize`'s path one child process each; `scripts/stress.py` pushes
them through the local stack. Big inputs are generated, never stored in the repository.
"""

from __future__ import annotations

import argparse
import io
import random
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

FRONT = "---\ntitle: {title}\ndate: 2024-05-01\n---\n"


@dataclass(frozen=True)
class Hostile:
    name: str  # the file name dropped into the inbox (its suffix is a hint, as for users)
    kind: str  # the class of issue 7 it probes: time | memory | bad-input | sanitizer
    expect: str  # "archived" or the failure code a clear outcome gives
    build: Callable[[], bytes]


def _post(title: str, body: str) -> bytes:
    return (FRONT.format(title=title) + body).encode("utf-8")


def _paragraphs(target_bytes: int, seed: int = 7) -> str:
    """Markdown prose of about `target_bytes`, varied enough not to compress like a bomb."""
    rng = random.Random(seed)
    words = ["archive", "post", "news", "story", "blog", "reader", "writer", "paper", "ink", "river", "stone",
             "light", "garden", "window", "table", "letter", "city", "market", "bridge", "harbour", "lantern"]
    out: list[str] = []
    size = 0
    while size < target_bytes:
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(8, 20))).capitalize() + "."
        paragraph = " ".join([sentence] * 3) + f" *{rng.random():.6f}* [link](https://example.com/{size})\n\n"
        out.append(paragraph)
        size += len(paragraph)
    return "".join(out)


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = zlib.compress(b"\x00\xff\x00\x00" * 16)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


def _zip_one_entry(name: str, size: int) -> bytes:
    """A zip whose single entry inflates to `size` bytes at a ratio under 100:1 (not a 'bomb')."""
    buffer = io.BytesIO()
    rng = random.Random(3)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open(name, "w", force_zip64=True) as out:
        out.write(FRONT.format(title="Big entry").encode())
        line = b"All work and no play makes a dull post. " * 25 + b"\n"
        written = 0
        while written < size:
            # A random word every ~1.6 KB keeps deflate near 90:1, just under the ratio limit.
            piece = line + b"%08x\n" % rng.getrandbits(32)
            out.write(piece)
            written += len(piece)
    return buffer.getvalue()


YAML_BOMB = """---
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
title: bomb
---
body
"""

JSON_FEED_HEAD = '{"version": "https://jsonfeed.org/version/1.1", "title": "Feed", "items": ['


def _json_feed(item: str) -> bytes:
    return (JSON_FEED_HEAD + item + "]}").encode()


def hostile_inputs() -> Iterator[Hostile]:
    """Every hostile input, cheapest first within each class."""
    # Item 1: super-linear time.
    yield Hostile("liquid-braces.md", "time", "archived", lambda: _post("Braces", "{{" * 100_000))
    yield Hostile("liquid-tags.md", "time", "archived", lambda: _post("Tags", "{%" * 100_000))
    yield Hostile("hugo-open.md", "time", "archived", lambda: _post("Hugo", "{{< x " * 40_000))
    yield Hostile("liquid-raw-open.md", "time", "archived", lambda: _post("Raw", "{% raw %}" * 25_000))
    yield Hostile("newlines.md", "time", "archived", lambda: _post("Newlines", "a\n" + "\n" * 200_000 + "b\n"))
    yield Hostile("newlines-wordpress.md", "time", "archived", lambda: (
        "---\npost_title: Newlines\nID: 7\n---\n<p>a</p>" + "\n" * 200_000 + "b\n").encode())
    yield Hostile("br-spaces.html.md", "time", "archived", lambda: _post(
        "Breaks", "<p>a" + "<br>" + " " * 200_000 + "x</p>"))
    yield Hostile("empty-em-nested.md", "time", "archived", lambda: _post(
        "Em", "<p>text</p>\n<div>" + "<em>" * 10_000 + "</em>" * 10_000 + "</div>"))
    yield Hostile("empty-em-unclosed.md", "time", "archived", lambda: _post(
        "Em", "<div><p>text</p>" + "<em>" * 10_000 + "</div>"))
    yield Hostile("empty-em-siblings.md", "time", "archived", lambda: _post(
        "Em", "<div><p>text</p>" + "<em> </em>" * 10_000 + "</div>"))
    yield Hostile("shortcode-open.md", "time", "archived", lambda: _post("Shortcodes", "[caption " * 25_000))
    yield Hostile("shortcode-media.md", "time", "archived", lambda: _post("Media", "[video]" * 30_000))
    yield Hostile("shortcode-code.md", "time", "archived", lambda: _post("Code", "[code]" * 30_000))
    yield Hostile("pre-open.md", "time", "archived", lambda: _post("Pre", "<div>" + "<pre " * 40_000 + "</div>"))
    yield Hostile("iframe-spaces.md", "time", "archived", lambda: _post(
        "Iframe", "<div><iframe" + " " * 200_000 + "</div>"))
    yield Hostile("tags-100k.md", "time", "archived", lambda: (
        "---\ntitle: Tags\ntags: [" + ", ".join(f"t{i}" for i in range(100_000)) + "]\n---\nbody\n").encode())
    yield Hostile("post-3mb.md", "time", "archived", lambda: _post("Three", _paragraphs(3 * 1024**2)))
    # Item 2: unbounded memory.
    yield Hostile("yaml-alias-bomb.md", "memory", "bad_front_matter", lambda: YAML_BOMB.encode())
    yield Hostile("post-50mb.md", "memory", "post_too_large", lambda: _post("Fifty", _paragraphs(50 * 1024**2)))
    yield Hostile("zip-250mb-entry.zip", "memory", "post_too_large",
                  lambda: _zip_one_entry("big.md", 250 * 1024**2))
    # Item 7: bad input, clear outcome.
    yield Hostile("json-nesting.json", "bad-input", "parse_error", lambda: _json_feed(
        '{"id": "1", "title": "x", "content_text": "y", "_x": ' + "[" * 100_000 + "]" * 100_000 + "}"))
    yield Hostile("wp-nesting.json", "bad-input", "parse_error", lambda: (
        '[{"title": {"rendered": "x"}, "content": {"rendered": "y"}, "meta": '
        + "[" * 100_000 + "]" * 100_000 + "}]").encode())
    yield Hostile("yaml-nesting.md", "bad-input", "bad_front_matter", lambda: (
        "---\ntitle: x\nmeta: " + "[" * 50_000 + "]" * 50_000 + "\n---\nbody\n").encode())
    yield Hostile("toml-nesting.md", "bad-input", "bad_front_matter", lambda: (
        "+++\ntitle = 'x'\nmeta = " + "[" * 50_000 + "]" * 50_000 + "\n+++\nbody\n").encode())
    yield Hostile("json-front-nesting.md", "bad-input", "bad_front_matter", lambda: (
        '{\n"title": "x", "meta": ' + "[" * 100_000 + "]" * 100_000 + "\n}\nbody\n").encode())
    yield Hostile("json-bigint.json", "bad-input", "archived", lambda: _json_feed(
        '{"id": "1", "title": "x", "content_text": "y", "n": ' + "7" * 5000 + "}"))
    yield Hostile("yaml-bigint.md", "bad-input", "archived", lambda: (
        "---\ntitle: x\nn: " + "7" * 5000 + "\nh: 0x" + "f" * 5000 + "\n---\nbody\n").encode())
    yield Hostile("toml-bigint.md", "bad-input", "bad_front_matter", lambda: (
        "+++\ntitle = 'x'\nn = " + "7" * 5000 + "\n+++\nbody\n").encode())
    yield Hostile("json-nan.json", "bad-input", "archived", lambda: _json_feed(
        '{"id": "1", "title": "x", "content_text": "y", "score": NaN, "max": Infinity, "min": -Infinity}'))
    yield Hostile("yaml-inf.md", "bad-input", "archived", lambda: (
        b"---\ntitle: x\nscore: .inf\nlow: -.inf\nnone: .nan\n---\nbody\n"))
    yield Hostile("image.md", "bad-input", "unsupported_format", _png)
    yield Hostile("cp1252.md", "bad-input", "archived", lambda: (
        "---\ntitle: Caf\u00e9 \u201cquoted\u201d \u2013 na\u00efve\n---\nCr\u00e8me br\u00fbl\u00e9e \u2014 "
        "d\u00e9j\u00e0 vu, \u00a9 2024 \u20ac5.\n").encode("cp1252"))
    yield Hostile("latin1.md", "bad-input", "archived", lambda: (
        "---\ntitle: Se\u00f1or Mu\u00f1oz\n---\nEl ni\u00f1o comi\u00f3 pi\u00f1a en Espa\u00f1a, \u00bfverdad?\n"
    ).encode("latin-1"))
    yield Hostile("utf16-bom.md", "bad-input", "archived", lambda: (
        "---\ntitle: Sixteen \u00e9t\u00e9\n---\nBody in UTF-16 with a byte order mark.\n").encode("utf-16"))
    yield Hostile("utf16le.md", "bad-input", "archived", lambda: (
        "---\ntitle: Sixteen \u00e9t\u00e9\n---\nBody in UTF-16 without a byte order mark.\n").encode("utf-16-le"))
    yield Hostile("template-title.md", "bad-input", "archived", lambda: _post(
        "'Using the <template> element in 2024'", "Body."))
    yield Hostile("control-chars.md", "bad-input", "archived", lambda: (
        b"---\ntitle: \"Nul\\0 Esc\\e[31m red \\u202Egnp.exe\"\nurl: \"https://example.com/a\\0b\\u202E\"\n---\n"
        b"body\n"))
    yield Hostile("long-host.md", "bad-input", "archived", lambda: _post(
        "Long host", "body").replace(b"date:", b"url: https://" + b"a" * 2000 + b".example.com/post\ndate:"))
    # Item 8: sanitizer.
    yield Hostile("cite-javascript.md", "sanitizer", "archived", lambda: _post(
        "Cite", '<blockquote cite="javascript:alert(1)">q</blockquote><p><q cite="javascript:alert(2)">q</q></p>'))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    for item in hostile_inputs():
        if args.only and item.name not in args.only:
            continue
        path = args.dir / item.name
        if not path.exists():
            path.write_bytes(item.build())
        print(f"{item.name}\t{item.kind}\t{path.stat().st_size}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
