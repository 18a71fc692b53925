"""archiver.clients: botocore's model files decoded into plain dicts, with the same data."""

from __future__ import annotations

import botocore.session
import pytest

from archiver.clients import PlainJSONFileLoader, client, session

MODELS = ["endpoints", "partitions", "s3/2006-03-01/service-2", "s3/2006-03-01/endpoint-rule-set-1",
          "dynamodb/2012-08-10/service-2", "sqs/2012-11-05/service-2"]


@pytest.mark.parametrize("model", MODELS)
def test_plain_loader_reads_the_same_data_as_botocores(model: str) -> None:
    loader = botocore.session.get_session().get_component("data_loader")
    path = f"{loader.BUILTIN_DATA_PATH}/{model}"
    theirs = loader.file_loader.load_file(path)
    ours = PlainJSONFileLoader().load_file(path)
    assert theirs is not None
    assert ours == theirs
    assert list(ours) == list(theirs)  # and in the same order
    assert type(ours) is dict


def test_plain_loader_gives_none_for_a_missing_file(tmp_path) -> None:
    assert PlainJSONFileLoader().load_file(str(tmp_path / "absent")) is None


def test_clients_share_the_plain_loader_session(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)  # else botocore asks the instance metadata service
    s3 = client("s3", region_name="eu-west-1")
    assert session() is session()
    assert type(s3.meta.service_model._service_description) is dict
    assert s3.meta.config.retries["mode"] == "standard"
    assert s3.meta.region_name == "eu-west-1"
