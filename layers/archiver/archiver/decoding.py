"""Text from bytes that declare no encoding, and binary content told apart from text.

Posts arrive as UTF-8 mostly, but old exports are windows-1252 or Latin-1, Windows tools write
UTF-16, and some "posts" are images with a `.md` name. UTF-8 is tried first (legacy text is
almost never valid UTF-8); UTF-16/32 are recognised by their byte order mark or by the NUL bytes
of their ASCII characters; anything else is guessed, and the guess is named in a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BOMS = (  # longest first: a UTF-32-LE mark begins like a UTF-16-LE one
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
# Magic numbers of the binary files most often dropped by mistake (zip, gzip and tar are bundles).
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x7fELF", "an executable"),
    (b"MZ", "a Windows executable"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"BZh", "a bzip2 stream"),
    (b"\xfd7zXZ\x00", "an xz stream"),
    (b"\x28\xb5\x2f\xfd", "a zstd stream"),
    (b"OggS", "an Ogg media file"),
    (b"ID3", "an MP3 file"),
    (b"wOFF", "a web font"),
    (b"wOF2", "a web font"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document"),
)
_RIFF_KINDS = {b"WEBP": "a WebP image", b"WAVE": "a WAV file", b"AVI ": "an AVI video"}
# Legacy encodings whose letters are not Latin: a detector's guess among these beats windows-1252,
# which would read any of them as accented Latin letters. Latin guesses are too unreliable on
# short texts (a Spanish post "detected" as hp_roman8), so those fall back to windows-1252.
_NON_LATIN = {
    "cp1251", "koi8_r", "koi8_u", "iso8859_5", "mac_cyrillic", "cp866", "cp855",
    "cp1253", "iso8859_7", "cp1255", "iso8859_8", "cp1256", "iso8859_6", "cp874", "tis_620",
    "cp932", "shift_jis", "euc_jp", "iso2022_jp", "gb2312", "gbk", "gb18030", "big5", "big5hkscs",
    "cp950", "euc_kr", "cp949", "johab", "hz",
}  # fmt: skip
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
DETECT_SAMPLE = 64 * 1024  # bytes given to the detector: enough to tell, bounded time


@dataclass
class Decoded:
    text: str
    encoding: str
    warnings: list[str] = field(default_factory=list)


def bom_encoding(data: bytes) -> tuple[str, int] | None:
    """(codec, length of the mark) when `data` starts with a Unicode byte order mark, else None."""
    return next(((codec, len(bom)) for bom, codec in BOMS if data.startswith(bom)), None)


def wide_encoding(head: bytes) -> tuple[str, bool] | None:
    """The UTF-16/32 codec a text is in and whether that was guessed (no byte order mark), else None."""
    marked = bom_encoding(head)
    if marked:
        return (marked[0], False) if marked[0] != "utf-8" else None
    sample = head[:1024]
    if len(sample) < 4:
        return None
    # ASCII characters leave NUL bytes in fixed places: "a" is 61 00 (LE) or 00 61 (BE).
    def nul_share(offset: int, step: int) -> float:
        part = sample[offset::step]
        return part.count(0) / max(len(part), 1)

    if min(nul_share(1, 4), nul_share(2, 4), nul_share(3, 4)) > 0.6 and nul_share(0, 4) < 0.1:
        return "utf-32-le", True
    if min(nul_share(0, 4), nul_share(1, 4), nul_share(2, 4)) > 0.6 and nul_share(3, 4) < 0.1:
        return "utf-32-be", True
    even, odd = nul_share(0, 2), nul_share(1, 2)
    if odd > 0.3 and even < 0.05:
        return "utf-16-le", True
    if even > 0.3 and odd < 0.05:
        return "utf-16-be", True
    return None


def binary_kind(head: bytes) -> str | None:
    """What a binary file is ("a PNG image", "binary data"), or None when the bytes read as text."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith(b"RIFF") and head[8:12] in _RIFF_KINDS:
        return _RIFF_KINDS[head[8:12]]
    if head[4:8] == b"ftyp":
        return "an MP4/QuickTime media file"
    if wide_encoding(head) is not None:
        return None
    if b"\x00" in head:
        return "binary data (NUL bytes)"
    controls = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 12, 13, 27))
    if head and controls / len(head) > 0.1:
        return "binary data (control bytes)"
    return None


def decode_text(data: bytes) -> Decoded:
    """Text of bytes with no declared encoding: BOM, then UTF-8, then UTF-16/32 by NULs, then a guess."""
    wide = wide_encoding(data[:1024])
    if wide is not None:
        codec, guessed = wide
        bom = next((len(b) for b, c in BOMS if c == codec and data.startswith(b)), 0)
        text = data[bom:].decode(codec, errors="replace")
        warnings = [f"no byte order mark: read as {codec.upper()} (guessed from its NUL bytes)"] if guessed else []
        return Decoded(text, codec, warnings)
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        return Decoded(body.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        invalid_at = exc.start
    codec = _guess_legacy(data)
    text = data.decode(codec, errors="replace")
    return Decoded(text, codec, [f"not UTF-8 (invalid byte at {invalid_at}) and no encoding declared: "
                                 f"read as {codec} (guessed)"])


def _guess_legacy(data: bytes) -> str:
    """A detector's guess when it names a non-Latin legacy encoding; else windows-1252 (Latin-1)."""
    try:
        from charset_normalizer import from_bytes  # only non-UTF-8 inputs pay for this import

        best = from_bytes(data[:DETECT_SAMPLE]).best()
    except Exception:  # a detector failure must not lose the post: fall back to the common case
        best = None
    if best is not None and best.encoding in _NON_LATIN:
        return best.encoding
    # Bytes windows-1252 leaves undefined read as Latin-1 control characters rather than U+FFFD.
    return "latin-1" if _CP1252_UNDEFINED & set(data[:DETECT_SAMPLE]) else "cp1252"
