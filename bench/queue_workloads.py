"""The queue workloads (f)-(i): lifecycle notices that arrive through the TDMQ-for-CMQ queue, and the
Auto Scaling sweep, both consumed by timer runs (docs/design.md#the-queue-consumer and
docs/design.md#reconciling-with-auto-scaling).

They reuse the machinery of the other workloads: the emulator in its own process on a fresh copy of
the estate (here `fleet_estate`: every instance a member of a scaling group whose terminating hook
notifies `LIFECYCLE_QUEUE`), each timer invocation in a fresh worker process (`python -m
bench.worker`, timed after its imports), calls counted by the emulator, the end state checked.

Unlike (a)-(e) the notices are not in the event: the bench drives Auto Scaling through the emulator's
admin endpoint (`POST /_emulator/scale-in`) and the function finds them in the queue or in Auto
Scaling's own state. Wall times are read from the emulator's call records (their `at`, wall clock of
the same machine): "the last lifecycle completion" is the last accepted `CompleteLifecycleAction`.
"""
from __future__ import annotations

import json
import math
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .emulator_process import ROOT, EmulatorKnobs, EmulatorProcess, check_outcome, count_calls
from .estates import DEAD_LETTER_QUEUE, LIFECYCLE_QUEUE, Shape, call_bound, fleet_estate, group_id, leaving_id
from .workloads import _read, _spawn, read_times

TIMER_EVENT: Dict[str, Any] = json.loads((ROOT / "events" / "timer.json").read_text())
RECEIVE_MAX = 16  # BatchReceiveMessage numOfMsg 1-16 (docs/cloud-facts.md#cmq-data-plane-api)
DELETE_MAX = 16  # BatchDeleteMessage receiptHandle.n, at most 16
MEMBERS_PER_CALL = 100  # DescribeAutoScalingInstances Limit
GROUPS_PER_CALL = 5  # values of one `auto-scaling-group-id` filter
TIMER_RUNS_PER_DAY = 1440  # a one-minute timer
MEMORY_GB = 0.125  # 128 MB, serverless.yml
QUEUE_WALL_GOAL = 3.0
CALL_GOAL = 1.2  # as for (a)-(c)
IDLE_TOLERANCE = 1.1
"""An idle run is MET when it takes at most 10% more than its one long poll (the poll plus a reply)."""
MAX_RUNS = 5
"""Timer runs a workload may take before the bench gives up on it (its run is then not ok)."""
CLA = "as:CompleteLifecycleAction"


@dataclass(frozen=True)
class QueueWorkload:
    key: str
    title: str
    shape: Shape
    groups: int = 1
    leaving: int = 0
    """Instances the scale-in removes (leaving instances 0..n-1 of the shape); 0 = nobody leaves."""
    publish: bool = True
    """False: Auto Scaling's notification is lost and only the sweep can find the instances."""
    poll_seconds: float = 3.0
    sweep: bool = False
    """`CLB_UNBIND_GROUPS` names every group of the estate."""
    interval: float = 0.0
    """Seconds between timer runs, simulating the one-minute timer; 0 = runs back to back."""

    def group_ids(self) -> List[str]:
        return [group_id(g) for g in range(self.groups)]

    def leaving_ids(self) -> List[str]:
        return [leaving_id(i) for i in range(self.leaving)]

    def members(self) -> int:
        """Instances of the estate, all of them scaling-group members (fleet_estate)."""
        return self.shape.leaving + max(self.shape.stayers, 1) * 4

    def members_per_group(self) -> List[int]:
        n = self.members()
        return [len(range(g, n, self.groups)) for g in range(self.groups)]

    def env(self) -> Dict[str, str]:
        env = {"CLB_UNBIND_QUEUE": LIFECYCLE_QUEUE, "CLB_UNBIND_DEAD_LETTER_QUEUE": DEAD_LETTER_QUEUE,
               "CLB_UNBIND_POLL_SECONDS": f"{self.poll_seconds:g}"}
        if self.sweep:
            env["CLB_UNBIND_GROUPS"] = ",".join(self.group_ids())
        return env


QUEUE_WORKLOADS: Dict[str, QueueWorkload] = {
    w.key: w
    for w in (
        QueueWorkload("f", "queue: 40 instances x 4 LBs (L4 + L7), 40 lifecycle messages, consumed by timer runs",
                      Shape(leaving=40, load_balancers=4, bound_on=4), leaving=40),
        QueueWorkload("g", "idle queue: one timer run, empty queue, long poll 3 s",
                      Shape(leaving=40, load_balancers=4, bound_on=4)),
        QueueWorkload("h", "idle sweep: empty queue (poll 0), CLB_UNBIND_GROUPS = 3 groups of 300 members in all, nobody leaving",
                      Shape(leaving=292, load_balancers=4, bound_on=4), groups=3, poll_seconds=0.0, sweep=True),
        QueueWorkload("i", "lost notification: scale-in of 4 instances, publish=False, a timer run every 5 s (the one-minute timer, shortened), sweep on",
                      Shape(leaving=40, load_balancers=4, bound_on=4), leaving=4, publish=False, sweep=True, interval=5.0),
    )
}


# -- lower bounds ----------------------------------------------------------------------------------
def receive_bound(messages: int) -> int:
    """Receives of a run that empties a queue of `messages`: ⌈n/16⌉ to get them, and the empty one the
    run ends on. (With n a multiple of 16 the function makes one more: its pass ends on a short batch.)"""
    return math.ceil(messages / RECEIVE_MAX) + 1


def queue_call_bound(shape: Shape, messages: int) -> Dict[str, int]:
    """Fewest calls of timer runs consuming `messages` lifecycle notices of this shape (≤ 100, one pass):
    the invocation bound of (a)-(e) for the notices together (trust check and verification read
    included), plus the CMQ receives and one BatchDeleteMessage per 16 handles."""
    bound = call_bound(shape, messages)
    bound["cmq:BatchReceiveMessage"] = receive_bound(messages)
    bound["cmq:BatchDeleteMessage"] = math.ceil(messages / DELETE_MAX)
    return bound


def sweep_reads(members_per_group: List[int]) -> int:
    """DescribeAutoScalingInstances of one sweep: per 5 groups, ⌈their members/100⌉ pages (at least one)."""
    groups = sorted(range(len(members_per_group)))
    return sum(max(1, math.ceil(sum(members_per_group[g] for g in groups[i:i + GROUPS_PER_CALL]) / MEMBERS_PER_CALL))
               for i in range(0, len(groups), GROUPS_PER_CALL))


def idle_sweep_bound(members_per_group: List[int]) -> Dict[str, int]:
    return {"as:DescribeAutoScalingInstances": sweep_reads(members_per_group), "cmq:BatchReceiveMessage": 1}


def reconcile_bound(shape: Shape, members_per_group: List[int], leaving: int) -> Dict[str, int]:
    """Calls of the timer run that finds `leaving` instances by the sweep alone (empty queue): the empty
    receive, the sweep's reads, one DescribeLifecycleHooks (only when someone waits; the pipeline's own
    hook check reuses it), then the pipeline without the trust check (Auto Scaling's own state is the
    evidence)."""
    bound = call_bound(shape, leaving)
    bound.pop("as:DescribeAutoScalingInstances")
    bound["as:DescribeAutoScalingInstances"] = sweep_reads(members_per_group)
    bound["as:DescribeLifecycleHooks"] = 1
    bound["cmq:BatchReceiveMessage"] = 1
    return bound


def queue_wall_bound(messages: int, knobs: EmulatorKnobs) -> float:
    """Enqueue to the last completion: the round trips that must follow one another (⌈n/16⌉ receives, the
    trust check, DescribeInstances, DescribeLBListeners, one write per load balancer in parallel, the
    verification read, the read of the group's hooks, a CompleteLifecycleAction) and, with the rate limit on, the second that must pass
    between the first and the (rate+1)-th CompleteLifecycleAction."""
    trips = math.ceil(messages / RECEIVE_MAX) + 7
    rate = knobs.rate_limit_per_second
    limited = max(math.ceil(messages / rate) - 1, 0) if rate else 0
    return trips * knobs.latency_seconds + limited


def add(*bounds: Dict[str, int]) -> Dict[str, int]:
    out: Dict[str, int] = {}
    for b in bounds:
        for k, v in b.items():
            out[k] = out.get(k, 0) + v
    return out


def calls_figure(name: str, calls: Dict[str, int], bound: Dict[str, int]) -> "Figure":
    """Calls beside a bound that is exact: MET only when every action's count equals it."""
    exact = calls == bound
    return Figure(name, f"{sum(calls.values())}" + (" (each action = its bound)" if exact else " (by action: see the table)"),
                  f"bound {sum(bound.values())}, exactly", exact)


def gb_seconds_a_day(seconds: float) -> float:
    """What a one-minute timer whose every run takes `seconds` costs a day at 128 MB."""
    return TIMER_RUNS_PER_DAY * seconds * MEMORY_GB


# -- runs ------------------------------------------------------------------------------------------
@dataclass
class Figure:
    name: str
    measured: str
    bound: str
    met: Optional[bool] = None
    """None: reported, no goal."""


@dataclass
class TimerRun:
    """One timer invocation: when it started and ended (wall clock), its answer, the calls it made."""

    go_at: float
    ended_at: float
    seconds: float
    answer: Dict[str, Any]
    calls: Dict[str, int]
    error: Optional[str] = None


@dataclass
class QueueRun:
    workload: QueueWorkload
    runs: List[TimerRun] = field(default_factory=list)
    calls: Dict[str, Any] = field(default_factory=dict)
    bound: Dict[str, int] = field(default_factory=dict)
    figures: List[Figure] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.problems

    @property
    def met(self) -> bool:
        return self.ok and all(f.met is not False for f in self.figures)


class _Timer:
    """A worker process that has imported the function and waits to run one timer event."""

    def __init__(self, env: Dict[str, str], name: str) -> None:
        self.proc: subprocess.Popen = _spawn({"strategy": "handler", "env": env, "events": [TIMER_EVENT], "trace": False,
                                              "barrier": True, "name": name, "preimport": []})
        _read(self.proc)

    def go(self) -> float:
        assert self.proc.stdin is not None
        at = time.time()
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        return at

    def result(self) -> Dict[str, Any]:
        out = _read(self.proc)
        self.proc.wait(timeout=60)
        return out

    def end(self) -> None:
        """Only for a worker that was never told to go (or failed): it would otherwise wait forever."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _run_timer(timer: _Timer, emu: EmulatorProcess, seen: int) -> TimerRun:
    go_at = timer.go()
    out = timer.result()
    calls = emu.calls()[seen:]
    answer = out["answers"][0] if out["answers"] else {}
    return TimerRun(go_at, out["ended_at"], out["seconds"], answer if isinstance(answer, dict) else {},
                    count_calls(calls)["by_action"], out["error"])


def _completed_at(calls: List[Dict[str, Any]]) -> Optional[float]:
    done = [c["at"] for c in calls if f"{c['service']}:{c['action']}" == CLA and not c.get("error_code")]
    return max(done) if done else None


def _queue_empty(emu: EmulatorProcess) -> bool:
    return not any(emu.queues().get(LIFECYCLE_QUEUE, {}).values())


def _all_completed(emu: EmulatorProcess, leaving: List[str]) -> bool:
    results = {a["instanceId"]: a.get("result") for a in emu.state().get("lifecycleActions") or []}
    return all(results.get(i) for i in leaving)


def _scale_in(emu: EmulatorProcess, w: QueueWorkload) -> None:
    by_group: Dict[str, List[str]] = {}
    for n, iid in enumerate(w.leaving_ids()):
        by_group.setdefault(group_id(n % w.groups), []).append(iid)
    for group, ids in by_group.items():
        emu.scale_in(group, ids, publish=w.publish)


def run_queue_workload(w: QueueWorkload, knobs: EmulatorKnobs) -> QueueRun:
    """Dispatch on the workload's kind: a scale-in or not, notified or not."""
    if w.leaving and w.publish:
        return _run_queue(w, knobs)
    if w.leaving:
        return _run_lost(w, knobs)
    return _run_idle(w, knobs)


def _start(w: QueueWorkload, knobs: EmulatorKnobs) -> EmulatorProcess:
    return EmulatorProcess(fleet_estate(w.shape, groups=w.groups), knobs)


def _finish(result: QueueRun, emu: EmulatorProcess, before: Dict[str, Any]) -> List[Dict[str, Any]]:
    calls = emu.calls()
    result.calls = count_calls(calls)
    result.errors += [r.error for r in result.runs if r.error]
    result.errors += [f"run {i + 1}: {r.answer['error']}" for i, r in enumerate(result.runs) if r.answer.get("error")]
    result.problems += check_outcome(emu.state(), result.workload.leaving_ids(), before)
    return calls


def _run_queue(w: QueueWorkload, knobs: EmulatorKnobs) -> QueueRun:
    """(f): the worker is ready before the scale-in; the timer fires right after it (on SCF add the wait
    for the next tick); further runs start back to back while the queue holds anything."""
    result = QueueRun(w, bound=queue_call_bound(w.shape, w.leaving))
    with _start(w, knobs) as emu:
        before = emu.state()
        env = {**emu.env(), **w.env()}
        timer = _Timer(env, f"bench-{w.key}-0")
        try:
            enqueued_at = time.time()
            _scale_in(emu, w)
            result.runs.append(_run_timer(timer, emu, 0))
            while not _queue_empty(emu) and len(result.runs) < MAX_RUNS:
                timer = _Timer(env, f"bench-{w.key}-{len(result.runs)}")
                result.runs.append(_run_timer(timer, emu, len(emu.calls())))
        finally:
            timer.end()
        calls = _finish(result, emu, before)
        if not _queue_empty(emu):
            result.problems.append(f"queue not empty after {len(result.runs)} timer runs: {emu.queues()[LIFECYCLE_QUEUE]}")
    done_at = _completed_at(calls)
    wall = None if done_at is None else done_at - enqueued_at
    per_lb = result.calls["by_action"].get("clb:BatchDeregisterTargets", 0) / w.shape.bound_on
    wb = queue_wall_bound(w.leaving, knobs)
    result.figures = [
        Figure("BatchDeregisterTargets per LB", f"{per_lb:g} ({result.calls['by_action'].get('clb:BatchDeregisterTargets', 0)} "
               f"on {w.shape.bound_on} LBs)", "goal <= 2 per LB", per_lb <= 2),
        Figure("enqueue -> last lifecycle completion", "-" if wall is None else f"{wall:.2f}s",
               f"goal <= {QUEUE_WALL_GOAL:g}s (lower bound {wb:.2f}s)", wall is not None and wall <= QUEUE_WALL_GOAL),
        Figure("calls, all runs", str(result.calls["total"]), f"bound {sum(result.bound.values())}, goal <= {CALL_GOAL}x",
               result.calls["total"] <= sum(result.bound.values()) * CALL_GOAL),
        Figure("timer runs until the queue was empty", str(len(result.runs)), "bound 1", None),
    ]
    first = result.runs[0]
    result.notes += [
        f"the first timer run took {first.seconds:.2f}s in all: its last {w.poll_seconds:g}s are the empty long poll it ends on "
        f"(after the completions); queue figures {first.answer.get('queue')}",
        f"wall bound: {math.ceil(w.leaving / RECEIVE_MAX) + 7} round trips x {knobs.latency_seconds:g}s"
        + (f" + {max(math.ceil(w.leaving / knobs.rate_limit_per_second) - 1, 0)}s the rate limit keeps between the first "
           f"and the {knobs.rate_limit_per_second + 1}st {CLA}" if knobs.rate_limit_per_second else ""),
        "measured from just before the scale-in request (the enqueue) to the emulator's record of the last accepted "
        f"{CLA}; the timer fires right after the enqueue (on SCF add the wait for the next tick, <= 60 s)",
        f"the timer started {first.go_at - enqueued_at:.2f}s after the enqueue; accepted calls, seconds after the enqueue: "
        + "; ".join(f"{a} {n} at {lo:.2f}-{hi:.2f}" for a, (lo, hi, n) in sorted(read_times(calls, enqueued_at).items(), key=lambda kv: kv[1][0])),
    ]
    return result


def _run_idle(w: QueueWorkload, knobs: EmulatorKnobs) -> QueueRun:
    """(g) and (h): one timer run, nobody leaving."""
    bound = idle_sweep_bound(w.members_per_group()) if w.sweep else {"cmq:BatchReceiveMessage": 1}
    result = QueueRun(w, bound=bound)
    with _start(w, knobs) as emu:
        before = emu.state()
        timer = _Timer({**emu.env(), **w.env()}, f"bench-{w.key}-0")
        try:
            result.runs.append(_run_timer(timer, emu, 0))
        finally:
            timer.end()
        _finish(result, emu, before)
    run = result.runs[0]
    calls = calls_figure("calls", result.calls["by_action"], bound)
    if w.sweep:
        result.figures = [calls,
                          Figure("members listed", str((run.answer.get("sweep") or {}).get("watched")),
                                 f"{w.members()} in {w.groups} groups ({'/'.join(map(str, w.members_per_group()))})",
                                 (run.answer.get("sweep") or {}).get("watched") == w.members())]
        result.notes.append(f"CLB_UNBIND_POLL_SECONDS=0: the sweep's calls do not depend on the poll; the run took {run.seconds:.2f}s")
    else:
        poll = w.poll_seconds + knobs.latency_seconds
        result.figures = [
            Figure("run seconds", f"{run.seconds:.2f}s", f"bound {poll:.2f}s (one long poll + a reply), MET within {IDLE_TOLERANCE}x",
                   run.seconds <= poll * IDLE_TOLERANCE),
            calls,
            Figure("GB-s a day, one-minute timer at 128 MB", f"{gb_seconds_a_day(run.seconds):.0f}",
                   f"bound {gb_seconds_a_day(poll):.0f} (1440 x {poll:.2f}s x 0.125 GB)", run.seconds <= poll * IDLE_TOLERANCE),
        ]
    return result


def _run_lost(w: QueueWorkload, knobs: EmulatorKnobs) -> QueueRun:
    """(i): timer runs fire every `interval` s; the scale-in (notifications lost) happens the moment the
    first run has returned, i.e. just after its sweep read, the latest moment that run can miss it: the
    worst case, one whole interval before the next run can see the instances."""
    reconcile = reconcile_bound(w.shape, w.members_per_group(), w.leaving)
    idle_bound = idle_sweep_bound(w.members_per_group())
    result = QueueRun(w)
    with _start(w, knobs) as emu:
        before = emu.state()
        env = {**emu.env(), **w.env()}
        timer = _Timer(env, f"bench-{w.key}-0")
        scaled_at = 0.0
        try:
            first_tick = time.time()
            for k in range(MAX_RUNS):
                tick = first_tick + k * w.interval
                time.sleep(max(tick - time.time(), 0))
                current, seen = timer, len(emu.calls())
                go_at = current.go()
                if k + 1 < MAX_RUNS:
                    timer = _Timer(env, f"bench-{w.key}-{k + 1}")
                out = current.result()
                calls = emu.calls()[seen:]
                answer = out["answers"][0] if out["answers"] else {}
                result.runs.append(TimerRun(go_at, out["ended_at"], out["seconds"], answer if isinstance(answer, dict) else {},
                                            count_calls(calls)["by_action"], out["error"]))
                if k == 0:
                    scaled_at = time.time()
                    _scale_in(emu, w)
                elif _all_completed(emu, w.leaving_ids()):
                    break
        finally:
            timer.end()
        calls = _finish(result, emu, before)
    done_at = _completed_at(calls)
    found = next((i for i, r in enumerate(result.runs) if CLA in r.calls), None)
    run = result.runs[found] if found is not None else None
    wall = None if done_at is None else done_at - scaled_at
    bound = None if run is None else w.interval + run.seconds
    result.figures = [
        Figure("scale-in -> last lifecycle completion", "-" if wall is None else f"{wall:.2f}s",
               "-" if bound is None else f"bound {bound:.2f}s (interval {w.interval:g}s + the run that found them, {run.seconds:.2f}s)",
               wall is not None and bound is not None and wall <= bound),
        Figure("timer run that completed them", "-" if found is None else f"run {found + 1} (the first after the scale-in)"
               if found == 1 else f"run {found + 1}", "the next run (run 2)", found == 1),
        calls_figure("calls of that run", {} if run is None else run.calls, reconcile),
        calls_figure("calls of each run before it", add(*[r.calls for r in result.runs[:found or 1]]),
                     add(*[idle_bound] * (found or 1))),
    ]
    result.bound = add(*[idle_bound] * (found or 1), reconcile)
    idle = result.runs[0]
    result.notes += [
        f"the one-minute timer is simulated by a run every {w.interval:g}s (CLB_UNBIND_POLL_SECONDS={w.poll_seconds:g}, the default); "
        f"at 60 s the figure is {60 - w.interval:g}s more (the wait for the next tick)",
        f"run 1 (before the scale-in) took {idle.seconds:.2f}s: {', '.join(f'{k} {v}' for k, v in sorted(idle.calls.items()))}",
        f"the scale-in came {scaled_at - idle.go_at:.2f}s after run 1 started, i.e. right after its sweep read",
    ]
    return result
