"""LocalAWS creates template.yaml's resources in moto's server, and the inbox notifies its queue.

Everything goes over HTTP to the moto server on 127.0.0.1; expected values are read from the
template, not repeated here.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any
from urllib.parse import unquote_plus

import pytest

from archiver.local.stack import LocalAWS

# Bounded polling: the notification is usually there on the first receive.
MAX_RECEIVES = 10


def props(aws: LocalAWS, logical_id: str) -> dict[str, Any]:
    return aws.template["Resources"][logical_id]["Properties"]


def receive_all(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Receive (and delete) every message currently in the queue, with a bounded number of calls."""
    messages: list[dict[str, Any]] = []
    for _ in range(MAX_RECEIVES):
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        received = batch.get("Messages", [])
        if not received and messages:
            break
        for message in received:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        messages.extend(received)
    return messages


def test_boto3_is_pointed_at_the_local_server(local_aws: LocalAWS):
    assert os.environ["AWS_ENDPOINT_URL"] == local_aws.endpoint_url
    assert local_aws.endpoint_url.startswith("http://127.0.0.1:")


def test_function_environment_names_the_created_resources(local_aws: LocalAWS):
    resources = local_aws.resources
    assert resources.environment["INBOX_BUCKET"] == resources.inbox_bucket
    assert resources.environment["ARCHIVE_BUCKET"] == resources.archive_bucket
    assert resources.environment["TABLE_NAME"] == resources.table_name
    s3 = local_aws.client("s3")
    s3.head_bucket(Bucket=resources.inbox_bucket)
    s3.head_bucket(Bucket=resources.archive_bucket)


def test_archive_bucket_is_versioned_encrypted_and_private(local_aws: LocalAWS):
    s3 = local_aws.client("s3")
    bucket = local_aws.resources.archive_bucket
    expected = props(local_aws, "ArchiveBucket")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == expected["VersioningConfiguration"]["Status"]
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == expected["PublicAccessBlockConfiguration"]
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert ownership == expected["OwnershipControls"]


def test_inbox_is_versioned_and_its_old_versions_expire(local_aws: LocalAWS):
    s3 = local_aws.client("s3")
    inbox = local_aws.resources.inbox_bucket
    assert s3.get_bucket_versioning(Bucket=inbox)["Status"] == "Enabled"
    rules = {rule["ID"]: rule for rule in s3.get_bucket_lifecycle_configuration(Bucket=inbox)["Rules"]}
    assert rules["ExpireOldInboxVersions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert rules["RemoveExpiredDeleteMarkers"]["Expiration"] == {"ExpiredObjectDeleteMarker": True}


def test_table_has_the_template_keys_indexes_billing_and_recovery(local_aws: LocalAWS):
    dynamodb = local_aws.client("dynamodb")
    expected = props(local_aws, "ArchiveTable")
    table = dynamodb.describe_table(TableName=local_aws.resources.table_name)["Table"]
    assert table["KeySchema"] == expected["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(expected["AttributeDefinitions"], key=str)
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    for index in expected["GlobalSecondaryIndexes"]:
        assert indexes[index["IndexName"]]["KeySchema"] == index["KeySchema"]
        assert indexes[index["IndexName"]]["Projection"] == index["Projection"]
    backups = dynamodb.describe_continuous_backups(TableName=local_aws.resources.table_name)
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


def test_inbox_queue_redrives_to_the_dead_letter_queue(local_aws: LocalAWS):
    sqs = local_aws.client("sqs")
    resources = local_aws.resources
    expected = props(local_aws, "InboxQueue")
    attributes = sqs.get_queue_attributes(QueueUrl=resources.queue_url, AttributeNames=["All"])["Attributes"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=resources.dead_letter_queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq_arn
    assert int(redrive["maxReceiveCount"]) == expected["RedrivePolicy"]["maxReceiveCount"]
    assert int(attributes["VisibilityTimeout"]) == expected["VisibilityTimeout"]
    dlq = sqs.get_queue_attributes(QueueUrl=resources.dead_letter_queue_url, AttributeNames=["All"])
    expected_retention = props(local_aws, "InboxDeadLetterQueue")["MessageRetentionPeriod"]
    assert int(dlq["Attributes"]["MessageRetentionPeriod"]) == expected_retention


def test_inbox_upload_queues_an_object_created_record_with_a_url_encoded_key(clean_aws: LocalAWS):
    resources = clean_aws.resources
    s3 = clean_aws.client("s3")
    sqs = clean_aws.client("sqs")
    key = "inbox/Café au lait.md"
    s3.put_object(Bucket=resources.inbox_bucket, Key=key, Body=b"---\ntitle: Caf\xc3\xa9\n---\nBody\n")

    bodies = [json.loads(message["Body"]) for message in receive_all(sqs, resources.queue_url)]
    records = [record for body in bodies if body.get("Event") != "s3:TestEvent" for record in body["Records"]]

    assert len(records) == 1
    (record,) = records
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"].startswith("ObjectCreated:")
    assert record["s3"]["bucket"]["name"] == resources.inbox_bucket
    encoded = record["s3"]["object"]["key"]
    assert " " not in encoded and "é" not in encoded
    assert "+" in encoded and "%C3%A9" in encoded
    assert unquote_plus(encoded) == key


def test_nested_local_aws_keeps_the_state_and_restores_the_environment(local_aws: LocalAWS):
    outer_endpoint = os.environ["AWS_ENDPOINT_URL"]
    with LocalAWS(local_aws.template_path) as inner:
        assert os.environ["AWS_ENDPOINT_URL"] == inner.endpoint_url != outer_endpoint
        inner.client("s3").head_bucket(Bucket=local_aws.resources.archive_bucket)
    assert os.environ["AWS_ENDPOINT_URL"] == outer_endpoint


def test_local_aws_refuses_use_before_start(repo_root):
    with pytest.raises(RuntimeError, match="not started"):
        _ = LocalAWS(repo_root / "template.yaml").endpoint_url


def test_concurrent_conditional_counter_updates_each_get_a_distinct_value(local_aws: LocalAWS):
    """DynamoDB makes a conditional `SET v = v + 1` atomic; the local stack must too, or two local
    writers claim one version number (moto's server handles each request on its own thread)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    writers, updates_each = 32, 10
    table = local_aws.resources.table_name
    key = {"pk": {"S": f"COUNTER#{uuid.uuid4().hex}"}, "sk": {"S": "LATEST"}}
    # An item the size of a post's LATEST item: the server takes longer over each update, as it does in use.
    fields = {f"field{i}": {"S": "x" * 200} for i in range(300)}
    local_aws.client("dynamodb").put_item(TableName=table, Item={**key, **fields, "v": {"N": "0"}})
    start = Barrier(writers)

    def count(_: int) -> list[int]:
        dynamodb = local_aws.client("dynamodb")  # a client (and connection pool) per thread
        start.wait()
        values = []
        for _ in range(updates_each):
            response = dynamodb.update_item(
                TableName=table, Key=key, UpdateExpression="SET v = v + :one",
                ConditionExpression="v < :cap",
                ExpressionAttributeValues={":one": {"N": "1"}, ":cap": {"N": "100000"}},
                ReturnValues="UPDATED_NEW")
            values.append(int(response["Attributes"]["v"]["N"]))
        return values

    with ThreadPoolExecutor(writers) as pool:
        values = [value for part in pool.map(count, range(writers)) for value in part]

    assert sorted(values) == list(range(1, writers * updates_each + 1))
