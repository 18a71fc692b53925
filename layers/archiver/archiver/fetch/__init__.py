"""Fetching posts from registered sources: the only code that does HTTP.

`http` (session, retries, size caps, conditional GET), `guard` (SSRF rules checked at connect),
`robots` (robots.txt, cached per host), `discover` (what a URL is: feed, WordPress site,
sitemap, article), `sources` (adding and describing sources), `schedule` (when a source is due),
`jobs` (due sources -> one queue message per host), `worker` (a host's job: fetch, then the one
archive path of every input).
"""
