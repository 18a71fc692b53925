"""The JSON Schema of archived posts, shipped with the library so users can validate against it."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

POST_SCHEMA = "post.v1.json"


@cache
def post_schema() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath(POST_SCHEMA).read_text("utf-8"))
