"""Adaptive drain, one look (CLB_UNBIND_DRAIN=adaptive; docs/drain.md): weights to 0 where they are not,
read every draining binding's connections in as few GetMonitorData calls as the limits allow, and hand
back the bindings whose drain has ended. A run never waits for a drain: what still drains goes back to
the queue with its state (finish.py), and the next timer run looks again.

An instance found without a drain state whose bindings already weigh 0 (a lost envelope, found again by
the sweep) is resumed: its weights are not written again, and its readings start from now.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .apply import run_per_load_balancer, zero_weights
from .cloud import monitor
from .cloud.clb_addresses import addresses
from .cloud.errors import CloudError
from .cloud.session import CloudSession
from .drain_adaptive import Ended, cap_seconds, decide, fold, start
from .log import decision
from .model import Binding, Cloud, Kind, Notice
from .plan import plan
from .wire.drain_state import BindingDrain, DrainState


@dataclass
class DrainLook:
    release: List[Binding] = field(default_factory=list)
    """Bindings whose drain ended: unbind them now."""
    pending: Dict[str, DrainState] = field(default_factory=dict)
    """Instances still draining, with the state the next look continues from."""
    ends: Dict[str, List[Ended]] = field(default_factory=dict)


def _metered(b: Binding) -> bool:
    """Cloud Monitor has per-backend connections for CLB listener targets only (docs/drain.md#ecm)."""
    return b.cloud is Cloud.CLB and b.kind is Kind.LISTENER


def _backend(b: Binding, where: Dict[str, Tuple[str, str]]) -> Optional[Tuple[str, str, int, str, str, int]]:
    if not _metered(b) or b.load_balancer_id not in where:
        return None
    vip, vpc_id = where[b.load_balancer_id]
    return (vip, vpc_id, b.listener_port, b.protocol.upper(), b.private_ip, b.target_port)


def _heartbeat(session: CloudSession, notice: Notice) -> Optional[int]:
    from .own_hooks import hook_named

    action = notice.lifecycle
    if action is None or not notice.claimed_group:
        return None
    try:
        hook = hook_named(session, notice.claimed_group, action.hook_id)
    except CloudError:
        return None
    return hook.heartbeat_timeout if hook is not None else None


def look(session: CloudSession, notices: Sequence[Notice], mine: Dict[str, Tuple[Binding, ...]]) -> DrainLook:
    settings = session.settings
    now = time.time()
    out = DrainLook()
    wanted: Dict[str, Notice] = {}
    for n in notices:
        if n.dry_run or not mine.get(n.instance_id):
            continue
        had = wanted.get(n.instance_id)
        # Two envelopes of one instance (a resumed drain whose envelope came back after all): keep the older drain.
        if had is None or (n.drain is not None and (had.drain is None or n.drain.since < had.drain.since)):
            wanted[n.instance_id] = n
    if not wanted:
        return out
    lbs = {b.load_balancer_id for iid in wanted for b in mine[iid] if _metered(b)}
    where: Dict[str, Tuple[str, str]] = {}
    if lbs:
        region = next(b.region for iid in wanted for b in mine[iid] if _metered(b))
        try:
            where = addresses(session, region, lbs)
        except CloudError as exc:
            decision("drain_addresses_unread", level=logging.WARNING, error_code=exc.code, error_message=exc.failure.message,
                     reason="no VIP to read connections by: these bindings wait the fixed time")
    states: Dict[str, DrainState] = {}
    to_zero: List[Binding] = []
    for iid, notice in sorted(wanted.items()):
        bindings = mine[iid]
        state = notice.drain
        if state is None:
            cap = cap_seconds(settings.drain_max_seconds, _heartbeat(session, notice), settings.timer_seconds,
                              settings.consume_seconds, settings.safety_margin_seconds)
            state = start([(b.label, _backend(b, where)) for b in bindings], now, cap)
            heavy = [b for b in bindings if b.cloud is Cloud.CLB and b.weight != 0]
            to_zero += heavy
            decision("drain_started" if heavy else "drain_resumed", instance_id=iid, cap_seconds=round(cap, 3),
                     bindings=len(bindings), weights_written=len(heavy))
        else:
            known = {b.key for b in state.bindings}
            extra = tuple(BindingDrain(key=b.label, backend=_backend(b, where)) for b in bindings if b.label not in known)
            state = state.model_copy(update={"bindings": state.bindings + extra})
            to_zero += [b for b in bindings if b.label not in known and b.cloud is Cloud.CLB and b.weight != 0]
        states[iid] = state
    if to_zero:
        for result in run_per_load_balancer(session, plan(to_zero), zero_weights):
            if result.failure is not None:
                decision("drain_weight_failed", level=logging.WARNING, load_balancer_id=result.batch.load_balancer_id,
                         error_code=result.failure.code, reason="connections are read anyway; the cap ends the drain")
    series = _read(session, states, now)
    for iid, state in states.items():
        state = fold(state, series)
        ended = decide(state, now, settings.drain_zero_readings, settings.drain_seconds)
        done = {e.key for e in ended}
        out.ends[iid] = ended
        out.release += [b for b in mine[iid] if b.label in done]
        for e in ended:
            decision(e.how, instance_id=iid, binding=e.key, drain_seconds=e.seconds, connections=e.connections)
        if len(done) < len(state.bindings):
            out.pending[iid] = state.model_copy(update={"bindings": tuple(b for b in state.bindings if b.key not in done)})
            decision("draining", instance_id=iid, waiting=sorted(b.key for b in state.bindings if b.key not in done),
                     seconds=round(now - state.since, 3), cap_in_seconds=round(state.cap_at - now, 3))
    return out


def _read(session: CloudSession, states: Dict[str, DrainState], now: float) -> Dict[Tuple, monitor.Series]:
    backends = {tuple(b.backend) for s in states.values() for b in s.bindings if b.backend is not None}
    if not backends:
        return {}
    since = min(s.since for s in states.values())
    region = session.settings.region
    try:
        return monitor.connections(session, region, backends, max(since - monitor.PERIOD, now - 3600), now)
    except CloudError as exc:
        decision("drain_read_failed", level=logging.WARNING, error_code=exc.code, error_message=exc.failure.message,
                 reason="unknown is not zero: the drain goes on toward its cap")
        return {}
