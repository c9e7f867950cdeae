"""What a resolution found: the value `resolve` returns and the helpers its per-cloud halves share.

Kept apart from `resolve.py` (which dispatches to `resolve_clb` / `resolve_ecm`) so that those modules
and the dispatcher all import from here and never from each other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Tuple

from .cloud.cvm import NetworkPlace
from .model import Binding, CloudFailure


@dataclass(frozen=True)
class Found:
    """What one binding kind's resolve module found for instances whose places are known."""

    bindings: Tuple[Binding, ...] = ()
    failed: Dict[str, CloudFailure] = field(default_factory=dict)
    target_groups: Dict[str, Dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Resolution:
    bindings: Dict[str, Tuple[Binding, ...]] = field(default_factory=dict)
    """Every instance the cloud knows, with its bindings (an empty tuple when it has none)."""
    missing: FrozenSet[str] = frozenset()
    """Ids the cloud does not know: the instance is gone or never existed."""
    places: Dict[str, NetworkPlace] = field(default_factory=dict)
    """Where each instance sits on the network; it does not change while the function runs."""
    failed: Dict[str, CloudFailure] = field(default_factory=dict)
    """Instances whose bindings could not be read, with the reason; neither bound nor missing."""
    target_groups: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    """`TargetGroupInfo` of every target group a membership was found in: a verification reuses it."""

    def merge(self, other: "Resolution") -> "Resolution":
        return Resolution({**self.bindings, **other.bindings}, self.missing | other.missing, {**self.places, **other.places},
                          {**self.failed, **other.failed}, {**self.target_groups, **other.target_groups})

    def add(self, found: "Found") -> "Resolution":
        """The same instances with the bindings of one more kind. An instance one kind could not read is
        failed as a whole (never reported unbound while a kind is unread). A direct binding on a listener
        or rule that forwards to a target group the instance is a member of is that membership seen
        through the listener (if DescribeLBListeners reports members at all): the membership is kept."""
        failed = {**self.failed, **{i: f for i, f in found.failed.items() if i not in self.failed}}
        through: Dict[str, set] = {}
        for b in found.bindings:
            for s in b.serves:
                through.setdefault(b.instance_id, set()).add((s.load_balancer_id, s.listener_id, s.location_id, b.private_ip))
        bindings: Dict[str, Tuple[Binding, ...]] = {}
        for iid, bs in self.bindings.items():
            if iid in failed:
                continue
            kept = [b for b in bs if (b.load_balancer_id, b.listener_id, b.location_id, b.private_ip) not in through.get(iid, set())]
            bindings[iid] = unique([*kept, *(b for b in found.bindings if b.instance_id == iid)])
        return Resolution(bindings, self.missing, self.places, failed, {**self.target_groups, **found.target_groups})

    @classmethod
    def of(cls, instance_ids: Iterable[str], places: Dict[str, NetworkPlace], found: Iterable[Binding],
           failed: Dict[str, CloudFailure]) -> "Resolution":
        """Bindings of the instances that were found and not failed; missing = neither found nor failed."""
        ok = [i for i in places if i not in failed]
        mine = [b for b in found if b.instance_id not in failed]
        missing = frozenset(instance_ids) - frozenset(places) - frozenset(failed)
        return cls(group_by_instance(ok, mine), missing, places, dict(failed))


def unique(bindings: Iterable[Binding]) -> Tuple[Binding, ...]:
    seen: Dict[tuple, Binding] = {}
    for b in bindings:
        seen.setdefault(b.key, b)
    return tuple(sorted(seen.values(), key=lambda b: tuple("" if part is None else part for part in b.key)))


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
