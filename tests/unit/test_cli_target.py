"""The CLI's one convention for commands that touch AWS (archiver.deployment), and its one-line errors.

No AWS here: every case stops before a request is made (tests/integration/test_cli_on_a_stack.py has a stack).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from archiver.cli import error_line, main
from archiver.deployment import NotConfigured, resolve_region, stack_region

AWS_COMMANDS = [["failures"], ["retry", "--all"], ["copies", "--post", "p1"], ["sources", "list"],
                ["sources", "show", "s1"], ["fetch", "https://example.com/feed"], ["reprocess"],
                ["reprocess", "--on-aws", "--stack", "blog"]]


@pytest.fixture
def no_aws_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """An environment with no region anywhere (no variable, no profile, no samconfig.toml here)."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_PROFILE", "TABLE_NAME",
                 "ARCHIVE_BUCKET", "QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.mark.parametrize("command", AWS_COMMANDS, ids=" ".join)
def test_every_aws_command_takes_the_stack_and_endpoint_options(command: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as shown:
        main([*command, "--help"])
    assert shown.value.code == 0
    usage = capsys.readouterr().out
    assert "--stack NAME" in usage and "--endpoint-url URL" in usage


@pytest.mark.parametrize("command", AWS_COMMANDS, ids=" ".join)
def test_without_a_region_a_command_says_so_in_one_line(no_aws_settings, command: list[str], capsys) -> None:
    no_aws_settings.setenv("TABLE_NAME", "archive")
    no_aws_settings.setenv("ARCHIVE_BUCKET", "archive-bucket")

    assert main(command) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == ["archiver: not_configured: no AWS region: set AWS_REGION (or a profile's region), "
                                "pass --stack with a stack ARN, or --endpoint-url http://127.0.0.1:PORT for a local "
                                "stack"]


def test_retry_without_the_archive_bucket_names_that_setting(no_aws_settings, capsys) -> None:
    no_aws_settings.setenv("AWS_REGION", "eu-west-1")
    no_aws_settings.setenv("TABLE_NAME", "archive")

    assert main(["retry", "--all"]) == 2

    assert capsys.readouterr().err.splitlines() == ["archiver: not_configured: no archive bucket: pass --stack NAME "
                                                    "or --archive-bucket NAME, or set ARCHIVE_BUCKET"]


@pytest.mark.parametrize("command", [["failures"], ["sources", "list"]], ids=" ".join)
def test_a_command_without_its_table_names_that_setting(no_aws_settings, command: list[str], capsys) -> None:
    no_aws_settings.setenv("AWS_REGION", "eu-west-1")

    assert main(command) == 2

    option = " or --table NAME" if command == ["failures"] else ""  # `sources` has no --table of its own
    assert capsys.readouterr().err.splitlines() == [
        f"archiver: not_configured: no archive table: pass --stack NAME{option}, or set TABLE_NAME"]


def test_the_environment_s_region_comes_first(no_aws_settings) -> None:
    no_aws_settings.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    assert resolve_region("arn:aws:cloudformation:eu-west-1:1:stack/blog/x", "http://127.0.0.1:4566") == "ap-south-1"
    no_aws_settings.setenv("AWS_REGION", "eu-north-1")  # Lambda's variable, and the AWS CLI's first choice
    assert resolve_region(None, None) == "eu-north-1"


def test_without_one_the_stack_s_region_then_us_east_1_for_a_local_endpoint(no_aws_settings, tmp_path) -> None:
    (tmp_path / "samconfig.toml").write_text(
        'version = 0.1\n[prod.deploy.parameters]\nstack_name = "blog"\nregion = "eu-central-1"\n'
        '[default.deploy.parameters]\nstack_name = "other"\n')
    assert resolve_region("arn:aws:cloudformation:eu-west-1:123456789012:stack/blog/x", None) == "eu-west-1"
    assert resolve_region("blog", None) == "eu-central-1"  # as `sam deploy --guided` saved it
    assert resolve_region("local-blog", "http://localhost:4566") == "us-east-1"
    with pytest.raises(NotConfigured):
        resolve_region("other", "https://dynamodb.example.com")  # neither a region nor a local endpoint


def test_a_broken_samconfig_is_no_source_of_regions(tmp_path: Path) -> None:
    (tmp_path / "samconfig.toml").write_text("version = [\n")
    assert stack_region("blog", tmp_path) is None
    assert stack_region("blog", tmp_path / "absent") is None


def test_an_error_is_one_line_and_debug_adds_its_traceback(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "missing.json"
    line = f"archiver: not_found: {missing}: No such file or directory"

    assert main(["local", "invoke", str(missing)]) == 2
    assert capsys.readouterr().err.splitlines() == [line]

    for argv in (["--debug", "local", "invoke", str(missing)], ["local", "invoke", str(missing), "--debug"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("Traceback (most recent call last):") and err.splitlines()[-1] == line


def test_every_exception_has_a_code_and_a_one_line_message() -> None:
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "not\nyours"}}, "Query")
    assert error_line(denied) == ("AccessDenied", "An error occurred (AccessDenied) when calling the Query "
                                                  "operation: not yours")
    assert error_line(NoCredentialsError())[0] == "no_credentials"
    assert error_line(PermissionError(13, "Permission denied", "/x")) == ("permission_denied",
                                                                         "/x: Permission denied")
    assert error_line(KeyError("state")) == ("internal_error", "KeyError: 'state' (--debug shows where)")
