"""One chain per drain (docs/drain.md#one-chain-per-drain): the sweep does not start over a drain whose
envelope is on its way back, and two chains of one drain that meet in a run become one.

Timer runs here are driven by hand at chosen moments of the wall clock, since the point is when a
delayed envelope becomes visible relative to the next run (CLB_UNBIND_TIMER_SECONDS is told the
interval the runs are meant to keep). Assertions are on the queue's contents and the runs' calls,
never on how long anything took."""
from __future__ import annotations

import json
import math
import time
from typing import Any, Dict

from tests.conftest import load_event

TIMER = load_event("timer.json")
QUEUE = "clb-unbind-lifecycle"
LEAVING = ["ins-web00001", "ins-web00002"]
ENV = {"CLB_UNBIND_QUEUE": QUEUE, "CLB_UNBIND_GROUPS": "asg-group001", "CLB_UNBIND_POLL_SECONDS": "0",
       "CLB_UNBIND_DRAIN": "adaptive", "CLB_UNBIND_CONSUME_SECONDS": "10", "CLB_UNBIND_ENVELOPE_SECRET": "ab" * 32}


def chains(emu: Any) -> Dict[str, int]:
    """instance id → how many drain envelopes in the queue carry its drain (one per chain)."""
    out: Dict[str, int] = {}
    for m in emu.messages(QUEUE):
        body = json.loads(m["body"])
        if body.get("kind") == "clb-unbind/retry":
            for n in body["notices"]:
                if n.get("drain"):
                    out[n["instanceId"]] = out.get(n["instanceId"], 0) + 1
    return out


def wait_until(moment: float) -> None:
    time.sleep(max(moment - time.time(), 0.0))


def next_firing(period: float, after: float) -> float:
    return (math.floor(after / period) + 1) * period


def stuck(emu: Any) -> None:
    emu.set_knobs(monitor_period_seconds=1.0, monitor_delay_seconds=1.0)
    for ip in ("10.0.0.11", "10.0.0.12"):
        emu.set_connections(ip, 5, stuck=5)


def test_the_next_scheduled_run_reads_a_late_drain_envelope_before_its_sweep_and_does_not_resume(
        emulator: Any, invoke: Any) -> None:
    """A run that sweeps late (here after a 6 s long poll on an empty queue) starts two drains; the
    next run, at the timer's next firing, must find their envelope in the queue rather than resume
    them. It failed before: the envelope came back half an interval after it was sent, after that run's
    queue pass, and its sweep resumed both instances, a second chain for each."""
    stuck(emulator)
    period = 10.0  # the sweep sends at about 6 s: after half the period (the old delay's miss), well before its end
    env: Dict[str, str] = {**ENV, "CLB_UNBIND_TIMER_SECONDS": str(int(period))}
    wait_until(next_firing(period, time.time()) + 0.05)
    first = invoke(TIMER, **{**env, "CLB_UNBIND_POLL_SECONDS": "6"})
    assert sorted(first["sweep"]["reconciled"]) == LEAVING
    assert chains(emulator) == {i: 1 for i in LEAVING}
    wait_until(next_firing(period, time.time()) + 0.9)
    second = invoke(TIMER, **env)
    assert second["sweep"]["reconciled"] == []
    assert chains(emulator) == {i: 1 for i in LEAVING}


def test_two_chains_of_one_drain_met_in_one_run_become_one_even_in_separate_passes(emulator: Any, invoke: Any) -> None:
    """A run out of schedule (an operator's, a retried one) sweeps while the drains' envelopes are still
    delayed: it cannot know, and resumes them, a second chain each. The next run reads all four
    envelopes, here each in its own pass (one instance a pass, so one instance an envelope): the
    second chain of each instance is carried by the envelope an earlier pass sent, and one chain each
    goes on. It failed before: each pass re-queued its own chain (four sends, four envelopes)."""
    stuck(emulator)
    period = 5.0
    env = {**ENV, "CLB_UNBIND_TIMER_SECONDS": str(int(period)), "CLB_UNBIND_MAX_INSTANCES_PER_PASS": "1"}
    wait_until(next_firing(period, time.time()) + 0.05)
    invoke(TIMER, **env)
    invoke(TIMER, **env)  # the first run's envelopes are delayed to the next firing: this sweep resumes both
    assert chains(emulator) == {i: 2 for i in LEAVING}
    wait_until(next_firing(period, time.time()) + 0.5)
    third = invoke(TIMER, **env)
    assert third["queue"]["passes"] == 4
    assert third["apiCalls"]["tdmq:SendCmqMsg"] == 2
    assert chains(emulator) == {i: 1 for i in LEAVING}
    carried = [r for r in third["records"] if "carried by the envelope sent earlier in this run" in (r["reason"] or "")]
    assert len(carried) == 2 and {r["status"] for r in carried} == {"retry_queued"}


def test_a_redelivered_drain_envelope_is_idempotent(emulator: Any, invoke: Any) -> None:
    """The same drain envelope twice in the queue (a delete that failed, a visibility timeout that ran
    out) makes one look and one envelope, in one pass or in two."""
    from tests.estates import send_to_queue

    stuck(emulator)
    period = 2.0
    for per_pass, passes in (("100", 1), ("1", 3)):  # one pass; then one instance an envelope, a pass each
        env = {**ENV, "CLB_UNBIND_TIMER_SECONDS": str(int(period)), "CLB_UNBIND_MAX_INSTANCES_PER_PASS": per_pass}
        invoke(TIMER, **env)
        body = next(m["body"] for m in emulator.messages(QUEUE) if '"drain"' in m["body"])
        send_to_queue(emulator, QUEUE, body)
        assert sum(chains(emulator).values()) == len(LEAVING) + len(json.loads(body)["notices"])
        # An envelope sent in the last second before a firing is visible up to 1 s after it (at least 1 s
        # of delay): wait past that, as the function's long poll would.
        wait_until(next_firing(period, time.time()) + 1.2)
        again = invoke(TIMER, **env)
        assert again["queue"]["passes"] == passes
        assert again["apiCalls"]["tdmq:SendCmqMsg"] == (1 if per_pass == "100" else 2)
        assert chains(emulator) == {i: 1 for i in LEAVING}
        wait_until(next_firing(period, time.time()) + 0.5)
