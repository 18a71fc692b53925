"""samconfig.toml: the environments `make deploy` uses (default: guided the first time; prod: ready to deploy)."""

from __future__ import annotations

import shlex
import tomllib
from pathlib import Path

from archiver.local.template import load_template

ROOT = Path(__file__).resolve().parents[2]


def config() -> dict:
    return tomllib.loads((ROOT / "samconfig.toml").read_text("utf-8"))


def test_default_has_no_deploy_parameters_so_the_first_make_deploy_is_guided():
    environments = config()
    assert "default" in environments
    assert "deploy" not in environments["default"]  # `sam deploy --guided` writes them on the first run
    makefile = (ROOT / "Makefile").read_text("utf-8")
    assert "grep -q '^\\[$(CONFIG_ENV)\\.deploy\\.parameters\\]' samconfig.toml" in makefile
    assert "sam deploy --guided --config-env $(CONFIG_ENV)" in makefile


def test_prod_deploys_its_own_stack_and_shows_the_change_set_first():
    deploy = config()["prod"]["deploy"]["parameters"]
    assert deploy["stack_name"] == "post-archiver-prod"
    assert deploy["confirm_changeset"] is True
    assert "CAPABILITY_IAM" in deploy["capabilities"]
    overrides = dict(item.split("=", 1) for item in shlex.split(deploy["parameter_overrides"]))
    assert set(overrides) <= set(load_template(ROOT / "template.yaml")["Parameters"])
