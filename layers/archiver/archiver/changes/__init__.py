"""What changed between two versions of a post: `change_record(previous, new)`, `word_diff(a, b)`."""

from archiver.changes.record import change_record, summary
from archiver.changes.words import word_diff

__all__ = ["change_record", "summary", "word_diff"]
