"""`make demo-fetch`: the second scheduled run archives nothing and asks only conditionally."""

from __future__ import annotations

import importlib.util
import io
import os
import sys
from pathlib import Path

from archiver.local.stack import LocalAWS

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_demo_fetch_second_run_is_conditional_and_archives_nothing(clean_aws: LocalAWS) -> None:
    spec = importlib.util.spec_from_file_location("demo_fetch", REPO_ROOT / "scripts" / "demo_fetch.py")
    demo = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = demo  # its dataclasses look their module up there
    spec.loader.exec_module(demo)
    saved = dict(os.environ)
    try:
        out = io.StringIO()
        first, second = demo.run_demo(out)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert {r["kind"] for r in first.reports} == {"feed", "wordpress", "sitemap"}  # found from home pages
    assert sum(r["new"] for r in first.reports) == 3 + 3 + 2
    assert all(r["status"] == "archived" for r in first.reports)
    assert sum(r["new"] + r["updated"] for r in second.reports) == 0
    # One per feed and API, one per sitemap document (the index and its child): no robots.txt again, no pages.
    assert len(second.requests) == 4
    assert all(demo.is_conditional(r) for r in second.requests)
    assert [r.conditional for r in second.requests].count(True) == 3  # feed, sitemap index and its child: 304
    assert "run 2: 3 host jobs" in out.getvalue()
