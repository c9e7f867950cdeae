"""Instances ──► their bindings, read from the cloud. Used to plan, and again to verify.

CVM instances: one DescribeInstances (network place) and one DescribeLBListeners (reverse lookup by
VPC + private IP) for all of them, never a scan of every load balancer. ECM instances: see resolve_ecm.
Only targets whose address belongs to a named instance become bindings: nothing else is ever touched.
"""
from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, List, Optional, Tuple

from .cloud.errors import CloudError
from .cloud.session import CloudSession
from .model import Cloud, Kind, cloud_of
from .resolution import Found, Resolution, known_places

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
    """Where the instances are (every IP), then every kind on those places at the same time: direct
    binds, target groups, classic load balancers. Each kind is one module turning instances into
    bindings; a kind whose read fails fails only the instances it could not read."""
    from .resolve_classic import resolve_classic
    from .resolve_clb import cvm_places, resolve_clb
    from .resolve_target_groups import resolve_target_groups

    known = known_places(ids, earlier)
    try:
        places, failed = (known, {}) if known is not None else cvm_places(session, ids)
    except CloudError as exc:
        return Resolution(failed={i: exc.failure for i in ids})
    live = {i: p for i, p in places.items() if i not in failed}
    kinds: List[Tuple[Kind, Callable[..., Found]]] = [(Kind.TARGET_GROUP, resolve_target_groups), (Kind.CLASSIC, resolve_classic)]
    jobs: List[Tuple[Optional[Kind], Callable[[], object], List[str]]] = [
        (None, lambda: resolve_clb(session, ids, earlier, known=(places, failed)), ids)]
    for kind_of, kind in kinds:
        mine = live
        if earlier is not None:
            # A verification re-reads a kind only for the instances it found bound that way.
            mine = {i: p for i, p in live.items() if any(b.kind is kind_of for b in earlier.bindings.get(i, ()))}
        if mine:
            jobs.append((kind_of, (lambda k=kind, m=mine: k(session, m, earlier)), sorted(mine)))

    def run(job: Callable[[], object], job_ids: List[str], direct: bool) -> object:
        try:
            return job()
        except CloudError as exc:
            return Resolution(failed={i: exc.failure for i in job_ids}) if direct else Found(failed={i: exc.failure for i in job_ids})

    if len(jobs) == 1 or session.settings.concurrency <= 1:
        answers = [run(job, job_ids, kind_of is None) for kind_of, job, job_ids in jobs]
    else:
        with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="clb-unbind-resolve") as pool:
            futures = [pool.submit(contextvars.copy_context().run, run, job, job_ids, kind_of is None) for kind_of, job, job_ids in jobs]
            answers = [f.result() for f in futures]
    result = answers[0]
    assert isinstance(result, Resolution)
    for found in answers[1:]:
        assert isinstance(found, Found)
        result = result.add(found)
    return result


def _isolated(half: Callable[..., Resolution], session: CloudSession, ids: List[str], earlier: Optional[Resolution]) -> Resolution:
    """A read that fails for a whole cloud fails only that cloud's instances, never the other's."""
    try:
        return half(session, ids, earlier)
    except CloudError as exc:
        return Resolution(failed={i: exc.failure for i in ids})

