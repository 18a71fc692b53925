"""The storage adapter: the only package that knows archive bucket keys and table keys.

`ArchiveStore` is the one entry point; behind it, one module per job:
  keys.py         every bucket key and table key (the layout is documented there)
  objects.py      archive bucket objects: raw inputs, post files
  records.py      post records: LATEST and one V# item per version
  outcomes.py     input outcome records
  media.py        images: content-addressed objects, known image URLs, attaching them to a post version
  story_index.py  copies of one story: the SimHash band index and ByStory
  rechecks.py     fetched posts' re-check schedules (ToRecheck) and upstream events (gone, back)
  aws.py          DynamoDB (de)serialization, one-line errors
"""

from archiver.store.facade import ArchiveStore, PostTimeline, SaveResult
from archiver.store.keys import PostKeys, raw_key
from archiver.store.objects import guess_content_type

__all__ = ["ArchiveStore", "PostKeys", "PostTimeline", "SaveResult", "guess_content_type", "raw_key"]
