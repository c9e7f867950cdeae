"""The adaptive drain's decision (drain_adaptive.py): zeros counted per 60 s period after the weight
change, gaps and unknowns never count as zero, the cap ends what never drains."""
from __future__ import annotations

from clb_unbind.drain_adaptive import DRAIN_CAP, DRAINED, FIXED_WAIT, cap_seconds, decide, fold, start, unseen_cap_at

B = ("10.0.1.1", "vpc-main0001", 80, "TCP", "10.0.0.11", 8080)
T0 = 1_700_000_040.0  # the weight change, 40 s into a period


def test_closing_after_two_periods_drains_on_the_third_not_before() -> None:
    state = start([("a", B)], T0, cap=3600)
    first = T0 + 20  # the first period that starts after the change
    state = fold(state, {B: {T0 - 40: 10.0, first: 10.0, first + 60: 5.0}})
    assert decide(state, first + 180, zero_readings=1, fixed_seconds=0) == []
    state = fold(state, {B: {first + 120: 0.0}})
    (ended,) = decide(state, first + 240, zero_readings=1, fixed_seconds=0)
    assert ended.how == DRAINED and ended.connections == 0.0 and ended.seconds == 260.0


def test_a_period_read_before_the_weight_change_never_counts() -> None:
    state = fold(start([("a", B)], T0, cap=3600), {B: {T0 - 40: 0.0}})
    assert state.bindings[0].zeros == 0 and decide(state, T0 + 10, 1, 0) == []


def test_a_gap_breaks_a_run_of_zeros() -> None:
    state = start([("a", B)], T0, cap=3600)
    state = fold(state, {B: {T0 + 20: 0.0, T0 + 140: 0.0}})  # T0 + 80 missing
    assert state.bindings[0].zeros == 1
    assert decide(state, T0 + 300, zero_readings=2, fixed_seconds=0) == []
    state = fold(state, {B: {T0 + 200: 0.0}})
    assert decide(state, T0 + 300, zero_readings=2, fixed_seconds=0)[0].how == DRAINED


def test_no_readings_end_only_at_the_cap_with_what_was_last_seen() -> None:
    state = fold(start([("a", B)], T0, cap=600), {B: {T0 + 20: 3.0}})
    assert decide(state, T0 + 599, 2, 0) == []
    (ended,) = decide(state, T0 + 600, 2, 0)
    assert ended.how == DRAIN_CAP and ended.connections == 3.0


def test_a_binding_with_no_metric_waits_the_fixed_time_within_the_cap() -> None:
    state = start([("ecm", None)], T0, cap=100)
    assert decide(state, T0 + 99, 2, fixed_seconds=300) == []
    assert decide(state, T0 + 100, 2, fixed_seconds=300)[0].how == FIXED_WAIT


def test_the_cap_is_the_smallest_of_heartbeat_less_timer_run_margin_and_the_maximum() -> None:
    assert cap_seconds(3600, 300, timer_seconds=60, run_seconds=50, margin=10) == 180
    assert cap_seconds(120, 7200, 60, 50, 10) == 120
    assert cap_seconds(3600, None, 60, 50, 10) == 3600
    assert cap_seconds(3600, 60, 60, 50, 10) == 0


def test_a_drain_not_seen_beginning_is_capped_by_the_hooks_start_too() -> None:
    now = 10_000.0
    # Found 100 s into a 300 s hook: the hook's bound (start + 300 - 60 - 50 - 10) comes before now + 180.
    assert unseen_cap_at(now, 180, 300, now - 100, timer_seconds=60, run_seconds=50, margin=10) == now + 80
    assert unseen_cap_at(now, 180, 300, now - 1, 60, 50, 10) == now + 179  # just begun: the hook's bound
    assert unseen_cap_at(now, 120, 7200, now - 10, 60, 50, 10) == now + 120  # the maximum is smaller
    assert unseen_cap_at(now, 180, 300, now - 290, 60, 50, 10) == now  # past it already: ends now, never before
    assert unseen_cap_at(now, 180, 300, None, 60, 50, 10) == now  # start unknown: ends now
    assert unseen_cap_at(now, 3600, None, None, 60, 50, 10) == now + 3600  # no hook known: nothing to bound by
