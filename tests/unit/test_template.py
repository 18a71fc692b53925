"""template.yaml: loading with short tags, the intrinsic resolver, and the properties we rely on."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from archiver.local.stack import IGNORED_TYPES, creation_order, local_bucket_policy
from archiver.local.template import (
    TemplateNotFound,
    UnresolvedReference,
    base_context,
    find_template,
    function_environment,
    load_template,
    resolve,
)

FUNCTION_ENV = {
    "INBOX_BUCKET",
    "ARCHIVE_BUCKET",
    "TABLE_NAME",
    "DEFAULT_TIMEZONE",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "LOG_LEVEL",
}


@pytest.fixture(scope="module")
def template(repo_root: Path) -> dict[str, Any]:
    return load_template(repo_root / "template.yaml")


def props(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return template["Resources"][logical_id]["Properties"]


def function_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    statements = []
    for policy in props(template, "ArchiverFunction")["Policies"]:
        assert isinstance(policy, dict), f"only inline policies are allowed, found {policy!r}"
        statements.extend(policy["Statement"])
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# -- loading and resolving


def test_template_loads_with_short_tags_as_long_form_intrinsics(template):
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    stack_suffix = {"Fn::Select": [4, {"Fn::Split": ["-", {"Fn::Select": [2, {"Fn::Split": [
        "/", {"Ref": "AWS::StackId"}]}]}]}]}
    assert props(template, "InboxBucket")["BucketName"] == {
        "Fn::Sub": ["${NamePrefix}-inbox-${StackSuffix}", {"StackSuffix": stack_suffix}]
    }
    assert props(template, "ArchiverFunction")["Layers"] == [{"Ref": "ArchiverLayer"}]
    queue = props(template, "InboxBucket")["NotificationConfiguration"]["QueueConfigurations"][0]["Queue"]
    assert queue == {"Fn::GetAtt": ["InboxQueue", "Arn"]}


def test_resolve_evaluates_ref_sub_getatt_and_join():
    context = {"Name": "blog", "AWS::Region": "us-east-1", "Queue.Arn": "arn:q"}
    assert resolve({"Ref": "Name"}, context) == "blog"
    assert resolve({"Fn::Sub": "${Name}-${AWS::Region}"}, context) == "blog-us-east-1"
    assert resolve({"Fn::Sub": ["${X}/${Queue.Arn}", {"X": {"Ref": "Name"}}]}, context) == "blog/arn:q"
    assert resolve({"Fn::Sub": "${!Literal}"}, context) == "${Literal}"
    assert resolve({"Fn::GetAtt": ["Queue", "Arn"]}, context) == "arn:q"
    assert resolve({"Fn::Join": ["-", ["a", {"Ref": "Name"}]]}, context) == "a-blog"
    assert resolve({"Fn::Select": [1, {"Fn::Split": [",", "x,y"]}]}, context) == "y"
    assert resolve({"Keep": 1, "Drop": {"Ref": "AWS::NoValue"}}, context) == {"Keep": 1}


def test_resolve_names_the_missing_reference():
    with pytest.raises(UnresolvedReference, match="InboxBucket"):
        resolve({"Fn::Sub": "arn:aws:s3:::${InboxBucket}"}, {})


def test_bucket_names_resolve_from_parameter_defaults_and_pseudo_parameters(template):
    context = base_context(template)
    assert resolve(props(template, "InboxBucket")["BucketName"], context) == "post-archiver-inbox-000000000000"
    overridden = base_context(template, {"NamePrefix": "blog"})
    assert resolve(props(template, "ArchiveTable")["TableName"], overridden) == "blog-archive-000000000000"


NAMED = {"InboxBucket": "BucketName", "ArchiveBucket": "BucketName", "AccessLogsBucket": "BucketName",
         "ArchiveTable": "TableName", "ArchiverLayer": "LayerName"}


def stack_context(template: dict[str, Any], name: str, uuid: str) -> dict[str, Any]:
    return {**base_context(template), "AWS::StackName": name,
            "AWS::StackId": f"arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/{uuid}"}


def test_two_stacks_with_one_prefix_get_distinct_names(template):
    one = stack_context(template, "blog", "6d1e5c30-9f7a-11ef-8d2b-0a1b2c3d4e5f")
    # A second stack, or the same name deployed again after a delete: a new stack id.
    other = stack_context(template, "blog", "0b7a4f12-3c9d-4e21-a6f0-5e4d3c2b1a09")
    for logical_id, prop in NAMED.items():
        first, second = (resolve(props(template, logical_id)[prop], c) for c in (one, other))
        assert first != second or logical_id == "ArchiverLayer", logical_id
    assert resolve(props(template, "InboxBucket")["BucketName"], one) == "post-archiver-inbox-0a1b2c3d4e5f"
    assert resolve(props(template, "ArchiverLayer")["LayerName"], stack_context(template, "news", "x-x-x-x-y")) == (
        "news-archiver")
    # Bucket names: at most 63 characters with the longest prefix the parameter allows.
    longest = {**one, "NamePrefix": "a" * 24}
    for logical_id in ("InboxBucket", "ArchiveBucket", "AccessLogsBucket"):
        assert len(resolve(props(template, logical_id)["BucketName"], longest)) <= 63


def test_the_queue_policy_names_the_inbox_bucket_of_its_own_stack(template):
    # The inbox bucket depends on the queue policy, so the policy spells the bucket's name out: it must be
    # exactly the name the bucket gets, or S3 cannot deliver its notifications.
    context = stack_context(template, "blog", "6d1e5c30-9f7a-11ef-8d2b-0a1b2c3d4e5f")
    statement = props(template, "InboxQueuePolicy")["PolicyDocument"]["Statement"][0]
    source_arn = resolve(statement["Condition"]["ArnLike"]["aws:SourceArn"], context)
    assert source_arn == f"arn:aws:s3:::{resolve(props(template, 'InboxBucket')['BucketName'], context)}"


def test_function_environment_merges_globals_and_resolves_resources(template):
    resources = {"InboxBucket": "in", "ArchiveBucket": "out", "ArchiveTable": "table", "InboxQueue": "queue-url",
                 "FetchQueue": "fetch-queue-url"}
    env = function_environment(template, resources)
    assert env["FETCH_QUEUE_URL"] == "fetch-queue-url"  # the schedule queues one fetch job per host there
    assert set(env) >= FUNCTION_ENV
    assert env["INBOX_BUCKET"] == "in"
    assert env["QUEUE_URL"] == "queue-url"  # chunks of large exports go to the function's own queue
    assert env["CHUNK_POSTS"] == "250"
    assert env["ARCHIVE_BUCKET"] == "out"
    assert env["TABLE_NAME"] == "table"
    assert env["DEFAULT_TIMEZONE"] == "UTC"
    assert env["POWERTOOLS_SERVICE_NAME"] == "post-archiver"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "PostArchiver"
    assert env["LOG_LEVEL"] == env["POWERTOOLS_LOG_LEVEL"] == "INFO"


def test_find_template_walks_up_from_a_subdirectory(repo_root: Path, tmp_path: Path):
    assert find_template(repo_root / "tests" / "unit") == repo_root / "template.yaml"
    with pytest.raises(TemplateNotFound, match=r"no template\.yaml"):
        find_template(tmp_path)


def test_resources_are_created_after_what_they_reference(template):
    order = creation_order(template["Resources"])
    assert order.index("InboxDeadLetterQueue") < order.index("InboxQueue") < order.index("InboxBucket")
    assert order.index("InboxQueuePolicy") < order.index("InboxBucket")
    assert order.index("InboxBucket") < order.index("InboxBucketPolicy")


def test_every_resource_type_is_created_or_ignored_locally(template):
    created = {"AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::SQS::Queue", "AWS::DynamoDB::Table"}
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert types <= created | IGNORED_TYPES


def test_local_bucket_policy_drops_conditional_denies_only():
    allow = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "x"}
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "x",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}  # fmt: skip
    assert local_bucket_policy({"Version": "2012-10-17", "Statement": [allow, deny]})["Statement"] == [allow]


# -- what the deployed stack relies on


def test_function_never_writes_to_the_inbox(template):
    statements = function_statements(template)
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = set(as_list(statement["Action"]))
        resources = [str(resource) for resource in as_list(statement["Resource"])]
        assert not any(action.endswith("*") for action in actions), f"wildcard action in {statement}"
        assert "*" not in resources, f"wildcard resource in {statement}"
        if any("InboxBucket" in resource for resource in resources):
            # Read-only: objects (any version) and listings, never a write.
            assert actions <= {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions"}, \
                statement
    inbox = [s for s in statements if any("InboxBucket" in str(r) for r in as_list(s["Resource"]))]
    assert inbox, "the function must be allowed to read the inbox"


def test_function_policies_grant_exactly_the_storage_actions(template):
    actions = {action for s in function_statements(template) for action in as_list(s["Action"])}
    assert actions == {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:PutObject",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:Query",
        "sqs:SendMessage",
    }


def test_function_may_send_only_to_its_own_inbox_and_fetch_queues(template):
    sending = [s for s in function_statements(template) if "sqs:SendMessage" in as_list(s["Action"])]
    assert [as_list(s["Resource"]) for s in sending] == [[{"Fn::GetAtt": ["InboxQueue", "Arn"]}],
                                                         [{"Fn::GetAtt": ["FetchQueue", "Arn"]}]]
    assert [as_list(s["Action"]) for s in sending] == [["sqs:SendMessage"], ["sqs:SendMessage"]]


def test_function_runs_on_arm64_python312_with_the_layer(template):
    function = template["Globals"]["Function"]
    assert function["Runtime"] == "python3.12"
    assert function["Architectures"] == ["arm64"]
    assert props(template, "ArchiverFunction")["Handler"] == "app.lambda_handler"
    layer = template["Resources"]["ArchiverLayer"]
    # Built by layers/archiver/Makefile and functions/archiver/Makefile (arm64 unless LAYER_ARCH says otherwise).
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert template["Resources"]["ArchiverFunction"]["Metadata"]["BuildMethod"] == "makefile"
    assert props(template, "ArchiverLayer")["CompatibleArchitectures"] == ["arm64"]


def test_inbox_queue_feeds_the_function_with_partial_batch_failures(template):
    events = props(template, "ArchiverFunction")["Events"]
    sqs = events["InboxQueueEvent"]
    assert sqs["Type"] == "SQS"
    assert sqs["Properties"]["Queue"] == {"Fn::GetAtt": ["InboxQueue", "Arn"]}
    assert sqs["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_schedule_queues_host_jobs_on_a_fifo_queue_with_bounded_concurrency(template):
    events = props(template, "ArchiverFunction")["Events"]
    schedule = events["FetchScheduleEvent"]["Properties"]
    assert schedule["Enabled"] is True
    assert schedule["Schedule"] == {"Ref": "FetchSchedule"}
    assert template["Parameters"]["FetchSchedule"]["Default"] == "rate(15 minutes)"
    fetch = events["FetchQueueEvent"]["Properties"]
    assert fetch["Queue"] == {"Fn::GetAtt": ["FetchQueue", "Arn"]}
    assert fetch["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "FetchMaxConcurrency"}}
    assert fetch["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = props(template, "FetchQueue")
    assert queue["FifoQueue"] is True  # message group = host: one worker per host at a time
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["FetchDeadLetterQueue", "Arn"]}
    assert queue["VisibilityTimeout"] >= 6 * template["Globals"]["Function"]["Timeout"]
    assert props(template, "FetchDeadLetterQueue")["FifoQueue"] is True


def test_table_is_on_demand_with_point_in_time_recovery(template):
    table = props(template, "ArchiveTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == {
        "BySite", "ByStory", "ToRetry", "ByDue", "ToRecheck"}


def test_archive_bucket_is_versioned(template):
    assert props(template, "ArchiveBucket")["VersioningConfiguration"] == {"Status": "Enabled"}


def test_inbox_is_versioned_so_each_event_names_a_version_that_stays_readable(template):
    assert props(template, "InboxBucket")["VersioningConfiguration"] == {"Status": "Enabled"}


def test_inbox_queue_has_a_redrive_policy_and_outlasts_the_function(template):
    queue = props(template, "InboxQueue")
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["InboxDeadLetterQueue", "Arn"]}
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 1
    assert queue["VisibilityTimeout"] >= 6 * template["Globals"]["Function"]["Timeout"]


def test_buckets_accept_tls_only(template):
    for policy_id, bucket_id in (("InboxBucketPolicy", "InboxBucket"), ("ArchiveBucketPolicy", "ArchiveBucket")):
        policy = props(template, policy_id)
        assert policy["Bucket"] == {"Ref": bucket_id}
        (statement,) = policy["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_outputs_name_every_resource_the_operator_needs(template):
    assert set(template["Outputs"]) == {
        "InboxBucketName",
        "ArchiveBucketName",
        "TableName",
        "InboxQueueUrl",
        "DeadLetterQueueUrl",
        "FetchQueueUrl",
        "FetchDeadLetterQueueUrl",
        "ArchiverFunctionName",
        "ArchiveOperatorPolicyArn",
        "ReprocessStateMachineArn",
        "DashboardName",
    }


def test_operator_policy_lists_failures_by_query_never_by_scan(template):
    statements = props(template, "ArchiveOperatorPolicy")["PolicyDocument"]["Statement"]
    actions = {action for statement in statements for action in as_list(statement["Action"])}
    assert "dynamodb:Query" in actions and "dynamodb:Scan" not in actions
    table = next(s for s in statements if "dynamodb:Query" in as_list(s["Action"]))
    assert {"Fn::Sub": "${ArchiveTable.Arn}/index/*"} in as_list(table["Resource"])
    assert not any("InboxBucket" in str(s["Resource"]) and "s3:PutObject" in as_list(s["Action"]) for s in statements)
    index = next(i for i in props(template, "ArchiveTable")["GlobalSecondaryIndexes"] if i["IndexName"] == "ToRetry")
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["retry_pk", "retry_sk"]


# -- bounded concurrency, old versions, access logs, checkov


def test_a_flood_cannot_exhaust_the_accounts_concurrency(template):
    sqs = props(template, "ArchiverFunction")["Events"]["InboxQueueEvent"]["Properties"]
    assert sqs["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "MaxConcurrency"}}
    parameter = template["Parameters"]["MaxConcurrency"]
    assert (parameter["MinValue"], parameter["MaxValue"]) == (2, 1000)  # the range SQS event sources accept


def test_old_inbox_versions_expire_but_archive_history_is_kept(template):
    inbox_rules = props(template, "InboxBucket")["LifecycleConfiguration"]["Rules"]
    noncurrent = [r["NoncurrentVersionExpiration"] for r in inbox_rules if "NoncurrentVersionExpiration" in r]
    assert noncurrent == [{"NoncurrentDays": {"Ref": "InboxVersionRetentionDays"}}]
    assert all(rule["Status"] == "Enabled" for rule in inbox_rules)
    archive = props(template, "ArchiveBucket")
    assert "LifecycleConfiguration" not in archive  # old post versions are the history


def test_inbox_and_archive_write_access_logs_to_the_log_bucket(template):
    for bucket, prefix in (("InboxBucket", "inbox/"), ("ArchiveBucket", "archive/")):
        assert props(template, bucket)["LoggingConfiguration"] == {
            "DestinationBucketName": {"Ref": "AccessLogsBucket"}, "LogFilePrefix": prefix}
    policy = props(template, "AccessLogsBucketPolicy")["PolicyDocument"]["Statement"]
    delivery = next(s for s in policy if s["Effect"] == "Allow")
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_every_checkov_finding_left_is_skipped_with_its_reason(template):
    skips = [(logical_id, skip) for logical_id, resource in template["Resources"].items()
             for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip", [])]
    assert skips, "the template documents the checks it does not follow"
    for logical_id, skip in skips:
        assert skip["id"].startswith("CKV"), (logical_id, skip)
        assert len(skip.get("comment", "").split()) >= 8, f"{logical_id} skips {skip['id']} without a reason"


def test_make_validate_runs_a_pinned_checkov(repo_root: Path):
    makefile = (repo_root / "Makefile").read_text()
    assert re.search(r"^CHECKOV_VERSION := \d+\.\d+\.\d+$", makefile, re.M)
    assert "checkov==$(CHECKOV_VERSION)" in makefile
    validate = makefile.split("\nvalidate:", 1)[1].split("\n\n", 1)[0]
    assert "checkov --file template.yaml" in validate and "--skip-download" in validate
