"""archiver.deadline: the cooperative check and the alarm that interrupts a step running too long."""

from __future__ import annotations

import threading

import pytest

from archiver.deadline import Deadline, DeadlineAlarm, DeadlineExceeded, enforced
from archiver.model import Origin
from archiver.pipeline import failed_outcome


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_deadline_is_the_remaining_time_minus_the_margin():
    deadline = Deadline.from_context(Context(60_000), margin_seconds=20)
    assert 39 < deadline.remaining() <= 40
    assert Deadline.from_context(None, 20) is None


def test_check_names_the_stage_that_could_not_start():
    Deadline.after(60).check("parse")  # time left: nothing happens
    with pytest.raises(DeadlineExceeded) as info:
        Deadline.after(-1).check("normalize")
    assert (info.value.code, info.value.stage) == ("timeout", "normalize")


def test_the_alarm_interrupts_a_step_that_never_returns_by_itself():
    spins = 0
    with pytest.raises(DeadlineAlarm), Deadline.after(0.2).enforced():
        while True:  # a step with no check of its own (a slow regex, a huge parse)
            spins += 1
    assert spins > 0


def test_the_alarm_is_not_swallowed_by_except_exception():
    def library_step() -> str:
        try:
            while True:
                pass
        except Exception:  # what a lenient parser does
            return "swallowed"

    with pytest.raises(DeadlineAlarm), Deadline.after(0.1).enforced():
        library_step()


def test_the_alarm_is_disarmed_after_the_block():
    with Deadline.after(0.05).enforced():
        pass
    # Past the deadline now, but outside the block: nothing may interrupt this.
    threading.Event().wait(0.1)
    with enforced(None):
        pass


def test_an_interrupted_step_is_recorded_as_a_timeout_at_its_stage():
    outcome = failed_outcome(Origin("file", "/x.rss"), DeadlineAlarm(), stage="normalize", raw_key="raw/ab/ab")
    assert outcome.status == "failed"
    assert (outcome.error.code, outcome.error.stage) == ("timeout", "normalize")
    assert "time is up" in outcome.error.message
