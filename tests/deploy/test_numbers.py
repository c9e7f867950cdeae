"""The derived numbers: each rule holds for any timings the function accepts, and inputs that would
lose a notification are refused with the reason."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deploy.numbers import (HEARTBEAT_BOUNDS, PULL_LAG, RETENTION_MAX, VISIBILITY_BOUNDS, DerivationError, Timings, derive,
                            heartbeat_floor, receive_cycle, retention_floor)
from deploy.invariants import cron_interval


def test_defaults_give_the_documented_numbers() -> None:
    d = derive(Timings(), "dlq")
    assert d.queue["VisibilityTimeout"].value == 330
    assert d.queue["MaxReceiveCount"].value == 5
    assert d.queue["Policy"].value == 0
    assert d.queue["DeadLetterQueueName"].value == "dlq"
    assert d.queue["MsgRetentionSeconds"].value == 43200
    # one interval + lag (80) + one run (300) + one retry (max(330, 310) + 80)
    assert d.heartbeat.value == 80 + 300 + 330 + 80
    assert d.timer_cron.value == "0 */1 * * * * *"
    assert all(v.reason for _, v in d.all())


timings = st.builds(
    Timings,
    function_timeout=st.integers(90, 900),
    timer_interval=st.sampled_from([1, 2, 5, 10, 15, 20, 30, 60]),
    consume_seconds=st.floats(0, 50),
    poll_seconds=st.floats(0, 10),
    max_attempts=st.integers(1, 100),
    retry_base_seconds=st.floats(0, 600),
    retry_max_seconds=st.floats(0, 20000),
)


@settings(max_examples=300, deadline=None)
@given(timings)
def test_every_number_keeps_its_promise(t: Timings) -> None:
    try:
        d = derive(t, "dlq")
    except DerivationError:
        return
    vt = d.queue["VisibilityTimeout"].value
    hb = d.heartbeat.value
    mrc = d.queue["MaxReceiveCount"].value
    retention = d.queue["MsgRetentionSeconds"].value
    assert VISIBILITY_BOUNDS[0] <= vt <= VISIBILITY_BOUNDS[1] and vt > t.function_timeout
    assert HEARTBEAT_BOUNDS[0] <= hb <= HEARTBEAT_BOUNDS[1]
    assert hb >= heartbeat_floor(t.function_timeout, t.timer_interval, vt, t.retry_base_seconds)
    assert hb >= t.timer_interval + PULL_LAG + t.function_timeout + vt  # a crash-retry fits
    assert 1 <= mrc <= min(t.max_attempts, 1000)
    assert retention <= RETENTION_MAX
    assert retention >= retention_floor(hb, mrc, vt, t.timer_interval, t.retry_max_seconds)
    assert mrc * receive_cycle(vt, t.timer_interval) <= retention
    assert cron_interval(str(d.timer_cron.value)) == t.timer_interval


@pytest.mark.parametrize("timings, words", [
    (Timings(function_timeout=60), "no room to finish"),
    (Timings(function_timeout=1000), "outside SCF"),
    (Timings(timer_interval=90), "divide 60"),
    (Timings(timer_interval=7), "divide 60"),
    (Timings(heartbeat=300), "too short"),
    (Timings(heartbeat=9000), "above AS"),
    (Timings(function_timeout=900, retry_base_seconds=7000), "above AS"),
    (Timings(retry_max_seconds=43200), "retention"),
])
def test_inputs_that_would_lose_notifications_are_refused(timings: Timings, words: str) -> None:
    with pytest.raises(DerivationError, match=words):
        derive(timings, "dlq")


def test_a_heartbeat_asked_for_is_kept_when_long_enough() -> None:
    d = derive(Timings(heartbeat=3600), "dlq")
    assert d.heartbeat.value == 3600 and "as asked" in d.heartbeat.reason


def test_receive_count_is_cut_to_fit_the_retention() -> None:
    d = derive(Timings(function_timeout=900, max_attempts=100), "dlq")
    assert d.queue["MaxReceiveCount"].value == RETENTION_MAX // receive_cycle(930, 60)
    assert "cut to" in d.queue["MaxReceiveCount"].reason


@pytest.mark.parametrize("cron, gap", [
    ("0 */1 * * * * *", 60), ("*/5 * * * * * *", 5), ("0,30 * * * * * *", 30), ("10,20 * * * * ? *", 50),
    ("0 */2 * * * * *", None), ("0 0 * * * * *", None), ("0 * 1 * * * *", None), ("0 */1 * * * *", None),
    ("x * * * * * *", None),
])
def test_cron_interval(cron: str, gap: int) -> None:
    assert cron_interval(cron) == gap
