"""Progress of long local work on stderr: a bar on a terminal, plain periodic lines otherwise.

    with Progress(len(files), "archiving", quiet=args.quiet) as progress:
        for ...:
            progress.advance(1, archived=1)

On a terminal (and with tqdm installed: a development dependency, not shipped in the Lambda
layer) it is tqdm's bar with counts, rate and time left. Otherwise (a pipe, a log file, CI) it is
one line every `interval` seconds and a last one when done, so logs stay readable. `quiet` shows nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO, Any

PLAIN_INTERVAL_SECONDS = 5.0


class Progress:
    """Counts done out of a total, with named counts (archived, failed...) shown alongside."""

    def __init__(self, total: int, label: str, *, unit: str = "inputs", quiet: bool = False,
                 stream: IO[str] | None = None, interval: float = PLAIN_INTERVAL_SECONDS,
                 clock: Callable[[], float] = time.monotonic, bar: bool | None = None):
        self.total = total
        self.label = label
        self.unit = unit
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.clock = clock
        self.done = 0
        self.counts: dict[str, int] = {}
        self.started = clock()
        self._last_line = self.started
        self._bar: Any = None
        if not quiet and (bar if bar is not None else _is_terminal(self.stream)):
            self._bar = _tqdm_bar(total, label, unit, self.stream)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def advance(self, n: int = 1, **counts: int) -> None:
        """`n` more done; `counts` are added to the named counts."""
        self.done += n
        for name, value in counts.items():
            self.counts[name] = self.counts.get(name, 0) + value
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.set_postfix(self.counts, refresh=False)
            self._bar.update(n)
            return
        now = self.clock()
        if now - self._last_line >= self.interval:
            self._last_line = now
            self._line(now)

    def grow(self, total: int) -> None:
        """The total is larger than first thought (more work queued meanwhile)."""
        if total <= self.total:
            return
        self.total = total
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    def close(self) -> None:
        """End the bar, or print the last plain line (always, however short the work was)."""
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            return
        if self._last_line is not None:
            self._line(self.clock(), final=True)
            self._last_line = None  # closed: a second close prints nothing

    def summary(self) -> str:
        """`N inputs in 12.3 s (8.1/s): 40 archived, 2 failed`."""
        elapsed = max(self.clock() - self.started, 1e-9)
        counts = ", ".join(f"{value} {name}" for name, value in self.counts.items())
        text = f"{self.done} {self.unit} in {elapsed:.1f} s ({self.done / elapsed:.1f}/s)"
        return f"{text}: {counts}" if counts else text

    def _line(self, now: float, final: bool = False) -> None:
        elapsed = now - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        percent = f" ({100 * self.done // self.total}%)" if self.total else ""
        left = ""
        if not final and rate > 0 and self.total > self.done:
            left = f", about {_duration((self.total - self.done) / rate)} left"
        counts = "".join(f", {value} {name}" for name, value in self.counts.items())
        status = "done" if final else "progress"
        self.stream.write(f"archiver: {self.label} {status}: {self.done}/{self.total} {self.unit}{percent}"
                          f"{counts}, {rate:.1f}/s, {_duration(elapsed)} elapsed{left}\n")
        self.stream.flush()


def _is_terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _tqdm_bar(total: int, label: str, unit: str, stream: IO[str]) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is a development dependency: plain lines without it
        return None
    return tqdm(total=total, desc=label, unit=f" {unit}", file=stream, dynamic_ncols=True, leave=True)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
