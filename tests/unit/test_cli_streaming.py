"""`archiver normalize` writes each post as soon as it is built: memory stays flat in the number of posts.

Checked by order, not by measuring: the first post is on stdout before the second is normalized.
(`make bench` measures the peak memory: scripts/bench_normalize_memory.py.)
"""

from __future__ import annotations

import make_wxr  # scripts/ (pytest's pythonpath)

from archiver import pipeline
from archiver.cli import main


def test_each_post_is_written_before_the_next_is_normalized(tmp_path, monkeypatch, capsys):
    export = tmp_path / "export.xml"
    export.write_text(make_wxr.export_with_posts(5), encoding="utf-8")
    events: list[str] = []
    real_normalize = pipeline.normalize

    def recording_normalize(raw, *args, **kwargs):
        events.append(f"normalize {raw.title}")
        return real_normalize(raw, *args, **kwargs)

    class RecordingStdout:
        def write(self, text: str) -> None:
            events.append("write")

    monkeypatch.setattr(pipeline, "normalize", recording_normalize)
    monkeypatch.setattr("sys.stdout", RecordingStdout())
    assert main(["normalize", str(export)]) == 0
    kinds = [event.split()[0] for event in events]
    assert kinds == ["normalize", "write"] * (len(kinds) // 2) and len(kinds) >= 8


def test_a_failing_file_is_one_line_on_stderr_and_the_next_file_is_still_read(tmp_path, capsys):
    broken = tmp_path / "broken.md"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    good = tmp_path / "good.md"
    good.write_text("---\ntitle: Good\n---\nBody\n", encoding="utf-8")
    assert main(["normalize", str(broken), str(good)]) == 1
    out, err = capsys.readouterr()
    assert '"title": "Good"' in out
    assert err.count("\n") == 1 and "unsupported_format" in err and "Traceback" not in err
