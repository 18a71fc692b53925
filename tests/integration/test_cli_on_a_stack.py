"""`failures`, `retry`, `copies`, `sources` against a stack deployed into the local AWS, found by its name.

As a user runs them after `make deploy-local`: `--stack NAME --endpoint-url URL`, and nothing else in
the environment (no region, no credentials, no TABLE_NAME).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from archiver.cli import main
from archiver.local.deploy import Deployment, archive_through_stack, deploy_stack
from archiver.local.stack import LocalAWS

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"
BROKEN = b"---\ntitle: A post whose front matter never ends\n\n<p>Body</p>\n"


@pytest.fixture(scope="module")
def stack(local_aws: LocalAWS, tmp_path_factory: pytest.TempPathFactory) -> tuple[Deployment, list[dict]]:
    """A deployed stack that archived one sample and failed one broken post: its deployment and outcome lines."""
    name = f"cli-{uuid.uuid4().hex[:6]}"
    deployment = deploy_stack(name, endpoint_url=local_aws.endpoint_url, template_path=local_aws.template_path,
                              clients=local_aws.client)
    broken = tmp_path_factory.mktemp("drop") / "broken.md"
    broken.write_bytes(BROKEN)
    lines = archive_through_stack(local_aws, name, [SAMPLES / "newswire-harbour-strike.txt", broken])
    assert [line["status"] for line in lines] == ["archived", "failed"]
    return deployment, lines


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """What a new user's shell has: no region, endpoint, credentials or table settings."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_PROFILE", "TABLE_NAME", "ARCHIVE_BUCKET", "QUEUE_URL", "FETCH_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.chdir(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict], str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, [json.loads(line) for line in out.splitlines()], err


def test_failures_retry_and_copies_find_a_local_stack_by_its_name(stack, local_aws, bare_environment, capsys):
    deployment, (archived, _) = stack
    where = ("--stack", deployment.stack_name, "--endpoint-url", local_aws.endpoint_url)
    inbox = deployment.outputs["InboxBucketName"]

    status, listed, err = run(capsys, "failures", *where)
    assert (status, err) == (0, "")
    assert [(line["input"], line["error"]["code"]) for line in listed] == [(f"{inbox}/broken.md", "bad_front_matter")]

    status, retried, err = run(capsys, "retry", f"{inbox}/broken.md", *where)
    assert status == 1  # read back from the stack's archive bucket, and still broken
    assert [(line["input"], line["status"], line["error"]["code"]) for line in retried] == [
        (f"{inbox}/broken.md", "failed", "bad_front_matter")]

    status, copies, err = run(capsys, "copies", "--post", archived["post_ids"][0], *where)
    assert (status, [copy["id"] for copy in copies]) == (0, archived["post_ids"])

    assert run(capsys, "sources", "list", *where) == (0, [], "")


def test_a_stack_that_does_not_exist_is_one_line(local_aws, bare_environment, capsys):
    status, out, err = run(capsys, "failures", "--stack", "no-such-stack", "--endpoint-url", local_aws.endpoint_url)
    assert (status, out) == (2, [])
    [line] = err.splitlines()
    assert line.startswith("archiver: not_configured: cannot read the outputs of stack 'no-such-stack': ")
