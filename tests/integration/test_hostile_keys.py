"""A post whose host name is 2,000 characters long is archived under a key S3 accepts and exported to disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_a_2000_character_host_is_archived_and_exported(tmp_path: Path) -> None:
    post = tmp_path / "long-host.md"
    post.write_text("---\ntitle: Long host\nurl: https://" + "a" * 2000 + ".example.com/post\n"
                    "date: 2024-05-01\n---\nBody.\n")
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "archiver", "local", "ingest", str(post), "--export", str(out)],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "archived"
    [page] = (out / "posts").rglob("index.html")
    key = page.relative_to(out).as_posix()
    assert len(key.encode()) <= 1024  # S3's limit for a key
    assert all(len(part.encode()) <= 255 for part in key.split("/"))  # a file system's for a name
    assert (page.parent / "post.json").is_file()
