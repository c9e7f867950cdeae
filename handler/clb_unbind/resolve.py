"""Instances ──► their bindings, read from the cloud. Used to plan, and again to verify.

CVM instances: one DescribeInstances (network place) and one DescribeLBListeners (reverse lookup by
VPC + private IP) for all of them, never a scan of every load balancer. ECM instances: see resolve_ecm.
Only targets whose address belongs to a named instance become bindings: nothing else is ever touched.
"""
from __future__ import annotations

from typing import Callable, Iterable, List, Optional, Tuple

from .cloud.errors import CloudError
from .cloud.session import CloudSession
from .model import Cloud, Kind, cloud_of
from .resolution import Found, Resolution

__all__ = ["Resolution", "resolve"]


def resolve(session: CloudSession, instance_ids: Iterable[str], earlier: Optional[Resolution] = None) -> Resolution:
    """Read the bindings of these instances. Given an `earlier` resolution (verification), reuse its
    network places and, for ECM, re-read only the load balancers it found: a verification costs one
    DescribeLBListeners for CVMs and one DescribeTargets per load balancer for ECM.

    Instances whose bindings cannot be read are in `failed`, each with its own reason: a permanent
    error is narrowed to the ids that caused it (cloud/narrow.py), and a CVM read failing never fails
    the ECM instances, nor the other way round."""
    ids = sorted(set(instance_ids))
    cvm_ids = [i for i in ids if cloud_of(i) is Cloud.CLB]
    ecm_ids = [i for i in ids if cloud_of(i) is Cloud.ECM]
    result = Resolution()
    if cvm_ids:
        result = result.merge(_resolve_cvm(session, cvm_ids, earlier))
    if ecm_ids:
        from .resolve_ecm import resolve_ecm  # imported only when an event names an edge instance

        result = result.merge(_isolated(resolve_ecm, session, ecm_ids, earlier))
    return result


def _resolve_cvm(session: CloudSession, ids: List[str], earlier: Optional[Resolution]) -> Resolution:
    """Direct binds first (they read the instances' places), then every other kind on those places:
    target groups, classic load balancers. Each kind is one module turning instances into bindings."""
    from .resolve_clb import resolve_clb
    from .resolve_classic import resolve_classic
    from .resolve_target_groups import resolve_target_groups

    result = _isolated(resolve_clb, session, ids, earlier)
    kinds: List[Tuple[Kind, Callable[..., Found]]] = [(Kind.TARGET_GROUP, resolve_target_groups), (Kind.CLASSIC, resolve_classic)]
    for kind_of, kind in kinds:
        live = {i: p for i, p in result.places.items() if i not in result.failed}
        if earlier is not None:
            # A verification re-reads a kind only for the instances it found bound that way.
            live = {i: p for i, p in live.items() if any(b.kind is kind_of for b in earlier.bindings.get(i, ()))}
        if not live:
            continue
        try:
            found = kind(session, live, earlier)
        except CloudError as exc:
            found = Found(failed={i: exc.failure for i in live})
        result = result.add(found)
    return result


def _isolated(half: Callable[..., Resolution], session: CloudSession, ids: List[str], earlier: Optional[Resolution]) -> Resolution:
    """A read that fails for a whole cloud fails only that cloud's instances, never the other's."""
    try:
        return half(session, ids, earlier)
    except CloudError as exc:
        return Resolution(failed={i: exc.failure for i in ids})

