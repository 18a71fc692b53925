"""A post's images, archived beside it.

  refs.py          which images a post shows, and where each can be had (the web, its bundle's files)
  download.py      downloads through the fetcher's guard: SSRF rules, robots.txt, per-host pacing, size caps
  bundle_files.py  the files of an archived zip or tar, read back
  probe.py         what a download really is (type by its bytes, dimensions; SVG kept only when inert)
  job.py           the media job: archive one version's images, attach them to its page, record the outcome

Images are stored once, content-addressed (`media/<sha256[:2]>/<sha256>.<ext>`, see archiver.store.keys); the
post's index.html points at them with relative links, so the bucket browses offline under its strict CSP.
"""
