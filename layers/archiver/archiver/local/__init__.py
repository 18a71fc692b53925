"""The embedded local AWS and what runs on it (see docs/local.md)."""

# `archiver local up` listens here unless told otherwise: LocalStack's port, which AWS developers know.
DEFAULT_PORT = 4566
PORT_VARIABLE = "ARCHIVER_LOCAL_PORT"
