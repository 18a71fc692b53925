"""template.yaml's alarms and dashboard watch what the function and its queues actually emit."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from archiver.local.template import base_context, load_template, resolve

ALARMS = ("ArchiverErrorsAlarm", "ArchiverThrottlesAlarm", "DeadLetterQueueAlarm", "InboxBacklogAlarm",
          "FetchDeadLetterQueueAlarm", "FetchBacklogAlarm")
# The results of one source's fetch (archiver.fetch.worker), emitted as f"Fetch{status.title()...}" by app.py.
FETCH_STATUSES = ("archived", "unchanged", "not_modified", "failed", "deferred", "partial")


@pytest.fixture(scope="module")
def template(repo_root: Path) -> dict[str, Any]:
    return load_template(repo_root / "template.yaml")


@pytest.fixture(scope="module")
def dashboard(template: dict[str, Any]) -> dict[str, Any]:
    """The dashboard body with its ${...} resolved against stand-in names, parsed as CloudWatch will."""
    context = base_context(template)
    context.update({"ArchiverFunction": "archiver-fn", "InboxQueue.QueueName": "inbox-q",
                    "InboxDeadLetterQueue.QueueName": "dlq", "FetchQueue.QueueName": "fetch-q.fifo",
                    "FetchDeadLetterQueue.QueueName": "fetch-dlq.fifo"})
    context.update({f"{alarm}.Arn": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{alarm}" for alarm in ALARMS})
    body = resolve(template["Resources"]["ArchiverDashboard"]["Properties"]["DashboardBody"], context)
    return json.loads(body)


def handler_metric_names(repo_root: Path) -> set[str]:
    """Every metric name the handler emits (literal names in functions/archiver/app.py)."""
    source = (repo_root / "functions" / "archiver" / "app.py").read_text("utf-8")
    by_status = re.search(r"METRIC_BY_STATUS = \{(.*?)\}", source, re.DOTALL).group(1)
    names = set(re.findall(r'name="(\w+)"', source)) | set(re.findall(r':\s*"(\w+)"', by_status))
    if 'name=f"Fetch{report.status.title().replace(\'_\', \'\')}"' in source:
        names |= {f"Fetch{status.title().replace('_', '')}" for status in FETCH_STATUSES}
    return names


def dashboard_metrics(dashboard: dict[str, Any]) -> list[list[Any]]:
    return [m for w in dashboard["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]]


def alarm(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    resource = template["Resources"][logical_id]
    assert resource["Type"] == "AWS::CloudWatch::Alarm"
    return resource["Properties"]


def test_alarms_watch_errors_throttles_the_dead_letters_and_the_backlogs(template):
    watched = {(alarm(template, a)["Namespace"], alarm(template, a)["MetricName"],
                json.dumps(alarm(template, a)["Dimensions"], sort_keys=True)) for a in ALARMS}
    function = json.dumps([{"Name": "FunctionName", "Value": {"Ref": "ArchiverFunction"}}], sort_keys=True)
    assert watched == {
        ("AWS/Lambda", "Errors", function),
        ("AWS/Lambda", "Throttles", function),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible",
         json.dumps([{"Name": "QueueName", "Value": {"Fn::GetAtt": ["InboxDeadLetterQueue", "QueueName"]}}])),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage",
         json.dumps([{"Name": "QueueName", "Value": {"Fn::GetAtt": ["InboxQueue", "QueueName"]}}])),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible",
         json.dumps([{"Name": "QueueName", "Value": {"Fn::GetAtt": ["FetchDeadLetterQueue", "QueueName"]}}])),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage",
         json.dumps([{"Name": "QueueName", "Value": {"Fn::GetAtt": ["FetchQueue", "QueueName"]}}])),
    }


def test_alarms_notify_the_optional_topic_and_fire_on_the_first_bad_period(template):
    notify = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    for logical_id in ALARMS:
        props = alarm(template, logical_id)
        assert props["AlarmActions"] == notify and props["OKActions"] == notify
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert props["TreatMissingData"] == "notBreaching"  # no traffic is not an outage
    for backlog in ("InboxBacklogAlarm", "FetchBacklogAlarm"):
        assert alarm(template, backlog)["Threshold"] == {"Ref": "OldestMessageAlarmSeconds"}
    assert template["Conditions"]["HasAlarmTopic"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}


def test_dashboard_shows_every_metric_the_handler_emits(repo_root, dashboard):
    shown = {m[1] for m in dashboard_metrics(dashboard) if m[0] == "PostArchiver"}
    emitted = handler_metric_names(repo_root)
    assert {"InputsArchived", "PostsArchived", "FetchNotModified"} <= emitted  # the scan finds them
    assert emitted <= shown


def test_dashboard_uses_the_powertools_namespace_and_service_of_the_function(template, dashboard):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    custom = [m for m in dashboard_metrics(dashboard) if m[0] not in ("AWS/Lambda", "AWS/SQS")]
    assert custom
    for metric in custom:
        assert metric[0] == variables["POWERTOOLS_METRICS_NAMESPACE"]
        assert metric[2:4] == ["service", variables["POWERTOOLS_SERVICE_NAME"]]


def test_dashboard_shows_the_alarms_and_the_function_and_queues_it_watches(dashboard):
    alarms = [w for w in dashboard["widgets"] if w["type"] == "alarm"]
    assert [a.rsplit(":", 1)[1] for a in alarms[0]["properties"]["alarms"]] == list(ALARMS)
    dimensions = {tuple(m[2:4]) for m in dashboard_metrics(dashboard) if m[0] in ("AWS/Lambda", "AWS/SQS")}
    assert dimensions == {("FunctionName", "archiver-fn"), ("QueueName", "inbox-q"), ("QueueName", "dlq"),
                          ("QueueName", "fetch-q.fifo"), ("QueueName", "fetch-dlq.fifo")}


def test_operations_doc_documents_every_metric_the_handler_emits(repo_root):
    """docs/operations.md holds the metrics table (the README links to it)."""
    doc = (repo_root / "docs" / "operations.md").read_text("utf-8")
    table = doc[doc.index("## Metrics"):]
    table = table[:table.index("\n## ", 1)]
    missing = {name for name in handler_metric_names(repo_root) if f"`{name}`" not in table}
    assert missing == set()
