"""Specific errors, each with a code and a pipeline stage, caught at the edge and recorded."""

from __future__ import annotations


class ArchiverError(Exception):
    """Base class: `code` names the problem, `stage` the pipeline step it happened in."""

    code = "archiver_error"
    stage = "archive"

    def __init__(self, message: str, *, code: str | None = None, stage: str | None = None):
        super().__init__(message)
        if code:
            self.code = code
        if stage:
            self.stage = stage

    @property
    def message(self) -> str:
        # One line, bounded: it goes into a DynamoDB record and a log line.
        text = " ".join(str(self).split())
        return text[:500]


class UnsupportedFormat(ArchiverError):
    code = "unsupported_format"
    stage = "detect"


class ParseError(ArchiverError):
    code = "parse_error"
    stage = "parse"


class FrontMatterError(ParseError):
    code = "bad_front_matter"


class InputTooLarge(ArchiverError):
    code = "input_too_large"
    stage = "read"


class PostTooLarge(ArchiverError):
    """A post body over MAX_POST_BYTES: not normalized; its raw bytes are archived like any input's."""

    code = "post_too_large"
    stage = "normalize"


class NormalizeError(ArchiverError):
    code = "normalize_error"
    stage = "normalize"


class InternalError(ArchiverError):
    """An unexpected exception (a bug) while handling one input: that input fails, the others go on."""

    code = "internal_error"


class StoreError(ArchiverError):
    code = "store_error"
    stage = "store"


class ObjectGone(ArchiverError):
    """The inbox object (the version an event names) no longer exists: deleted or overwritten before it was read."""

    code = "object_gone"
    stage = "read"
