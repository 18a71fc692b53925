#!/usr/bin/env python3
"""Write events/bundles/harbour-blog.zip: a small Hugo site (config, two posts, its images in static/ and
in a page bundle), the sample `make demo` archives with its media. Deterministic: the same bytes each run."""

from __future__ import annotations

import struct
import sys
import zipfile
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "events" / "bundles" / "harbour-blog.zip"


def gradient_png(width: int, height: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> bytes:
    """A PNG fading from `top` to `bottom`, with a lighter band (a horizon) two thirds down."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = bytearray()
    for y in range(height):
        t = y / max(1, height - 1)
        color = bytes(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        if abs(y - 2 * height // 3) < 2:
            color = bytes(min(255, c + 60) for c in color)
        rows += b"\x00" + color * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + \
        chunk(b"IEND", b"")


FILES = {
    "harbour-blog/config.toml": b'baseURL = "https://harbour-blog.example/"\ntitle = "Harbour notes"\n',
    "harbour-blog/content/post/harbour-at-dawn.md": b"""---
title: The harbour at dawn
date: 2024-05-04T06:30:00+02:00
tags: [harbour, photos]
---
The first ferry leaves at half past six, when the light comes over the breakwater.

![The harbour at dawn, from the breakwater](/img/harbour-dawn.png)

By seven the fish market is open and the quay smells of diesel and salt.
""",
    "harbour-blog/content/post/new-ferry/index.md": b"""---
title: A new ferry for the island line
date: 2024-05-06T12:00:00+02:00
tags: [ferries]
---
The island line has a new ferry: larger, quieter, and with room for forty bicycles.

![The new ferry at its berth](ferry.png)
""",
    "harbour-blog/static/img/harbour-dawn.png": gradient_png(480, 270, (250, 170, 110), (30, 60, 110)),
    "harbour-blog/content/post/new-ferry/ferry.png": gradient_png(480, 270, (150, 200, 235), (20, 70, 90)),
}


def main() -> int:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(OUT, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in FILES.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 5, 6, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
