"""Where the CLI's commands act: which AWS (endpoint, region) and which resources of a deployed stack.

Every command that touches AWS resolves its target here, once, in this order:

1. the command's own options (`--table`, `--archive-bucket`, where it has them);
2. `--stack NAME`: the CloudFormation stack's outputs (TableName, ArchiveBucketName, InboxBucketName,
   InboxQueueUrl, FetchQueueUrl);
3. the environment, as Lambda sets it: TABLE_NAME, ARCHIVE_BUCKET, INBOX_BUCKET, QUEUE_URL,
   FETCH_QUEUE_URL, DEFAULT_TIMEZONE... (archiver.config).

The endpoint is `--endpoint-url`, else AWS_ENDPOINT_URL, else AWS's own. The region is the
environment's (AWS_REGION, else AWS_DEFAULT_REGION or the profile's), else the stack's (the region of
a stack ARN given as `--stack`, or of the samconfig.toml environment that deploys a stack of that
name), else us-east-1 for a local endpoint (127.0.0.1 or localhost: where `archiver local` creates
everything); otherwise the command stops with a one-line `not_configured` error. A local endpoint
without AWS_ACCESS_KEY_ID gets moto's dummy credentials. docs/cli.md shows it in use.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from archiver.config import Settings
from archiver.errors import ArchiverError

if TYPE_CHECKING:
    from archiver.store import ArchiveStore

# Stack output -> the Settings field it fills.
OUTPUTS = {"TableName": "table_name", "ArchiveBucketName": "archive_bucket", "InboxBucketName": "inbox_bucket",
           "FetchQueueUrl": "fetch_queue_url", "InboxQueueUrl": "queue_url"}
# What a missing setting is called: its environment variable and the command-line option that can give it.
SETTING_NAMES = {"table_name": ("archive table", "TABLE_NAME", "--table"),
                 "archive_bucket": ("archive bucket", "ARCHIVE_BUCKET", "--archive-bucket"),
                 "inbox_bucket": ("inbox bucket", "INBOX_BUCKET", None),
                 "queue_url": ("inbox queue", "QUEUE_URL", None),
                 "fetch_queue_url": ("fetch queue", "FETCH_QUEUE_URL", None)}
LOCAL_HOSTS = ("127.0.0.1", "localhost")
LOCAL_REGION = "us-east-1"  # the region of everything `archiver local` creates (archiver.local.stack.REGION)
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}  # moto takes any
SAMCONFIG = "samconfig.toml"


class NotConfigured(ArchiverError):
    code = "not_configured"
    stage = "cli"


@dataclasses.dataclass(frozen=True)
class Target:
    """Where a command acts: its settings (resource names from the stack or the environment), and the
    AWS endpoint and region they live in. `outputs` holds every output of the stack named, if any."""

    settings: Settings
    region: str
    endpoint_url: str | None = None
    stack: str | None = None
    outputs: Mapping[str, str] = dataclasses.field(default_factory=dict)
    offered: frozenset[str] = frozenset()  # settings the command has an option for (named in errors)

    @property
    def local(self) -> bool:
        return is_local_endpoint(self.endpoint_url)

    def client(self, service: str) -> Any:
        """A boto3 client (archiver.clients: retries, the shared session) for this endpoint and region."""
        from archiver.clients import client

        return client(service, **client_options(self.region, self.endpoint_url))

    def require(self, *fields: str) -> Settings:
        """The settings, or NotConfigured naming the first of `fields` that nothing gave."""
        for name in fields:
            if not getattr(self.settings, name):
                what, variable, option = SETTING_NAMES[name]
                ways = ["--stack NAME", *([f"{option} NAME"] if option and name in self.offered else [])]
                raise NotConfigured(f"no {what}: pass {' or '.join(ways)}, or set {variable}")
        return self.settings

    def store(self, *, bucket: bool = True) -> ArchiveStore:
        """The archive store; with `bucket=False` for commands that only read the table."""
        from archiver.store import ArchiveStore

        settings = self.require("table_name", *(["archive_bucket"] if bucket else []))
        # The store wants a bucket named; a command that only reads the table gets no S3 client to use one.
        return ArchiveStore(self.client("s3") if bucket else None, self.client("dynamodb"),
                            archive_bucket=settings.archive_bucket or "(none)", table_name=settings.table_name)

    def output(self, key: str) -> str:
        """One output of the stack (e.g. ReprocessStateMachineArn)."""
        if not self.stack:
            raise NotConfigured(f"{key} is a stack's output: pass --stack NAME")
        if key not in self.outputs:
            raise NotConfigured(f"stack {self.stack!r} has no output {key} (deployed from an older template?)")
        return self.outputs[key]


def resolve_target(stack: str | None = None, endpoint_url: str | None = None,
                   overrides: Mapping[str, str | None] | None = None) -> Target:
    """The target of a command, in the order the module docstring gives; `overrides` are the command's own
    options by Settings field (None: not given). Reads the stack's outputs when one is named."""
    overrides = dict(overrides or {})
    endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    region = resolve_region(stack, endpoint_url)
    settings = Settings.from_env()
    outputs: dict[str, str] = {}
    if stack:
        outputs = stack_outputs(stack, region, endpoint_url)
        settings = dataclasses.replace(settings, **{OUTPUTS[k]: v for k, v in outputs.items() if k in OUTPUTS})
    settings = dataclasses.replace(settings, **{k: v for k, v in overrides.items() if v})
    return Target(settings=settings, region=region, endpoint_url=endpoint_url, stack=stack, outputs=outputs,
                  offered=frozenset(overrides))


def resolve_region(stack: str | None, endpoint_url: str | None) -> str:
    """The environment's region, else the stack's, else us-east-1 for a local endpoint; else NotConfigured."""
    region = os.environ.get("AWS_REGION") or _profile_region() or stack_region(stack)
    if region:
        return region
    if is_local_endpoint(endpoint_url):
        return LOCAL_REGION
    raise NotConfigured("no AWS region: set AWS_REGION (or a profile's region), pass --stack with a stack ARN, or "
                        "--endpoint-url http://127.0.0.1:PORT for a local stack")


def _profile_region() -> str | None:
    """AWS_DEFAULT_REGION or the profile's region, as botocore reads them."""
    from archiver.clients import session

    return session().region_name


def stack_region(stack: str | None, config_dir: Path | None = None) -> str | None:
    """The region of a stack ARN, or of the samconfig.toml environment (in `config_dir`, default the current
    folder) that deploys a stack of this name (`sam deploy --guided` saves it there)."""
    if not stack:
        return None
    if stack.startswith("arn:"):
        parts = stack.split(":")
        return parts[3] if len(parts) > 3 and parts[3] else None
    import tomllib

    path = (config_dir or Path.cwd()) / SAMCONFIG
    try:
        config = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None  # no samconfig here, or one that `sam` itself would refuse: not a source of regions
    for environment in config.values():
        for command in environment.values() if isinstance(environment, dict) else ():
            parameters = command.get("parameters", {}) if isinstance(command, dict) else {}
            if parameters.get("stack_name") == stack and parameters.get("region"):
                return str(parameters["region"])
    return None


def stack_outputs(stack: str, region: str, endpoint_url: str | None = None) -> dict[str, str]:
    """Every output of a deployed stack, by key."""
    from archiver.clients import client

    try:
        described = client("cloudformation", **client_options(region, endpoint_url)).describe_stacks(StackName=stack)
    except Exception as exc:  # botocore errors of every kind: say which stack and why, in one line
        hint = ""
        if is_local_endpoint(endpoint_url) and region != LOCAL_REGION:
            hint = f" (local stacks are in {LOCAL_REGION}, not {region}: set AWS_REGION={LOCAL_REGION})"
        raise NotConfigured(f"cannot read the outputs of stack {stack!r}: {exc}{hint}") from exc
    return {o["OutputKey"]: o["OutputValue"] for o in described["Stacks"][0].get("Outputs") or []}


def client_options(region: str, endpoint_url: str | None) -> dict[str, Any]:
    """boto3 client arguments for an endpoint and region: a local endpoint gets dummy credentials unless
    the environment names some."""
    options: dict[str, Any] = {"region_name": region}
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
        if is_local_endpoint(endpoint_url) and not os.environ.get("AWS_ACCESS_KEY_ID"):
            options.update(LOCAL_CREDENTIALS)
    return options


def is_local_endpoint(endpoint_url: str | None) -> bool:
    """An endpoint on this machine (127.0.0.1 or localhost): a local stack, never an AWS account."""
    return bool(endpoint_url) and urlsplit(endpoint_url).hostname in LOCAL_HOSTS
