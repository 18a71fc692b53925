"""A deadline for every input: stop before the function's timeout and say how far it got.

Lambda kills an invocation at its timeout: no outcome is recorded, the message comes back and,
after five tries, goes to the dead-letter queue. So the work on one input stops at the remaining
time minus a margin (kept to record the outcome), and the input is recorded as failed with code
`timeout` and the stage it had reached. Two mechanisms:

- `check(stage)` between stages and between posts: cooperative, works on any thread;
- `enforced()`: on the main thread (where Lambda runs the handler), an interval timer (SIGALRM)
  interrupts a single step that runs too long (a huge parse, a slow regular expression: CPython's
  regex engine checks for signals). It raises `DeadlineAlarm`, a BaseException, so that no
  library's `except Exception` swallows it; the pipeline catches it and records the timeout.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from archiver.errors import ArchiverError


class DeadlineExceeded(ArchiverError):
    code = "timeout"
    stage = "archive"


class DeadlineAlarm(BaseException):  # not an Exception: nothing may swallow it on the way up
    """Raised by the timer inside whatever ran past the deadline."""


@dataclass(frozen=True)
class Deadline:
    at: float  # time.monotonic() value

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    @classmethod
    def from_context(cls, context: Any, margin_seconds: float) -> Deadline | None:
        """The invocation's remaining time minus the margin; None without a Lambda context."""
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if remaining is None:
            return None
        return cls.after(remaining() / 1000 - margin_seconds)

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def check(self, stage: str) -> None:
        """Raise DeadlineExceeded (naming the stage about to start) when the time is up."""
        if self.remaining() <= 0:
            raise DeadlineExceeded(f"stopped before {stage}: the invocation's time is up", stage=stage)

    @contextmanager
    def enforced(self) -> Iterator[None]:
        """Interrupt the block with DeadlineAlarm at the deadline (main thread only; elsewhere a no-op)."""
        if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
            yield
            return

        def alarm(signum: int, frame: Any) -> None:
            raise DeadlineAlarm

        previous = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, max(self.remaining(), 0.001))
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


@contextmanager
def enforced(deadline: Deadline | None) -> Iterator[None]:
    """`deadline.enforced()`, or nothing without a deadline."""
    if deadline is None:
        yield
        return
    with deadline.enforced():
        yield


def check(deadline: Deadline | None, stage: str) -> None:
    if deadline is not None:
        deadline.check(stage)


def timeout_error(stage: str) -> DeadlineExceeded:
    """The error recorded for work interrupted by the alarm at `stage`."""
    return DeadlineExceeded(f"interrupted during {stage}: the invocation's time is up", stage=stage)
