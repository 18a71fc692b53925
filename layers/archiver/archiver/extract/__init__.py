"""Article extraction from saved HTML pages: main content, metadata, and a plain-text view.

Kept apart from `formats.html_page` so the pieces can be tested and benchmarked alone;
every heavy import (lxml, trafilatura, readability) happens inside the functions.
"""
