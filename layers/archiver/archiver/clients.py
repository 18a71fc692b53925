"""boto3 clients as the archiver uses them: created once, retrying throttling and 5xx errors.

botocore's `standard` retry mode retries throttling (SlowDown, ThrottlingException,
ProvisionedThroughputExceededException, ...), 5xx answers and connection errors with exponential
backoff and jitter, within a retry quota; every write the store makes is idempotent or
conditional, so a retried call never archives twice.
"""

from __future__ import annotations

from typing import Any

from botocore.config import Config

MAX_ATTEMPTS = 6  # 1 call + 5 retries: at most ~30 s of backoff (standard mode caps a wait at 20 s)
RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS}, connect_timeout=10)


def client(service: str, **kwargs: Any) -> Any:
    """A boto3 client with the archiver's retry configuration (kwargs as for boto3.client)."""
    import boto3

    return boto3.client(service, config=RETRY_CONFIG, **kwargs)
