"""Adaptive drain, one look (CLB_UNBIND_DRAIN=adaptive; docs/drain.md): weights to 0 where they are not,
read every draining binding's connections in as few GetMonitorData calls as the limits allow, and hand
back the bindings whose drain has ended. A run never waits for a drain: what still drains goes back to
the queue with its state (finish.py), and the next timer run looks again.

An instance found without a drain state whose bindings already weigh 0 (a lost envelope, found again by
the sweep) is resumed: its weights are not written again, and its readings start from now. Its cap, and
that of any drain the sweep starts (a lost notification), also counts from the start of the activity
that put it in its hook (hook_start.py), so it never falls after the hook's heartbeat.

One chain per drain (docs/drain.md#one-chain-per-drain): two envelopes of one instance met in one pass
keep the older drain; one met later in a run that already re-queued the instance's drain (a resumed
duplicate, a redelivered older envelope, a redelivered notification) ends there, carried by the
envelope the run sent. Each re-queued state gets a fresh `look` id, so the run's own envelope coming
back early is told apart from another chain.
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple

from .apply import run_per_load_balancer, zero_weights
from .cloud import monitor
from .cloud.autoscaling import WAITING_STATE
from .cloud.clb_addresses import Address, addresses
from .cloud.errors import CloudError
from .cloud.session import CloudSession
from .drain_adaptive import PROBE_LOOKS, Ended, cap_seconds, decide, fold, start, unseen_cap_at
from .hook_start import hook_started
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
    carried: Set[str] = field(default_factory=set)
    """Instances whose drain this run already re-queued: left to that envelope (their `pending` is it)."""


SENT = "drains_sent"


def sent_this_run(session: CloudSession) -> Dict[str, DrainState]:
    """instance id → the drain state this run re-queued for it (finish.py records each sent envelope)."""
    return session.memo.setdefault(SENT, {})


def _metered(b: Binding) -> bool:
    """Cloud Monitor has per-backend connections for listener targets: CLB's (`QCE/LB_RS_PRIVATE`,
    `QCE/LB_PUBLIC`) and ECM's (`QCE/ECM_LB`, docs/drain.md#ecm). A target-group member is read as the
    real server of its group's listener when the group serves exactly one (unconfirmed, so probed:
    docs/drain.md#target-groups); none for classic load balancers."""
    return (b.kind is Kind.LISTENER and b.cloud in (Cloud.CLB, Cloud.ECM)) or _one_listener(b)


def _one_listener(b: Binding) -> bool:
    return (b.kind is Kind.TARGET_GROUP and b.cloud is Cloud.CLB and not b.full_listen and len(b.serves) == 1
            and b.serves[0].port > 0 and bool(b.serves[0].protocol))


def _probed(bindings: Sequence[Binding]) -> Set[str]:
    return {b.label for b in bindings if _one_listener(b)}


def _weighed(b: Binding) -> bool:
    """Whose weight the drain sets to 0: CLB's (listeners, target groups; classic: a no-op) and ECM's."""
    return b.weight != 0 and (b.cloud is Cloud.CLB or _metered(b))


def _backend(b: Binding, where: Dict[str, Address]) -> Optional[Tuple[str, str, int, str, str, int]]:
    if not _metered(b) or b.load_balancer_id not in where:
        return None
    vip, vpc_id, _ = where[b.load_balancer_id]
    if b.kind is Kind.TARGET_GROUP:
        (serves,) = b.serves
        return (vip, vpc_id, serves.port, serves.protocol.upper(), b.private_ip, b.target_port)
    return (vip, vpc_id, b.listener_port, b.protocol.upper(), b.private_ip, b.target_port)


def _namespaces(bindings: Sequence[Binding], where: Dict[str, Address]) -> Dict[str, str]:
    """binding label → namespace, for bindings read outside the private CLB's (public CLBs)."""
    return {b.label: where[b.load_balancer_id].namespace for b in bindings
            if _metered(b) and b.load_balancer_id in where and where[b.load_balancer_id].namespace != monitor.PRIVATE}


def _heavy(bindings: Sequence[Binding]) -> List[Binding]:
    """Bindings the drain weighs (CLB's, ECM's) whose weight is not 0 yet."""
    return [b for b in bindings if _weighed(b)]


def _resumed(bindings: Sequence[Binding]) -> bool:
    """Weighed bindings, all already at weight 0: a drain began before this look (its envelope lost)."""
    return any(b.cloud is Cloud.CLB or _metered(b) for b in bindings) and not _heavy(bindings)


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


def _preferred(n: Notice, had: Optional[Notice], sent: Optional[DrainState]) -> bool:
    """Whether `n` rather than `had` speaks for its instance in this look. The run's own chain first (the
    envelope it sent, back early: `look` matches), then the older drain of two (a resumed drain whose
    envelope came back after all), then one with a drain state over a bare notice."""
    if had is None:
        return True
    if sent is not None and (had.drain is not None and had.drain.look == sent.look):
        return False
    if sent is not None and n.drain is not None and n.drain.look == sent.look:
        return True
    return n.drain is not None and (had.drain is None or n.drain.since < had.drain.since)


def look(session: CloudSession, notices: Sequence[Notice], mine: Dict[str, Tuple[Binding, ...]]) -> DrainLook:
    settings = session.settings
    now = time.time()
    out = DrainLook()
    sent = sent_this_run(session)
    wanted: Dict[str, Notice] = {}
    for n in notices:
        if n.dry_run or not mine.get(n.instance_id):
            continue
        if _preferred(n, wanted.get(n.instance_id), sent.get(n.instance_id)):
            wanted[n.instance_id] = n
    for iid, notice in sorted(wanted.items()):
        earlier = sent.get(iid)
        state = notice.drain
        if earlier is not None and (state is None or state.look != earlier.look):
            out.pending[iid] = earlier
            out.carried.add(iid)
            decision("drain_duplicate", instance_id=iid, since=state.since if state else None, kept_since=earlier.since,
                     reason="this run already re-queued the instance's drain: this chain ends here")
    wanted = {iid: n for iid, n in wanted.items() if iid not in out.carried}
    if not wanted:
        return out
    # A drain state keeps each binding's dimensions: only bindings it does not know yet need their address.
    where = _addresses(session, [b for iid, n in wanted.items() for b in mine[iid] if _metered(b)
                                 and (n.drain is None or b.label not in {d.key for d in n.drain.bindings})])
    unseen = {iid: str(n.claimed_group) for iid, n in wanted.items() if n.drain is None and n.lifecycle is not None
              and n.claimed_group and (n.reason == WAITING_STATE or _resumed(mine[iid]))}
    starts = hook_started(session, unseen) if unseen else {}
    states: Dict[str, DrainState] = {}
    to_zero: List[Binding] = []
    for iid, notice in sorted(wanted.items()):
        bindings = mine[iid]
        state = notice.drain
        if state is None:
            heartbeat = _heartbeat(session, notice)
            cap = cap_seconds(settings.drain_max_seconds, heartbeat, settings.timer_seconds,
                              settings.consume_seconds, settings.safety_margin_seconds)
            if iid in unseen:
                cap = unseen_cap_at(now, cap, heartbeat, starts.get(iid), settings.timer_seconds,
                                    settings.consume_seconds, settings.safety_margin_seconds) - now
            state = start([(b.label, _backend(b, where)) for b in bindings], now, cap, _namespaces(bindings, where),
                          _probed(bindings))
            heavy = _heavy(bindings)
            to_zero += heavy
            decision("drain_started" if heavy else "drain_resumed", instance_id=iid, cap_seconds=round(cap, 3),
                     bindings=len(bindings), weights_written=len(heavy),
                     hook_started=starts.get(iid) if iid in unseen else None)
        else:
            known = {b.key for b in state.bindings}
            spaces = _namespaces(bindings, where)
            extra = tuple(BindingDrain(key=b.label, backend=_backend(b, where), namespace=spaces.get(b.label),
                                       probed=_one_listener(b) and _backend(b, where) is not None)
                          for b in bindings if b.label not in known)
            state = state.model_copy(update={"bindings": state.bindings + extra})
            to_zero += [b for b in bindings if b.label not in known and _weighed(b)]
        states[iid] = state
    if to_zero:
        for result in run_per_load_balancer(session, plan(to_zero), zero_weights):
            if result.failure is not None:
                decision("drain_weight_failed", level=logging.WARNING, load_balancer_id=result.batch.load_balancer_id,
                         error_code=result.failure.code, reason="connections are read anyway; the cap ends the drain")
    series = _read(session, states, now)
    for iid, state in states.items():
        state = fold(state, series)
        ended = decide(state, now, settings.drain_zero_readings, settings.drain_seconds, PROBE_LOOKS * settings.timer_seconds)
        done = {e.key for e in ended}
        out.ends[iid] = ended
        out.release += [b for b in mine[iid] if b.label in done]
        for e in ended:
            decision(e.how, instance_id=iid, binding=e.key, drain_seconds=e.seconds, connections=e.connections, reason=e.reason)
        if len(done) < len(state.bindings):
            out.pending[iid] = state.model_copy(update={"bindings": tuple(b for b in state.bindings if b.key not in done),
                                                        "look": uuid.uuid4().hex[:16]})
            decision("draining", instance_id=iid, waiting=sorted(b.key for b in state.bindings if b.key not in done),
                     seconds=round(now - state.since, 3), cap_in_seconds=round(state.cap_at - now, 3))
    return out


def _addresses(session: CloudSession, metered: Sequence[Binding]) -> Dict[str, Address]:
    """Each metered binding's load balancer address: CLB's from clb DescribeLoadBalancers (in the bindings'
    region), ECM's from ecm DescribeLoadBalancers (no region). One that cannot be read has none: its
    bindings wait the fixed time."""
    where: Dict[str, Address] = {}
    for cloud in (Cloud.CLB, Cloud.ECM):
        lbs = {b.load_balancer_id for b in metered if b.cloud is cloud}
        if not lbs:
            continue
        try:
            if cloud is Cloud.CLB:
                where.update(addresses(session, next(b.region for b in metered if b.cloud is cloud), lbs))
            else:
                from .cloud import ecm  # only when ECM is bound: a CVM-only run loads no ECM module

                where.update(ecm.addresses(session, lbs))
        except CloudError as exc:
            decision("drain_addresses_unread", level=logging.WARNING, cloud=cloud.value, error_code=exc.code,
                     error_message=exc.failure.message, reason="no VIP to read connections by: these bindings wait the fixed time")
    return where


def _read(session: CloudSession, states: Dict[str, DrainState], now: float) -> Dict[Tuple, monitor.Series]:
    """One set of coalesced reads per namespace (one namespace a request): private CLBs, public CLBs, ECM."""
    by_namespace: Dict[str, Set[Tuple]] = {}
    for s in states.values():
        for b in s.bindings:
            if b.backend is not None:
                by_namespace.setdefault(b.namespace or monitor.PRIVATE, set()).add(tuple(b.backend))
    if not by_namespace:
        return {}
    since = min(s.since for s in states.values())
    region = session.settings.region
    out: Dict[Tuple, monitor.Series] = {}
    for namespace, backends in sorted(by_namespace.items()):
        try:
            out.update(monitor.connections(session, region, backends, max(since - monitor.PERIOD, now - 3600), now, namespace))
        except CloudError as exc:
            decision("drain_read_failed", level=logging.WARNING, namespace=namespace, error_code=exc.code,
                     error_message=exc.failure.message, reason="unknown is not zero: the drain goes on toward its cap")
    return out
