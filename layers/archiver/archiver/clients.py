"""boto3 clients as the archiver uses them: created once, retrying throttling and 5xx errors.

botocore's `standard` retry mode retries throttling (SlowDown, ThrottlingException,
ProvisionedThroughputExceededException, ...), 5xx answers and connection errors with exponential
backoff and jitter, within a retry quota; every write the store makes is idempotent or
conditional, so a retried call never archives twice.

The clients share one session whose loader decodes botocore's model files into plain dicts.
botocore's own loader builds an OrderedDict for every JSON object (a habit from before dicts kept
their order), which makes decoding the S3, DynamoDB and SQS models and the endpoint data slower:
about 70 ms of every cold start for the three clients the handler makes.
"""

from __future__ import annotations

import gzip
import json
import os
from functools import cache
from typing import Any

from botocore.config import Config
from botocore.loaders import JSONFileLoader

MAX_ATTEMPTS = 6  # 1 call + 5 retries: at most ~30 s of backoff (standard mode caps a wait at 20 s)
RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS}, connect_timeout=10)


class PlainJSONFileLoader(JSONFileLoader):
    """botocore's JSON model loader, decoding objects into dicts (which keep their order)."""

    def load_file(self, file_path: str) -> Any:
        """The data of `file_path` + `.json` or `.json.gz`, or None when neither exists (as botocore's)."""
        for extension, opener in ((".json", open), (".json.gz", gzip.open)):
            if os.path.isfile(file_path + extension):
                with opener(file_path + extension, "rb") as model:
                    return json.loads(model.read().decode("utf-8"))
        return None


@cache
def session() -> Any:
    """The process's boto3 session, with the plain-dict model loader."""
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    core.get_component("data_loader").file_loader = PlainJSONFileLoader()
    return boto3.session.Session(botocore_session=core)


def client(service: str, **kwargs: Any) -> Any:
    """A boto3 client with the archiver's retry configuration (kwargs as for boto3.client)."""
    return session().client(service, config=RETRY_CONFIG, **kwargs)
