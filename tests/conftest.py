"""Shared fixtures: the repository root, the shared seed files, and the embedded local AWS.

The local AWS is moto's server on 127.0.0.1 with the resources of template.yaml (see
archiver.local.stack): integration tests talk to it over HTTP with ordinary boto3 clients.
moto keeps its state per process, so one stack serves the whole session; tests that need an
empty stack ask for `clean_aws`, the others use fresh keys and ids. Note that moto's in-process
`mock_aws` also resets that process-wide state: do not mix it with these fixtures in one test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.local.stack import LocalAWS

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout's root directory (where template.yaml lives)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def seed_dir(repo_root: Path) -> Path:
    """../shared/seed beside the checkout; the test is skipped when it is absent (e.g. a bare clone)."""
    path = repo_root.parent / "shared" / "seed"
    if not path.is_dir():
        pytest.skip(f"no seed files: {path} is absent")
    return path


@pytest.fixture(scope="session")
def local_aws(repo_root: Path) -> Iterator[LocalAWS]:
    """A started LocalAWS with template.yaml's resources created, shared by the whole session.

    `local_aws.resources` has the bucket, table and queue names and the function's environment;
    `local_aws.endpoint_url` is the server's http://127.0.0.1:PORT. While it runs, os.environ
    points boto3 at it (AWS_ENDPOINT_URL, dummy credentials, us-east-1); restored at session end.
    """
    with LocalAWS(repo_root / "template.yaml") as aws:
        aws.create_resources()
        yield aws


@pytest.fixture
def clean_aws(local_aws: LocalAWS) -> LocalAWS:
    """The session's LocalAWS, emptied and its resources created again for this test (~0.5 s)."""
    local_aws.reset()
    return local_aws
