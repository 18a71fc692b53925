"""Fetching over HTTP: the only code in the archiver that talks to the network.

`errors` (what can go wrong, as ArchiverErrors), `guard` (SSRF rules checked at connect time),
`http` (the client: retries, size caps, conditional GET, charsets), `robots` (robots.txt per host).
Import the module you need; nothing heavy is imported here.
"""
