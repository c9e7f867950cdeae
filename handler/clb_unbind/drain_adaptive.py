"""Adaptive drain, the decision: unbind a binding once its connections have read 0 for N consecutive
60 s periods after its weight went to 0, or at the cap (docs/drain.md).

Pure: the readings come in (cloud/monitor.py), the decision and the new state go out; the pipeline
writes weights and unbinds. A period with no data point (not published yet, a gap, a failed read) is
never a zero: it breaks a run of zeros, and only the cap ends such a drain.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Tuple

from .cloud.monitor import PERIOD, Series
from .wire.drain_state import BindingDrain, DrainState

DRAINED = "drained"
DRAIN_CAP = "drain_cap"
FIXED_WAIT = "fixed_wait"


@dataclass(frozen=True)
class Ended:
    key: str
    how: str
    """`drained` (connections read 0), `drain_cap` (the cap came first), `fixed_wait` (no metric: waited the fixed time)."""
    seconds: float
    """From the weight change to this decision."""
    connections: Optional[float] = None
    """`drain_cap`: the last reading (None: never read)."""


def cap_seconds(max_seconds: float, heartbeat: Optional[int], timer_seconds: float, run_seconds: float,
                margin: float) -> float:
    """The smaller of the configured maximum and the hook's heartbeat less one timer interval, one run and a margin."""
    if heartbeat is None:
        return max(max_seconds, 0.0)
    return max(min(max_seconds, heartbeat - timer_seconds - run_seconds - margin), 0.0)


def unseen_cap_at(now: float, cap: float, heartbeat: Optional[int], hook_start: Optional[float], timer_seconds: float,
                  run_seconds: float, margin: float) -> float:
    """The cap of a drain the function did not see begin (resumed, or found by the sweep): `cap` from now,
    and never later than the hook's start plus its heartbeat less one timer interval, one run and a margin.
    An unknown start (`hook_start` None with a heartbeat known) ends the drain now: the wait may be about
    to run out, and Auto Scaling ending it with the instance still bound is worse than cutting a drain
    whose weights went to 0 an unknown time ago (docs/drain.md#a-drain-the-function-did-not-see-begin)."""
    if heartbeat is None:
        return now + cap
    if hook_start is None:
        return now
    return max(now, min(now + cap, hook_start + heartbeat - timer_seconds - run_seconds - margin))


def fold(state: DrainState, series: Dict[Tuple, Series]) -> DrainState:
    """Add the periods read since the last look; only periods that start at or after the weight change count."""
    out = []
    for b in state.bindings:
        points = series.get(tuple(b.backend)) if b.backend is not None else None
        if not points:
            out.append(b)
            continue
        zeros, last, value = b.zeros, b.last_period, b.last_value
        for ts in sorted(t for t in points if t >= state.since and (last is None or t > last)):
            if last is not None and ts - last > PERIOD:
                zeros = 0  # a missing period between two readings is not a zero
            zeros = zeros + 1 if points[ts] == 0 else 0
            last, value = ts, points[ts]
        out.append(b.model_copy(update={"zeros": zeros, "last_period": last, "last_value": value}))
    return state.model_copy(update={"bindings": tuple(out)})


def decide(state: DrainState, now: float, zero_readings: int, fixed_seconds: float) -> List[Ended]:
    """The bindings whose drain ends now, and how."""
    ended = []
    seconds = round(max(now - state.since, 0.0), 3)
    for b in state.bindings:
        if b.backend is None:
            if now >= state.since + min(fixed_seconds, state.cap_at - state.since):
                ended.append(Ended(b.key, FIXED_WAIT, seconds))
        elif b.zeros >= zero_readings:
            ended.append(Ended(b.key, DRAINED, seconds, 0.0))
        elif now >= state.cap_at:
            ended.append(Ended(b.key, DRAIN_CAP, seconds, b.last_value))
    return ended


def start(keys_backends: List[Tuple[str, Optional[Tuple]]], now: float, cap: float,
          namespaces: Optional[Mapping[str, str]] = None) -> DrainState:
    """`namespaces`: binding key → Cloud Monitor namespace, for those not read in the private CLB's."""
    return DrainState(since=now, cap_at=now + cap,
                      bindings=tuple(BindingDrain(key=k, backend=b, namespace=(namespaces or {}).get(k))
                                     for k, b in keys_backends))
