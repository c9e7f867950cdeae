"""Instances ──► their bindings, read from the cloud. Used to plan, and again to verify.

CVM instances: one DescribeInstances (network place) and one DescribeLBListeners (reverse lookup by
VPC + private IP) for all of them, never a scan of every load balancer. ECM instances: see resolve_ecm.
Only targets whose address belongs to a named instance become bindings: nothing else is ever touched.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, List, Optional, Tuple

from .cloud.cvm import NetworkPlace
from .cloud.session import CloudSession
from .model import Binding, Cloud, cloud_of


@dataclass(frozen=True)
class Resolution:
    bindings: Dict[str, Tuple[Binding, ...]] = field(default_factory=dict)
    """Every instance the cloud knows, with its bindings (an empty tuple when it has none)."""
    missing: FrozenSet[str] = frozenset()
    """Ids the cloud does not know: the instance is gone or never existed."""
    places: Dict[str, NetworkPlace] = field(default_factory=dict)
    """Where each instance sits on the network; it does not change while the function runs."""

    def merge(self, other: "Resolution") -> "Resolution":
        return Resolution({**self.bindings, **other.bindings}, self.missing | other.missing, {**self.places, **other.places})


def resolve(session: CloudSession, instance_ids: Iterable[str], earlier: Optional[Resolution] = None) -> Resolution:
    """Read the bindings of these instances. Given an `earlier` resolution (verification), reuse its
    network places and, for ECM, re-read only the load balancers it found: a verification costs one
    DescribeLBListeners for CVMs and one DescribeTargets per load balancer for ECM."""
    ids = sorted(set(instance_ids))
    cvm_ids = [i for i in ids if cloud_of(i) is Cloud.CLB]
    ecm_ids = [i for i in ids if cloud_of(i) is Cloud.ECM]
    result = Resolution()
    if cvm_ids:
        from .resolve_clb import resolve_clb

        result = result.merge(resolve_clb(session, cvm_ids, earlier))
    if ecm_ids:
        from .resolve_ecm import resolve_ecm  # imported only when an event names an edge instance

        result = result.merge(resolve_ecm(session, ecm_ids, earlier))
    return result


def unique(bindings: Iterable[Binding]) -> Tuple[Binding, ...]:
    seen: Dict[tuple, Binding] = {}
    for b in bindings:
        seen.setdefault(b.key, b)
    return tuple(sorted(seen.values(), key=lambda b: (b.load_balancer_id, b.listener_id, b.location_id or "", b.private_ip, b.target_port)))


def known_places(instance_ids: Iterable[str], earlier: Optional[Resolution]) -> Optional[Dict[str, NetworkPlace]]:
    """The earlier resolution's places for these ids, if it covered all of them."""
    if earlier is None:
        return None
    ids = set(instance_ids)
    if not ids <= set(earlier.places):
        return None
    return {i: earlier.places[i] for i in ids}


def group_by_instance(instance_ids: Iterable[str], bindings: Iterable[Binding]) -> Dict[str, Tuple[Binding, ...]]:
    grouped: Dict[str, List[Binding]] = {i: [] for i in instance_ids}
    for b in bindings:
        grouped.setdefault(b.instance_id, []).append(b)
    return {i: unique(bs) for i, bs in grouped.items()}
