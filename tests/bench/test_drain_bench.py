"""The deterministic part of workload (k), the drain (bench/drain.py), on a small version: 2 instances
on 2 load balancers (4 backends) whose connections' lifetimes are chosen, not drawn, so that what each
mode must do is known. Timer runs call `main_handler` in this process, a run a second (one 60 s
Cloud Monitor period a second, the cap 600 s = 10 s). Assertions are on the emulator's records of the
weight changes and deregisters (API seconds between them, connections open at the deregister) and on
the reads, never on how long the test took.

Lifetimes (API seconds after the weight change): backend 0 (20, 50) closes well before the fixed wait;
backend 1 (20, 400) outlives the fixed 300 s but not the cap; backend 2 (never, 30) outlives the cap;
backend 3 holds none.
"""
from __future__ import annotations

import math
import os
from typing import Any, Callable, Dict, Tuple

import pytest

from bench.drain import MAX_INSTANCES, PERIOD, DrainBench, Key, Mode, backends_of, ideal, run_mode, verdict
from bench.estates import Shape, fleet_estate
from bench.queue_workloads import TIMER_EVENT

SMALL = DrainBench(shape=Shape(leaving=2, load_balancers=2, bound_on=2, l7_listeners=0), period_wall=1.0, cap=600.0,
                   fixed=300.0, task_seconds=0.02, latency=0.0, rate_limit=0)
LIVES = ((20.0, 50.0), (20.0, 400.0), (math.inf, 30.0), ())


def lifetimes() -> Dict[Key, Tuple[float, ...]]:
    from emulator.estate import Estate

    keys = backends_of(Estate.from_dict(fleet_estate(SMALL.shape)), SMALL.shape)
    assert len(keys) == 4
    return dict(zip(keys, LIVES))


@pytest.fixture
def timer(monkeypatch: pytest.MonkeyPatch) -> Callable[[Dict[str, str]], Dict[str, Any]]:
    """One timer run in this process, with exactly this environment (and quick task polls)."""

    def run(env: Dict[str, str]) -> Dict[str, Any]:
        from index import main_handler

        for name in [k for k in os.environ if k.startswith(("CLB_UNBIND_", "TENCENTCLOUD_"))]:
            monkeypatch.delenv(name, raising=False)
        for name, value in {**env, "CLB_UNBIND_TASK_POLL_SECONDS": "0.05"}.items():
            monkeypatch.setenv(name, value)
        return main_handler(dict(TIMER_EVENT), {"request_id": "bench-drain", "time_limit_in_ms": 60000})

    return run


def test_the_ideal_is_the_last_close_plus_a_period_and_never_past_the_cap() -> None:
    lives = lifetimes()
    assert list(ideal(SMALL, lives).values()) == [50 + PERIOD, 400 + PERIOD, SMALL.cap, PERIOD]


def test_adaptive_cuts_nothing_that_closes_before_the_cap_and_reads_within_the_bound(timer: Callable[..., Any]) -> None:
    lives = lifetimes()
    k0, k1, k2, k3 = lives
    run = run_mode(SMALL, Mode("adaptive", "adaptive", 2), timer, lives)
    assert run.problems == []
    assert sum(run.cut_below_cap.values()) == 0
    assert run.cut == {k0: 0, k1: 0, k2: 1, k3: 0}
    # Two zero periods must be published first: the first starts once the last connection has closed.
    assert run.seconds[k1] >= 400 + 2 * PERIOD + SMALL.delay
    assert run.seconds[k3] >= 2 * PERIOD + SMALL.delay
    assert run.seconds[k2] >= SMALL.cap - PERIOD  # the cap, counted from the function's own weight request
    # Never before the emulator had published the zero periods the function needs.
    assert set(run.ready) == {k0, k1, k3} and all(run.seconds[k] >= run.ready[k] for k in run.ready)
    assert run.looks and run.over_bound() == []
    assert run.runs[0].backends == 4 and run.looks[0].sets == 4 and run.looks[0].reads == math.ceil(4 / MAX_INSTANCES)
    met, reasons = verdict(SMALL, run, ideal(SMALL, lives))
    assert all("cut" not in r for r in reasons)


def test_fixed_cuts_what_outlives_its_wait_and_reads_nothing(timer: Callable[..., Any]) -> None:
    lives = lifetimes()
    k0, k1, k2, k3 = lives
    run = run_mode(SMALL, Mode("fixed 300 s", "fixed"), timer, lives)
    assert run.problems == []
    assert all(s >= SMALL.fixed for s in run.seconds.values())
    assert run.cut == {k0: 0, k1: 1, k2: 1, k3: 0}
    assert run.cut_below_cap == {k0: 0, k1: 1, k2: 0, k3: 0}
    assert run.reads == 0
    met, reasons = verdict(SMALL, run, ideal(SMALL, lives))
    assert not met and any("1 connections cut that would have closed before the cap" in r for r in reasons)


def test_the_connection_model_counts_lifetimes_from_the_weight_change_on_the_scaled_clock() -> None:
    from emulator.connections import ConnectionModel

    model = ConnectionModel()
    key = ("lb-x", "lbl-x", "10.0.0.1", 80)
    model.set_lifetimes(*key, [30.0, 90.0, math.inf])
    model.weight_changed(*key, 0, wall=100.0)
    model.weight_changed(*key, 0, wall=105.0)  # a second weight-0 write does not restart the clock
    # One 60 s period lasts 2 wall seconds: 30 API s is 1 wall s.
    assert [model.connections_at(*key, t, 2.0) for t in (99.0, 100.9, 101.0, 102.9, 103.0, 1e6)] == [3, 3, 2, 2, 1, 1]
    model.unbound(*key, 104.0)
    model.unbound(*key, 109.0)
    assert model.unbound_at[key] == 104.0
    with pytest.raises(ValueError):
        model.set_lifetimes(*key, [float("nan")])
