"""Workload (k), the drain (issue 19 point 8): 40 instances on 4 load balancers leave, each backend
holding connections whose lifetimes are drawn from a stated, seeded distribution; the function drains
them the way it runs (timer runs consuming the lifecycle queue, the adaptive drain's signed envelopes
coming back to it), once per mode:

* adaptive (`CLB_UNBIND_DRAIN=adaptive`), with the default `CLB_UNBIND_DRAIN_ZERO_READINGS=1` and with 2;
* fixed at 300 s (`CLB_UNBIND_DRAIN_SECONDS`, scaled like every other time);
* the ideal, computed: the moment each backend's connections really reached 0, plus one period
  (never past the cap: a connection that outlives the cap is cut by any drain).

Time is API time on a scaled clock (the emulator's `monitor_period_seconds`): one 60 s period lasts
`period_wall` wall seconds, and every time the function is given (timer interval, fixed wait, cap)
is scaled the same way, so a drain of 10 minutes takes 50 s. What the function's own work costs is
not scaled: a timer run that looks at 40 draining instances takes up to about 3 wall seconds (16 reads
at 20 requests a second, the unbinds, the completions), i.e. 36 API seconds at 5 s a period, where on
the cloud it is 3 of 60. That only makes adaptive later than it would be.

Measured by the emulator (emulator/connections.py), never by the function: per backend the wall time
its weight-0 task applied and the time its deregister applied; the connections still open then were
cut. The emulator runs in this process (it mostly waits on timer ticks; the bench process does
nothing meanwhile), so the bench reads its connection model directly; each timer run is a fresh
worker process (`python -m bench.worker`), spawned ahead of its tick.
"""
from __future__ import annotations

import math
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from .estates import LIFECYCLE_QUEUE, Shape, fleet_estate, group_id, leaving_id

PERIOD = 60.0
"""API seconds of one Cloud Monitor period (docs/drain.md)."""
MAX_INSTANCES = 10
"""Dimension sets per GetMonitorData request (docs/drain.md): a look at B backends costs ceil(B/10) reads."""
SECRET = "d7" * 32
GMD = "GetMonitorData"

Key = Tuple[str, str, str, int]
"""(load balancer, listener, backend IP, backend port): one backend, as the emulator's connection model keys it."""


@dataclass(frozen=True)
class Lifetimes:
    """Each backend holds `connections` connections when its weight goes to 0. A share `never` of them
    never closes; the others close after a lognormal time (API seconds after the weight change) of
    median `median` and shape `sigma` (the log of the lifetime is normal, mean ln(median), sd sigma)."""

    connections: int = 20
    median: float = 30.0
    sigma: float = 1.2
    never: float = 0.01
    seed: int = 19

    def describe(self) -> str:
        return (f"{self.connections} connections per backend; each never closes with probability {self.never:g}, else closes "
                f"a lognormal time after the weight change: median {self.median:g} s, sigma {self.sigma:g} "
                f"(ln lifetime ~ N(ln {self.median:g}, {self.sigma:g}^2)); random.Random({self.seed})")

    def draw(self, keys: List[Key]) -> Dict[Key, Tuple[float, ...]]:
        rng = random.Random(self.seed)
        mu = math.log(self.median)
        out = {}
        for key in sorted(keys):
            out[key] = tuple(math.inf if rng.random() < self.never else rng.lognormvariate(mu, self.sigma)
                             for _ in range(self.connections))
        return out


@dataclass(frozen=True)
class DrainBench:
    shape: Shape = Shape(leaving=40, load_balancers=4, bound_on=4, l7_listeners=0)
    lifetimes: Lifetimes = Lifetimes()
    period_wall: float = 5.0
    """Wall seconds one 60 s period lasts; the timer fires once a period (the one-minute timer)."""
    delay: float = 60.0
    """Cloud Monitor's reporting delay, API seconds after a period ends (the emulator's default: no source states one)."""
    cap: float = 600.0
    """`CLB_UNBIND_DRAIN_MAX_SECONDS`, API seconds (the hook's heartbeat allows more)."""
    fixed: float = 300.0
    phase: float = 30.0
    """API seconds after a period boundary at which the timer fires. The emulator's periods start at
    multiples of the period and are published a delay later, so this fixes how long a published zero
    waits for the next timer run; on the cloud the phase is whatever the timer and the delay make it:
    30 s, half a period, is the mean wait over an unknown phase."""
    consume: float = 50.0
    """`CLB_UNBIND_CONSUME_SECONDS` (its default), API seconds: a run stops taking new passes after it."""
    task_seconds: float = 0.1
    """Wall seconds a load balancer task runs (3 API s at 2 s a period)."""
    latency: float = 0.02
    rate_limit: int = 20

    def wall(self, api_seconds: float) -> float:
        return api_seconds * self.period_wall / PERIOD

    def api(self, wall_seconds: float) -> float:
        return wall_seconds * PERIOD / self.period_wall

    def knobs(self) -> Dict[str, Any]:
        return {"task_seconds": self.task_seconds, "latency_seconds": self.latency, "rate_limit_per_second": self.rate_limit,
                "monitor_period_seconds": self.period_wall, "monitor_delay_seconds": self.wall(self.delay)}

    def env(self, mode: "Mode") -> Dict[str, str]:
        env = {"CLB_UNBIND_QUEUE": LIFECYCLE_QUEUE, "CLB_UNBIND_POLL_SECONDS": "0",
               "CLB_UNBIND_TIMER_SECONDS": f"{self.period_wall:g}", "CLB_UNBIND_ENVELOPE_SECRET": SECRET,
               "CLB_UNBIND_CONSUME_SECONDS": f"{self.wall(self.consume):g}", "CLB_UNBIND_DRAIN": mode.drain}
        if mode.drain == "fixed":
            env["CLB_UNBIND_DRAIN_SECONDS"] = f"{self.wall(self.fixed):g}"
        else:
            env["CLB_UNBIND_DRAIN_MAX_SECONDS"] = f"{self.wall(self.cap):g}"
            env["CLB_UNBIND_DRAIN_ZERO_READINGS"] = str(mode.zero_readings)
        return env

    def max_ticks(self) -> int:
        """Timer runs before the bench gives up: the cap, and ten periods more."""
        return int(max(self.cap, self.fixed) / PERIOD) + 10

    def describe(self) -> str:
        return (f"clock: one 60 s period = {self.period_wall:g} wall s; reporting delay {self.delay:g} s; a timer run every "
                f"60 s (CLB_UNBIND_TIMER_SECONDS={self.period_wall:g}); cap {self.cap:g} s (CLB_UNBIND_DRAIN_MAX_SECONDS="
                f"{self.wall(self.cap):g}); the timer fires {self.phase:g} s after a period boundary; consume {self.consume:g} s; fixed {self.fixed:g} s (CLB_UNBIND_DRAIN_SECONDS={self.wall(self.fixed):g}); "
                f"emulator (in the bench's process) task_seconds={self.task_seconds:g} latency={self.latency:g} rate limit {self.rate_limit}/s per action")


@dataclass(frozen=True)
class Mode:
    name: str
    drain: str
    zero_readings: int = 1


MODES = (Mode("adaptive", "adaptive", 1), Mode("adaptive, 2 zero readings", "adaptive", 2), Mode("fixed 300 s", "fixed"))


@dataclass
class Look:
    """One look of the function at its draining backends: a series of GetMonitorData calls with no other
    call between them (a pass of a timer run reads once, after the weights and before the unbinds)."""

    sets: int
    """Distinct dimension sets (backends) read."""
    reads: int
    """GetMonitorData calls, refused ones included."""

    @property
    def bound(self) -> int:
        return math.ceil(self.sets / MAX_INSTANCES)


@dataclass
class Run:
    """One timer run: when it began (API seconds after the scale-in), the backends still bound then, its looks."""

    at: float
    backends: int
    looks: List[Look]
    passes: int
    seconds: float
    """Wall seconds the run took."""
    error: Optional[str] = None


def looks_of(calls: List[Any]) -> List[Look]:
    out: List[Look] = []
    sets: set = set()
    reads = 0
    for c in calls + [None]:
        if c is not None and c.action == GMD:
            reads += 1
            sets |= {tuple(sorted((d["Name"], d["Value"]) for d in i.get("Dimensions") or []))
                     for i in c.params.get("Instances") or []}
        elif reads:
            out.append(Look(len(sets), reads))
            sets, reads = set(), 0
    return out


@dataclass
class ModeRun:
    mode: Mode
    seconds: Dict[Key, float] = field(default_factory=dict)
    """API seconds from the weight change to the unbind, per backend."""
    cut: Dict[Key, int] = field(default_factory=dict)
    cut_below_cap: Dict[Key, int] = field(default_factory=dict)
    """Cut connections that would have closed before the cap."""
    ready: Dict[Key, float] = field(default_factory=dict)
    """API seconds from the weight change to the publication of the zero periods the function needs
    (backends whose connections all close before the cap)."""
    runs: List[Run] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)

    @property
    def looks(self) -> List[Look]:
        return [x for r in self.runs for x in r.looks]

    @property
    def reads(self) -> int:
        return sum(x.reads for x in self.looks)

    def over_bound(self) -> List[str]:
        """Looks that cost more than ceil(sets/10) reads, or read more backends than were still bound."""
        out = [f"{x.reads} reads for {x.sets} sets" for x in self.looks if x.reads > x.bound]
        return out + [f"run at {r.at:.0f} s read {x.sets} sets, {r.backends} bound" for r in self.runs for x in r.looks
                      if x.sets > r.backends]


# -- the ideal ---------------------------------------------------------------------------------------
def ideal(b: DrainBench, lives: Dict[Key, Tuple[float, ...]]) -> Dict[Key, float]:
    """When each backend's connections really reached 0, plus one period; the cap when some outlive it."""
    return {k: min(max(v, default=0.0) + PERIOD, b.cap) for k, v in lives.items()}


def cut_at(lifetimes: Tuple[float, ...], seconds: float, cap: float) -> Tuple[int, int]:
    """Connections open `seconds` after the weight change: all of them, and those that would have closed before the cap."""
    from emulator.connections import open_after

    return open_after(lifetimes, seconds), sum(1 for life in lifetimes if seconds < life < cap)


# -- one mode, driven by timer runs ----------------------------------------------------------------
TimerRun = Callable[[Dict[str, str]], Dict[str, Any]]
"""Runs the timer event once with this environment; returns the answer (or {"error": ...})."""


def backends_of(estate: Any, shape: Shape) -> List[Key]:
    ips = {ip for i in range(shape.leaving) for ip in estate.instances[leaving_id(i)].private_ips}
    return sorted((lb.lb_id, listener.listener_id, t.ip, t.port) for lb, listener, _, t in estate.iter_bindings() if t.ip in ips)


def start_emulator(b: DrainBench, lives_by: Optional[Dict[Key, Tuple[float, ...]]] = None) -> Tuple[Any, Any, Dict[Key, Tuple[float, ...]]]:
    """An emulator on the fleet estate, every leaving backend given its connections' lifetimes."""
    from emulator import Emulator, Knobs
    from emulator.estate import Estate

    estate = Estate.from_dict(fleet_estate(b.shape))
    keys = backends_of(estate, b.shape)
    lives = lives_by if lives_by is not None else b.lifetimes.draw(keys)
    for key, v in lives.items():
        estate.connections.set_lifetimes(*key, list(v))
    emu = Emulator(estate, knobs=Knobs(**b.knobs()))
    emu.start()
    return emu, estate, lives


def emulator_env(emu: Any) -> Dict[str, str]:
    """What SCF would give the function, every call sent to this emulator."""
    secret_id, secret_key, _ = emu.credentials
    return {"TENCENTCLOUD_SECRETID": secret_id, "TENCENTCLOUD_SECRETKEY": secret_key, "TENCENTCLOUD_REGION": "ap-guangzhou",
            "CLB_UNBIND_ENDPOINT": emu.endpoint}


def _bound(estate: Any, keys: List[Key]) -> int:
    return sum(1 for k in keys if k not in estate.connections.unbound_at)


def _done(emu: Any, shape: Shape) -> bool:
    results = {r["instanceId"]: r.get("result") for r in emu.lifecycle_results()}
    return all(results.get(leaving_id(i)) for i in range(shape.leaving)) and not any(emu.queue_state(LIFECYCLE_QUEUE).values())


def drive(b: DrainBench, mode: Mode, emu: Any, estate: Any, lives: Dict[Key, Tuple[float, ...]], timer: TimerRun) -> ModeRun:
    """Scale in, then a timer run once a period (a run that overruns its tick delays the next) until every
    lifecycle action is completed and the queue is empty, or the cap and ten periods have passed."""
    result = ModeRun(mode)
    keys = sorted(lives)
    env = {**emulator_env(emu), **b.env(mode)}
    step = b.period_wall
    first = (math.floor(time.time() / step) + 1) * step + b.wall(b.phase)
    time.sleep(max(first - time.time(), 0.0))
    emu.scale_in(group_id(0), [leaving_id(i) for i in range(b.shape.leaving)], publish=True)
    tick = 0
    while tick <= b.max_ticks():
        time.sleep(max(first + tick * b.period_wall - time.time(), 0.0))
        seen = len(emu.calls)
        bound = _bound(estate, keys)
        at = time.time()
        answer = timer(env)
        queue = answer.get("queue") if isinstance(answer.get("queue"), dict) else {}
        result.runs.append(Run(b.api(at - first), bound, looks_of(emu.calls[seen:]), int(queue.get("passes") or 0),
                               time.time() - at, answer.get("error")))
        if _done(emu, b.shape):
            break
        tick = max(tick + 1, math.ceil((time.time() - first) / b.period_wall))
    else:
        result.problems.append(f"not done after {b.max_ticks()} timer runs")
    model = estate.connections
    for key in keys:
        zero, gone = model.zero_since.get(key), model.unbound_at.get(key)
        if gone is None:
            result.problems.append(f"{key} never unbound")
            continue
        if zero is None:
            result.problems.append(f"{key} unbound without its weight going to 0 first")
            zero = gone
        seconds = b.api(gone - zero)
        result.seconds[key] = seconds
        result.cut[key], result.cut_below_cap[key] = cut_at(lives[key], seconds, b.cap)
        last = max(lives[key], default=0.0)
        if mode.drain == "adaptive" and last < b.cap:
            result.ready[key] = b.api(ready_at(b, zero + b.wall(last), mode.zero_readings) - zero)
    result.problems += [f"run at {x.at:.0f} s: {x.error}" for x in result.runs if x.error]
    return result


def ready_at(b: DrainBench, closed: float, zero_readings: int) -> float:
    """Wall time the last of `zero_readings` zero periods is published, the last connection having closed at
    `closed`: the first period that reads 0 starts at the first period boundary from then (the emulator's
    periods start at multiples of the period; Connum is the count at the period's start), and a period is
    published one period and the delay after it starts."""
    step = b.period_wall
    first = math.ceil(closed / step) * step
    return first + zero_readings * step + b.wall(b.delay)


def run_mode(b: DrainBench, mode: Mode, timer: TimerRun, lives: Optional[Dict[Key, Tuple[float, ...]]] = None) -> ModeRun:
    emu, estate, lives = start_emulator(b, lives)
    try:
        return drive(b, mode, emu, estate, lives, timer)
    finally:
        emu.stop()


class WorkerTimer:
    """Timer runs for the bench: each in a fresh worker process, the next one spawned (and its imports
    done) while the current one runs, so a run starts on its tick."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0
        self.ready: Optional[Any] = None
        self.ready_env: Dict[str, str] = {}

    def _spawn(self, env: Dict[str, str]) -> Any:
        from .queue_workloads import _Timer

        self.count += 1
        self.ready_env = env
        return _Timer(env, f"{self.name}-{self.count}")

    def __call__(self, env: Dict[str, str]) -> Dict[str, Any]:
        current = self.ready if self.ready is not None and self.ready_env == env else self._spawn(env)
        current.go()
        self.ready = self._spawn(env)
        try:
            out = current.result()
        except Exception as exc:  # the worker died: the run counts as failed
            return {"error": f"{type(exc).__name__}: {exc}"}
        answer = out["answers"][0] if out["answers"] else {}
        answer = answer if isinstance(answer, dict) else {}
        if out.get("error"):
            answer = {**answer, "error": out["error"]}
        return answer

    def close(self) -> None:
        if self.ready is not None:
            self.ready.end()
            self.ready = None


def run_bench_mode(b: DrainBench, mode: Mode) -> ModeRun:
    """A mode in the bench: the emulator in this process, timer runs in worker processes."""
    emu, estate, lives = start_emulator(b)
    timer = WorkerTimer(f"bench-k-{mode.drain}{mode.zero_readings}")
    try:
        return drive(b, mode, emu, estate, lives, timer)
    finally:
        timer.close()
        emu.stop()


# -- the table ------------------------------------------------------------------------------------
def _pct(values: List[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(p * len(s)) - 1))]


def _row(name: str, seconds: List[float], cut: int, below: int, over: int, reads: str, looks: str, per_look: str) -> List[str]:
    return [name, f"{statistics.median(seconds):.0f}", f"{_pct(seconds, 0.9):.0f}", f"{max(seconds):.0f}",
            str(cut), str(below), str(over), reads, looks, per_look]


def verdict(b: DrainBench, run: ModeRun, best: Dict[Key, float]) -> Tuple[bool, List[str]]:
    """The goal: every backend unbound within ideal + one period + the reporting delay, and no connection
    cut that would have closed before the cap."""
    allowed = PERIOD + b.delay
    late = {k: s - best[k] for k, s in run.seconds.items() if s > best[k] + allowed}
    below = sum(run.cut_below_cap.values())
    reasons = []
    if late:
        worst = max(late.values())
        reasons.append(f"{len(late)} of {len(run.seconds)} backends later than ideal + {allowed:g} s (worst: ideal + {worst:.0f} s)")
        known = [k for k in late if k in run.ready]
        early = [k for k in known if run.ready[k] > best[k] + allowed]
        if known:
            reasons.append(f"of the {len(known)} late ones that reach 0 before the cap, {len(early)} were late already when "
                           f"their {run.mode.zero_readings} zero period(s) were published (ideal + the wait for a period "
                           f"boundary, 0-{PERIOD:g} s, + {(run.mode.zero_readings - 1) * PERIOD:g} s + the delay), "
                           f"{len(known) - len(early)} by the wait for the next timer run and the run itself")
    if below:
        reasons.append(f"{below} connections cut that would have closed before the cap")
    if run.problems:
        reasons.append("run not ok: " + "; ".join(run.problems[:3]))
    if run.mode.drain == "adaptive" and run.over_bound():
        reasons.append(f"{len(run.over_bound())} looks over the read bound")
    return not reasons, reasons


def lines(b: DrainBench, runs: List[ModeRun], lives: Dict[Key, Tuple[float, ...]]) -> List[str]:
    from .report import _table

    best = ideal(b, lives)
    keys = sorted(lives)
    conns = sum(len(v) for v in lives.values())
    never = sum(1 for v in lives.values() for life in v if math.isinf(life))
    over_cap = sum(1 for v in lives.values() for life in v if life >= b.cap)
    out = [f"  {b.shape.leaving} instances x {b.shape.bound_on} LBs, one TCP listener each: {len(keys)} backends, {conns} connections",
           f"  lifetimes: {b.lifetimes.describe()}",
           f"  drawn: {never} never close, {over_cap} outlive the cap in all; the last connection of a backend closes "
           f"(median / p90 of finite ones) at {statistics.median(_finite_max(lives)):.0f} / {_pct(_finite_max(lives), 0.9):.0f} s",
           f"  {b.describe()}",
           "  seconds: API time from the backend's weight-0 task to its deregister task, as the emulator applied them; "
           "cut: connections open at the deregister",
           ""]
    header = ["mode", "median s", "p90 s", "max s", "cut", "below cap", "over cap", "reads", "looks", "reads/look (bound)"]
    rows = [header]
    ideal_cut = [cut_at(lives[k], best[k], b.cap) for k in keys]
    rows.append(_row("ideal (reached 0 + 60 s)", [best[k] for k in keys], sum(c for c, _ in ideal_cut),
                     sum(x for _, x in ideal_cut), sum(c - x for c, x in ideal_cut), "-", "-", "-"))
    for r in runs:
        if not r.seconds:
            rows.append([r.mode.name, "-", "-", "-", "-", "-", "-", str(r.reads), "-", "-"])
            continue
        looked = r.looks
        per = f"max {max(x.reads for x in looked)}, {'each <= bound' if not r.over_bound() else 'OVER'}" if looked else "-"
        cut, below = sum(r.cut.values()), sum(r.cut_below_cap.values())
        rows.append(_row(r.mode.name, list(r.seconds.values()), cut, below, cut - below, str(r.reads), str(len(looked)), per))
    out += _table(rows, right_from=1)
    out.append("")
    out.append(f"  reads bound: a look at B backends costs ceil(B/10) GetMonitorData (10 dimension sets a request, docs/drain.md), "
               f"B never more than the backends still bound; a look at all {len(keys)}: {math.ceil(len(keys) / MAX_INSTANCES)}")
    for r in runs:
        if r.mode.drain != "adaptive" or not r.seconds:
            continue
        extra = [r.seconds[k] - best[k] for k in keys if k in r.seconds]
        data = [r.ready[k] - best[k] for k in keys if k in r.ready and k in r.seconds]
        lag = [r.seconds[k] - r.ready[k] for k in keys if k in r.ready and k in r.seconds]
        multi = sum(1 for x in r.runs if len(x.looks) > 1)
        first = next((x for x in r.looks), None)
        out.append(f"  {r.mode.name}: unbind minus the ideal, per backend: median {statistics.median(extra):.0f} s, p90 "
                   f"{_pct(extra, 0.9):.0f} s, max {max(extra):.0f} s")
        if data:
            out.append(f"    of which, for the {len(data)} backends that reach 0 before the cap: the {r.mode.zero_readings} zero "
                       f"period(s) published at ideal + median {statistics.median(data):.0f} s (p90 {_pct(data, 0.9):.0f}); "
                       f"then to the unbind (the next timer run, the run, the deregister task): median "
                       f"{statistics.median(lag):.0f} s, p90 {_pct(lag, 0.9):.0f} s, max {max(lag):.0f} s")
        over = sum(1 for x in r.runs if x.seconds > b.period_wall)
        out.append(f"    {len(r.runs)} timer runs (longest {max(x.seconds for x in r.runs):.2f} wall s = "
                   f"{b.api(max(x.seconds for x in r.runs)):.0f} API s; {over} longer than a period, delaying the next: the "
                   f"function's own time is not scaled), {len(r.looks)} looks, {multi} runs with more than one "
                   "(envelopes that came back between its passes)"
                   + (f"; first look: {first.sets} backends, {first.reads} reads" if first else ""))
    for r in runs:
        if r.problems:
            out.append(f"  {r.mode.name}: NOT OK: {'; '.join(r.problems[:3])}")
    return out


def _finite_max(lives: Dict[Key, Tuple[float, ...]]) -> List[float]:
    return [max((life for life in v if not math.isinf(life)), default=0.0) for v in lives.values()]


def goal_lines(b: DrainBench, runs: List[ModeRun], lives: Dict[Key, Tuple[float, ...]]) -> List[str]:
    best = ideal(b, lives)
    out = []
    for r in runs:
        if r.mode.drain != "adaptive":
            continue
        met, reasons = verdict(b, r, best)
        why = "" if met else ": " + "; ".join(reasons)
        if not met and (r.mode.zero_readings - 1) * PERIOD + b.delay >= PERIOD + b.delay:
            why += (f" (by construction: {r.mode.zero_readings} zero periods are published at best ideal + "
                    f"{(r.mode.zero_readings - 1) * PERIOD + b.delay:g} s, the goal's whole margin, before any wait "
                    "for a period boundary or a timer run)")
        out.append(f"(k) {r.mode.name}: unbind <= ideal + {PERIOD:g} s + delay {b.delay:g} s, 0 cut below the cap  "
                   f"{'MET' if met else 'MISSED'}{why}")
    return out


def run_bench(b: DrainBench, progress: Callable[[str], None]) -> Tuple[List[ModeRun], Dict[Key, Tuple[float, ...]]]:
    runs = []
    for mode in MODES:
        progress(f"(k) drain: {mode.name}")
        runs.append(run_bench_mode(b, mode))
    from emulator.estate import Estate

    estate = Estate.from_dict(fleet_estate(b.shape))
    return runs, b.lifetimes.draw(backends_of(estate, b.shape))
