"""Where the CLI's commands act: a deployed stack's resources, from its outputs or the environment.

`--stack NAME` reads the CloudFormation stack's outputs (TableName, ArchiveBucketName, ...);
otherwise TABLE_NAME, ARCHIVE_BUCKET, FETCH_QUEUE_URL come from the environment, as in Lambda.
AWS_ENDPOINT_URL points every client at a local stack instead of AWS.
"""

from __future__ import annotations

import dataclasses

from archiver.config import Settings
from archiver.errors import ArchiverError

# Stack output -> the Settings field it fills.
OUTPUTS = {"TableName": "table_name", "ArchiveBucketName": "archive_bucket", "InboxBucketName": "inbox_bucket",
           "FetchQueueUrl": "fetch_queue_url", "InboxQueueUrl": "queue_url"}


class NotConfigured(ArchiverError):
    code = "not_configured"
    stage = "cli"


def target_settings(stack: str | None = None) -> Settings:
    """Settings from the environment, with a stack's outputs filled in when one is named."""
    settings = Settings.from_env()
    if stack:
        import boto3

        try:
            outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
        except Exception as exc:  # botocore errors of every kind: say which stack and why, in one line
            raise NotConfigured(f"cannot read the outputs of stack {stack!r}: {exc}") from exc
        found = {OUTPUTS[o["OutputKey"]]: o["OutputValue"] for o in outputs if o["OutputKey"] in OUTPUTS}
        settings = dataclasses.replace(settings, **found)
    if not settings.table_name:
        raise NotConfigured("no archive table: pass --stack NAME or set TABLE_NAME (and ARCHIVE_BUCKET)")
    return settings


def stack_output(stack: str, key: str) -> str:
    """One output of a deployed stack (e.g. ReprocessStateMachineArn)."""
    import boto3

    try:
        outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    except Exception as exc:  # botocore errors of every kind: say which stack and why, in one line
        raise NotConfigured(f"cannot read the outputs of stack {stack!r}: {exc}") from exc
    for output in outputs:
        if output["OutputKey"] == key:
            return output["OutputValue"]
    raise NotConfigured(f"stack {stack!r} has no output {key} (deployed from an older template?)")
