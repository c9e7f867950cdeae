"""Instances ──► their bindings, read from the cloud. Used to plan, and again to verify.

CVM instances: one DescribeInstances (network place) and one DescribeLBListeners (reverse lookup by
VPC + private IP) for all of them, never a scan of every load balancer. ECM instances: see resolve_ecm.
Only targets whose address belongs to a named instance become bindings: nothing else is ever touched.
"""
from __future__ import annotations

from typing import Callable, Iterable, List, Optional

from .cloud.errors import CloudError
from .cloud.session import CloudSession
from .model import Cloud, cloud_of
from .resolution import Resolution

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
        from .resolve_clb import resolve_clb

        result = result.merge(_isolated(resolve_clb, session, cvm_ids, earlier))
    if ecm_ids:
        from .resolve_ecm import resolve_ecm  # imported only when an event names an edge instance

        result = result.merge(_isolated(resolve_ecm, session, ecm_ids, earlier))
    return result


def _isolated(half: Callable[..., Resolution], session: CloudSession, ids: List[str], earlier: Optional[Resolution]) -> Resolution:
    """A read that fails for a whole cloud fails only that cloud's instances, never the other's."""
    try:
        return half(session, ids, earlier)
    except CloudError as exc:
        return Resolution(failed={i: exc.failure for i in ids})

