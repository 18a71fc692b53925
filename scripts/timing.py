"""CPU and wall time of one piece of work, as the benchmarks report both."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple


class Spent(NamedTuple):
    cpu: float  # seconds of this process's CPU (time.process_time)
    wall: float  # seconds on the clock (time.perf_counter)


def timed(work: Callable[[], Any]) -> tuple[Spent, Any]:
    """(the time `work()` took, what it returned)."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = work()
    return Spent(time.process_time() - cpu, time.perf_counter() - wall), result
