"""template.yaml deployed through the local CloudFormation (moto server), two stacks side by side.

Also pins the two moto defects docs/local.md describes, so that a moto upgrade that fixes them
fails here and the workarounds (and the docs) can go.
"""

from __future__ import annotations

import json
import os
import signal
import uuid
from pathlib import Path
from typing import Any

import pytest

from archiver.cli import main
from archiver.local.deploy import (
    ARTIFACTS_BUCKET,
    MOTO_UNSUPPORTED_TYPES,
    DeployError,
    Deployment,
    archive_through_stack,
    check_local_endpoint,
    deploy_stack,
    package,
    stack_resources,
    template_url,
    transform,
)
from archiver.local.stack import LocalAWS
from archiver.local.template import load_template

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"
NAMED_OUTPUTS = ("InboxBucketName", "ArchiveBucketName", "TableName", "InboxQueueUrl", "DeadLetterQueueUrl",
                 "FetchQueueUrl", "ArchiverFunctionName", "ArchiveOperatorPolicyArn")


@pytest.fixture(scope="module")
def two_stacks(local_aws: LocalAWS) -> dict[str, Deployment]:
    """Two stacks of template.yaml with the same parameters (so the same NamePrefix), deployed side by side."""
    names = [f"side-{uuid.uuid4().hex[:6]}", f"by-side-{uuid.uuid4().hex[:6]}"]
    return {name: deploy_stack(name, endpoint_url=local_aws.endpoint_url, template_path=local_aws.template_path,
                               clients=local_aws.client) for name in names}


def test_two_stacks_deploy_side_by_side_with_distinct_names(two_stacks: dict[str, Deployment], local_aws):
    first, second = two_stacks.values()
    cfn = local_aws.client("cloudformation")
    for deployment in (first, second):
        assert deployment.status == "CREATE_COMPLETE"
        assert cfn.describe_stacks(StackName=deployment.stack_name)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
        assert set(NAMED_OUTPUTS) <= set(deployment.outputs)
    for output in NAMED_OUTPUTS:
        assert first.outputs[output] != second.outputs[output], output
    shared = set(first.physical_ids.values()) & set(second.physical_ids.values())
    assert not shared
    functions = [local_aws.client("lambda").get_function_configuration(FunctionName=d.outputs["ArchiverFunctionName"])
                 for d in (first, second)]
    layers = [{layer["Arn"] for layer in function["Layers"]} for function in functions]
    assert all(layers) and not layers[0] & layers[1]  # each function has its own stack's layer attached


def test_the_stack_holds_the_function_layer_role_rule_and_event_source_mappings(two_stacks, local_aws):
    deployment = next(iter(two_stacks.values()))
    function = local_aws.client("lambda").get_function_configuration(
        FunctionName=deployment.outputs["ArchiverFunctionName"])
    assert function["Handler"] == "app.lambda_handler"
    assert function["Environment"]["Variables"]["TABLE_NAME"] == deployment.outputs["TableName"]
    mappings = local_aws.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    mappings = [m for m in mappings if m["FunctionArn"] == function["FunctionArn"]]
    sources = {m["EventSourceArn"].rsplit(":", 1)[1] for m in mappings}
    # Disabled locally: moto would run the function in Docker; the local runner polls the queues.
    assert {m["State"] for m in mappings} == {"Disabled"}
    assert {url.rsplit("/", 1)[1] for url in (deployment.outputs["InboxQueueUrl"],
                                              deployment.outputs["FetchQueueUrl"])} == sources
    kinds = {"AWS::Lambda::Function", "AWS::Lambda::LayerVersion", "AWS::IAM::Role", "AWS::Events::Rule",
             "AWS::Lambda::EventSourceMapping", "AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue"}
    created = local_aws.client("cloudformation").describe_stack_resources(StackName=deployment.stack_name)
    assert kinds <= {r["ResourceType"] for r in created["StackResources"]}


def test_what_moto_dropped_is_applied_and_listed(two_stacks, local_aws):
    deployment = next(iter(two_stacks.values()))
    inbox = deployment.outputs["InboxBucketName"]
    s3 = local_aws.client("s3")
    assert s3.get_bucket_versioning(Bucket=inbox)["Status"] == "Enabled"
    queues = s3.get_bucket_notification_configuration(Bucket=inbox)["QueueConfigurations"]
    queue_name = deployment.outputs["InboxQueueUrl"].rsplit("/", 1)[1]
    assert [q["QueueArn"].rsplit(":", 1)[1] for q in queues] == [queue_name]
    assert s3.get_public_access_block(Bucket=inbox)["PublicAccessBlockConfiguration"]["BlockPublicAcls"]
    listed = {(f.resource, f.prop): f.action for f in deployment.fixups}
    assert listed[("InboxBucket", "NotificationConfiguration")] in ("applied", "already set")
    assert listed[("InboxBucket", "VersioningConfiguration")] in ("applied", "already set")
    assert listed[("InboxQueuePolicy", "(resource)")] == "left out"
    assert listed[("FetchQueue", "QueueName")] == "named"
    assert listed[("ArchiverFunction", "Layers")] == "applied"
    assert all(f.line() for f in deployment.fixups)


def test_a_file_dropped_into_one_stack_is_archived_through_that_stack_only(two_stacks, local_aws):
    first, second = two_stacks.values()
    lines = archive_through_stack(local_aws, first.stack_name, [SAMPLES / "newswire-harbour-strike.txt"])
    assert [(line["key"], line["status"]) for line in lines] == [("newswire-harbour-strike.txt", "archived")]
    (post_id,) = lines[0]["post_ids"]

    dynamodb = local_aws.client("dynamodb")
    latest = dynamodb.get_item(TableName=first.outputs["TableName"],
                               Key={"pk": {"S": f"POST#{post_id}"}, "sk": {"S": "LATEST"}})
    assert "Item" in latest
    assert local_aws.client("s3").list_objects_v2(Bucket=first.outputs["ArchiveBucketName"])["KeyCount"] > 0
    # The other stack saw nothing: its table, archive and queue stay empty.
    assert dynamodb.scan(TableName=second.outputs["TableName"])["Count"] == 0
    assert local_aws.client("s3").list_objects_v2(Bucket=second.outputs["ArchiveBucketName"])["KeyCount"] == 0
    # Only the s3:TestEvent that S3 sends when a notification is configured, no object.
    messages = local_aws.client("sqs").receive_message(QueueUrl=second.outputs["InboxQueueUrl"],
                                                       MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"]).get("Event") for m in messages] == ["s3:TestEvent"]


def test_stack_resources_give_the_runner_the_function_environment(two_stacks, local_aws):
    deployment = next(iter(two_stacks.values()))
    resources = stack_resources(local_aws.client, deployment.stack_name)
    assert resources.inbox_bucket == deployment.outputs["InboxBucketName"]
    assert resources.environment["ARCHIVE_BUCKET"] == deployment.outputs["ArchiveBucketName"]
    assert resources.environment["QUEUE_URL"] == deployment.outputs["InboxQueueUrl"]
    assert all(isinstance(value, str) for value in resources.environment.values())
    with pytest.raises(DeployError, match="no stack 'never-deployed'"):
        stack_resources(local_aws.client, "never-deployed")


def test_deploying_again_updates_the_stack_in_place(two_stacks, local_aws):
    deployment = next(iter(two_stacks.values()))
    again = deploy_stack(deployment.stack_name, endpoint_url=local_aws.endpoint_url,
                         template_path=local_aws.template_path, clients=local_aws.client,
                         parameters={"LogLevel": "DEBUG"})
    assert again.status == "UPDATE_COMPLETE"
    assert again.outputs["TableName"] == deployment.outputs["TableName"]
    function = local_aws.client("lambda").get_function_configuration(
        FunctionName=again.outputs["ArchiverFunctionName"])
    assert function["Environment"]["Variables"]["LOG_LEVEL"] == "DEBUG"


def test_nothing_listening_or_a_refused_template_is_one_clear_error(local_aws, tmp_path: Path, capsys):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free, so nothing listens there
    assert main(["local", "deploy", "--stack", "x", "--endpoint-url", f"http://127.0.0.1:{port}"]) == 2
    assert "archiver: deploy_failed: nothing listens at" in capsys.readouterr().err

    broken = tmp_path / "template.yaml"  # an output naming a resource the template does not have
    broken.write_text(local_aws.template_path.read_text("utf-8").replace(
        "\nOutputs:\n", "\nOutputs:\n  Broken:\n    Value: !GetAtt Nowhere.Arn\n", 1), "utf-8")
    (tmp_path / "functions").symlink_to(local_aws.template_path.parent / "functions")
    (tmp_path / "layers").symlink_to(local_aws.template_path.parent / "layers")
    with pytest.raises(DeployError, match="stack 'broken'"):
        deploy_stack("broken", endpoint_url=local_aws.endpoint_url, template_path=broken, clients=local_aws.client)


def test_the_template_url_names_localhost_with_the_bucket_in_the_path():
    assert template_url("http://127.0.0.1:4566", "b", "s/t.json") == "http://localhost:4566/b/s/t.json"
    assert template_url("http://localhost", "b", "t.json") == "http://localhost/b/t.json"


def test_only_a_loopback_endpoint_is_deployed_into():
    for url in ("https://cloudformation.us-east-1.amazonaws.com", "http://10.0.0.5:4566"):
        with pytest.raises(DeployError, match="not a local endpoint"):
            check_local_endpoint(url)
    check_local_endpoint("http://127.0.0.1:4566")
    assert main(["local", "deploy", "--stack", "x", "--endpoint-url", "https://example.com"]) == 2


def test_the_cli_deploys_and_archives_a_dropped_file(local_aws, capsys):
    stack = f"cli-{uuid.uuid4().hex[:6]}"
    assert main(["local", "deploy", "--stack", stack, "--drop", str(SAMPLES / "newswire-library-reopens.txt")]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert out[0]["stack"] == stack and out[0]["status"] == "CREATE_COMPLETE"
    assert out[0]["outputs"]["InboxBucketName"].startswith("post-archiver-inbox-")
    assert out[1]["status"] == "archived"


# -- moto's defects that the deployment works around (docs/local.md)


def packaged_template(local_aws: LocalAWS) -> dict[str, Any]:
    s3 = local_aws.client("s3")
    return transform(package(load_template(local_aws.template_path), local_aws.template_path.parent, s3,
                             ARTIFACTS_BUCKET), {}, local_aws.client("iam"))


def test_moto_lacks_exactly_the_types_left_out(local_aws):
    from moto.cloudformation.parsing import get_model_map

    local_aws.client("s3").create_bucket(Bucket=ARTIFACTS_BUCKET)
    types = {resource["Type"] for resource in packaged_template(local_aws)["Resources"].values()}
    assert {t for t in types if t not in get_model_map()} == MOTO_UNSUPPORTED_TYPES


def test_moto_reads_the_template_url_bucket_from_the_path_only_for_localhost(local_aws):
    s3, cfn = local_aws.client("s3"), local_aws.client("cloudformation")
    s3.create_bucket(Bucket="url-check")
    body = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}
    s3.put_object(Bucket="url-check", Key="t.json", Body=json.dumps(body).encode())
    with pytest.raises(cfn.exceptions.ClientError, match=r"NoSuchBucket|does not exist"):
        cfn.create_stack(StackName=f"url-{uuid.uuid4().hex[:6]}",
                         TemplateURL=f"{local_aws.endpoint_url}/url-check/t.json")  # 127.0.0.1: bucket "127"
    created = cfn.create_stack(StackName=f"url-{uuid.uuid4().hex[:6]}",
                               TemplateURL=template_url(local_aws.endpoint_url, "url-check", "t.json"))
    assert created["StackId"]


def test_moto_gives_a_stack_created_through_a_change_set_no_outputs(local_aws):
    cfn = local_aws.client("cloudformation")
    name = f"cs-{uuid.uuid4().hex[:6]}"
    body = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
            "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}}}
    cfn.create_change_set(StackName=name, ChangeSetName="first", ChangeSetType="CREATE",
                          TemplateBody=json.dumps(body))
    cfn.execute_change_set(StackName=name, ChangeSetName="first")
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert "Outputs" not in stack  # what SAM's managed stack (--resolve-s3) trips over


def test_the_cli_deploys_into_a_running_local_aws_by_its_endpoint(local_aws, capsys):
    stack = f"ep-{uuid.uuid4().hex[:6]}"
    assert main(["local", "deploy", "--stack", stack, "--endpoint-url", local_aws.endpoint_url,
                 "--parameter-overrides", "LogLevel=WARNING"]) == 0
    captured = capsys.readouterr()
    (report,) = [json.loads(line) for line in captured.out.splitlines()]
    assert report["status"] == "CREATE_COMPLETE" and report["endpoint"] == local_aws.endpoint_url
    assert "applied      InboxBucket.NotificationConfiguration" in captured.err
    # The stack lives on in that server, as in AWS: its outputs are there for `--stack` readers.
    described = local_aws.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    assert {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]} == report["outputs"]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}["LogLevel"] == "WARNING"


# -- `archiver local up --stack NAME`: the deployed stack served as a live local stack


def test_local_up_serves_a_stack_deployed_through_the_local_cloudformation(tmp_path: Path):
    import queue
    import socket
    import subprocess
    import sys
    import threading

    import boto3

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stderr = (tmp_path / "stderr").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "archiver", "local", "up", "--port", str(port), "--stack", "served",
         "--schedule-every", "0", "--quiet"],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, stderr=stderr, text=True,
        encoding="utf-8", env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: queue.Queue[dict[str, Any]] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(json.loads(text)) for text in process.stdout], daemon=True).start()

    def next_line() -> dict[str, Any]:
        try:
            return lines.get(timeout=180)  # bounds the wait; never asserted on
        except queue.Empty:
            pytest.fail(f"no line from archiver local up:\n{(tmp_path / 'stderr').read_text()[-3000:]}")

    try:
        announced = next_line()
        options = {"endpoint_url": announced["endpoint"], "region_name": "us-east-1",
                   "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        stack = boto3.client("cloudformation", **options).describe_stacks(StackName="served")["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        assert (announced["inbox_bucket"], announced["archive_bucket"], announced["table"]) == (
            outputs["InboxBucketName"], outputs["ArchiveBucketName"], outputs["TableName"])

        boto3.client("s3", **options).put_object(Bucket=announced["inbox_bucket"], Key="dropped.txt",
                                                 Body=(SAMPLES / "newswire-library-reopens.txt").read_bytes())
        line = next_line()
        assert (line.get("key"), line.get("status")) == ("dropped.txt", "archived")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            stderr.close()
    assert code == 0
    assert "applied      InboxBucket.NotificationConfiguration" in (tmp_path / "stderr").read_text()


def test_local_up_refuses_state_with_a_stack(tmp_path: Path, capsys):
    assert main(["local", "up", "--stack", "x", "--state", str(tmp_path)]) == 2
    assert "--state cannot be used with --stack" in capsys.readouterr().err


def test_the_cli_s_stack_option_finds_a_local_stack_s_resources(two_stacks, local_aws):
    from archiver.deployment import resolve_target

    deployment = next(iter(two_stacks.values()))
    settings = resolve_target(deployment.stack_name).settings  # AWS_ENDPOINT_URL points at the local AWS
    assert (settings.table_name, settings.archive_bucket, settings.inbox_bucket, settings.fetch_queue_url) == (
        deployment.outputs["TableName"], deployment.outputs["ArchiveBucketName"],
        deployment.outputs["InboxBucketName"], deployment.outputs["FetchQueueUrl"])
