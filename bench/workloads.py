"""The five workloads and how one strategy runs on one of them.

Every run gets its own emulator process on a fresh copy of the workload's estate and its own worker
process(es) (`python -m bench.worker`); calls are counted by the emulator (every request that reached
it, refused ones included), and the end state is checked (leaving instances unbound, staying binds
kept, lifecycle actions completed).
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .emulator_process import ROOT, EmulatorKnobs, EmulatorProcess, check_outcome, count_calls
from .estates import LIFECYCLE_QUEUE, Shape, build_estate, call_bound, cmq_event, tasks_per_lb, wall_bound
from .naive import POLL_SECONDS

WRITES = ("BatchDeregisterTargets", "DeregisterTargets")
SDK_MODULES = [f"tencentcloud.{p}.{v}.{m}" for p, v in (("cvm", "v20170312"), ("clb", "v20180317"), ("autoscaling", "v20180419"))
               for m in (f"{p}_client", "models")]
"""Imported before a traced run starts its clock: the function loads them lazily on first use, and
their module objects (about 12 MB of Python allocations) would otherwise hide the invocation's own
data in the tracemalloc peak. Untraced runs import nothing extra."""


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    shape: Shape
    invocations: int = 1
    notices_per_invocation: int = 1
    call_goal: Optional[float] = None
    wall_goal: Optional[float] = None
    memory: bool = False

    def events(self) -> List[List[Dict[str, Any]]]:
        """Events per invocation (each invocation gets one list of events, handled one after the other)."""
        if self.invocations == 1:
            return [[cmq_event(list(range(self.notices_per_invocation)))]]
        return [[cmq_event([i])] for i in range(self.invocations)]

    def call_bound(self, verify: bool = True) -> Dict[str, int]:
        """Per invocation."""
        return call_bound(self.shape, self.notices_per_invocation, verify)

    def wall_bound(self, knobs: EmulatorKnobs) -> float:
        return wall_bound(self.shape, self.invocations, self.notices_per_invocation, knobs.task_seconds, knobs.latency_seconds,
                          knobs.rate_limit_per_second)

    def tasks_per_lb(self) -> int:
        return tasks_per_lb(self.shape, self.invocations, self.notices_per_invocation)


WORKLOADS: Dict[str, Workload] = {
    w.key: w
    for w in (
        Workload("a", "1 instance on 3 LBs (L4 + 2 L7 rules each), account of 10 LBs",
                 Shape(leaving=1, load_balancers=10, bound_on=3, rules_per_l7=2), call_goal=1.2),
        Workload("b", "1 instance on 2 LBs (L4 + L7), account of 600 LBs",
                 Shape(leaving=1, load_balancers=600, bound_on=2), call_goal=1.2),
        Workload("c", "10 instances x 5 LBs (L4 + L7), one CMQ event of 10 lifecycle records",
                 Shape(leaving=10, load_balancers=10, bound_on=5), notices_per_invocation=10, call_goal=1.2),
        Workload("d", "40 instances x 4 LBs (L4 + L7), 40 concurrent invocations, one process each",
                 Shape(leaving=40, load_balancers=4, bound_on=4), invocations=40, wall_goal=1.5),
        Workload("e", "1 instance with 1000 bindings on 1 LB (25 L4 + 5 L7 x 5 rules, 20 ports each)",
                 Shape(leaving=1, load_balancers=1, bound_on=1, l4_listeners=25, l7_listeners=5, rules_per_l7=5, ports=20),
                 memory=True),
    )
}


@dataclass
class Run:
    workload: Workload
    strategy: str  # "handler" | "naive"
    seconds: float = 0.0
    calls: Dict[str, Any] = field(default_factory=dict)
    invocation_seconds: List[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    """CPU time of the invocations, all processes together (not the emulator's)."""
    client_calls: int = 0
    """Calls the function itself counted (its summary's apiCalls): attempts that never reached the
    emulator (a connection reset) show as client_calls - calls["total"]. Handler only."""
    rss_ready_kb: Optional[int] = None
    rss_peak_kb: Optional[int] = None
    traced_peak_bytes: Optional[int] = None
    top_allocations: List[str] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)
    ecm_modules: List[str] = field(default_factory=list)
    answers: List[Any] = field(default_factory=list)
    timeline: Dict[str, Any] = field(default_factory=dict)
    reads: Dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.problems

    def per_invocation(self) -> Dict[str, float]:
        n = self.workload.invocations
        return {k: v / n for k, v in self.calls.get("by_action", {}).items()}


def _spawn(job: Dict[str, Any]) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "bench.worker"], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(job) + "\n")
    proc.stdin.flush()
    return proc


def _read(proc: subprocess.Popen) -> Dict[str, Any]:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        raise RuntimeError(f"bench worker exited with {proc.returncode} before answering")
    return json.loads(line)


def run(workload: Workload, strategy: str, knobs: EmulatorKnobs, trace: bool = False,
        naive_poll_seconds: float = POLL_SECONDS) -> Run:
    """Run a workload: all its invocations start together (after every worker has imported)."""
    estate = build_estate(workload.shape)
    result = Run(workload, strategy)
    with EmulatorProcess(estate, knobs) as emu:
        before = emu.state()
        env = {**emu.env(), "CLB_UNBIND_QUEUE": LIFECYCLE_QUEUE}  # whose hooks are the function's own
        procs: List[subprocess.Popen] = []
        try:
            for i, events in enumerate(workload.events()):
                procs.append(_spawn({"strategy": strategy, "env": env, "events": events, "trace": trace, "barrier": True,
                                     "naive_poll_seconds": naive_poll_seconds, "name": f"bench-{workload.key}-{i}",
                                     "preimport": SDK_MODULES if trace else []}))
            readies = [_read(p) for p in procs]
            go_at = time.time()
            for p in procs:
                assert p.stdin is not None
                p.stdin.write("go\n")
                p.stdin.flush()
            outs = [_read(p) for p in procs]
            for p in procs:
                p.wait(timeout=60)
        finally:
            for p in procs:  # only on a failure: a worker that has not exited by now is ended
                if p.poll() is None:
                    p.kill()
                    p.wait()
        result.seconds = max(o["ended_at"] for o in outs) - go_at
        result.invocation_seconds = [o["seconds"] for o in outs]
        result.cpu_seconds = sum(o["cpu_seconds"] for o in outs)
        result.client_calls = sum(sum((a or {}).get("apiCalls", {}).values()) for o in outs for a in o["answers"]
                                  if isinstance(a, dict))
        result.rss_ready_kb = max(r["rss_ready_kb"] for r in readies)
        result.rss_peak_kb = max(o["rss_peak_kb"] for o in outs)
        peaks = [o["traced_peak_bytes"] for o in outs if o["traced_peak_bytes"] is not None]
        result.traced_peak_bytes = max(peaks) if peaks else None
        result.top_allocations = [a for o in outs for a in o.get("top_allocations") or []][:5]
        result.errors = [o["error"] for o in outs if o["error"]]
        result.ecm_modules = sorted({m for o in outs for m in o["ecm_modules"]})
        result.answers = [a for o in outs for a in o["answers"]]
        calls = emu.calls()
        result.calls = count_calls(calls)
        result.problems = check_outcome(emu.state(), workload.shape.leaving_ids(), before)
        result.timeline = timeline(calls, go_at, result.seconds, knobs.task_seconds)
        result.reads = read_times(calls, go_at)
    return result


def timeline(calls: List[Dict[str, Any]], go_at: float, seconds: float, task_seconds: float) -> Dict[str, Any]:
    """Where a run's time went on each load balancer: the tasks (accepted writes) it ran, the wait
    before its first task, the idle gaps between one task's end and the next one's start, and the
    tail after its last task."""
    starts: Dict[str, List[float]] = defaultdict(list)
    for c in calls:
        if c["action"] in WRITES and not c.get("error_code") and c["service"] == "clb":
            starts[c["params"].get("LoadBalancerId", "?")].append(c["at"] - go_at)
    per_lb = {}
    for lb, ts in sorted(starts.items()):
        ts.sort()
        gaps = [max(b - (a + task_seconds), 0.0) for a, b in zip(ts, ts[1:])]
        per_lb[lb] = {
            "tasks": len(ts),
            "busy": len(ts) * task_seconds,
            "first_task_at": ts[0],
            "idle_between": sum(gaps),
            "median_gap": statistics.median(gaps) if gaps else 0.0,
            "tail": max(seconds - (ts[-1] + task_seconds), 0.0),
        }
    return per_lb


def read_times(calls: List[Dict[str, Any]], go_at: float) -> Dict[str, Any]:
    """When each action's accepted calls came, seconds after the start: (first, last, count)."""
    seen: Dict[str, List[float]] = defaultdict(list)
    for c in calls:
        if not c.get("error_code"):
            seen[f"{c['service']}:{c['action']}"].append(c["at"] - go_at)
    return {k: (min(v), max(v), len(v)) for k, v in sorted(seen.items())}
