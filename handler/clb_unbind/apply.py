"""Batches ──► results: the cloud writes. One load balancer runs one task at a time (a second write gets
`FailedOperation.ResourceInOperating`), so each load balancer's batches go in order, and different load
balancers are worked on concurrently, bounded by `CLB_UNBIND_CONCURRENCY`.
"""
from __future__ import annotations

import contextvars
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, List, Sequence, Tuple

from .cloud.asynchrony import is_asynchronous
from .cloud.errors import CloudError
from .cloud.session import CloudSession
from .log import decision
from .apply_kinds import task_failure, unbind_other, zero_other
from .model import Batch, BatchResult, Binding, Cloud, CloudFailure, Kind
from .plan import deregister_target, zero_weight_calls


def unbind(session: CloudSession, batch: Batch) -> BatchResult:
    if batch.kind is not Kind.LISTENER:
        return unbind_other(session, batch)
    targets = [deregister_target(b) for b in batch.bindings]
    if batch.cloud is Cloud.CLB:
        from .cloud import clb as api
    else:
        from .cloud import ecm as api  # type: ignore[no-redef]
    action = f"{batch.cloud.value}:BatchDeregisterTargets"
    try:
        failed_listeners, message, task_id = api.batch_deregister(session, batch.region, batch.load_balancer_id, targets)
        status, task_message = (0, "") if api.DEREGISTER_IS_SYNCHRONOUS else api.wait_for_task(session, task_id, batch.region)
    except CloudError as exc:
        return BatchResult(batch, failed=batch.bindings, failure=exc.failure)
    failed = tuple(b for b in batch.bindings if b.listener_id in set(failed_listeners))
    failure = None
    if failed:
        failure = CloudFailure("FailListenerIdSet", message or f"listeners failed: {sorted(set(failed_listeners))}", action, task_id)
    if status != 0:
        return BatchResult(batch, failed=batch.bindings, failure=task_failure(action, status, task_message, task_id), request_ids=(task_id,))
    return BatchResult(batch, failed=failed, failure=failure, request_ids=(task_id,))


def zero_weights(session: CloudSession, batch: Batch) -> BatchResult:
    """Graceful drain, step one: weight 0 on every binding, so new connections stop arriving; as many
    calls as the ModifyList limits need (`plan.zero_weight_calls`), one after another."""
    if batch.kind is not Kind.LISTENER:
        return zero_other(session, batch)
    if batch.cloud is Cloud.ECM:
        return _zero_ecm(session, batch)
    from .cloud import clb

    assert is_asynchronous("clb", "BatchModifyTargetWeight")  # hence the poll below
    task_ids: List[str] = []
    for modify_list in zero_weight_calls(batch.bindings):
        try:
            task_id = clb.batch_modify_weight(session, batch.region, batch.load_balancer_id, modify_list)
            status, message = clb.wait_for_task(session, task_id, batch.region)
        except CloudError as exc:
            return BatchResult(batch, failed=batch.bindings, failure=exc.failure, request_ids=tuple(task_ids))
        task_ids.append(task_id)
        if status != 0:
            failure = task_failure("clb:BatchModifyTargetWeight", status, message, task_id)
            return BatchResult(batch, failed=batch.bindings, failure=failure, request_ids=tuple(task_ids))
    return BatchResult(batch, request_ids=tuple(task_ids))


def _zero_ecm(session: CloudSession, batch: Batch) -> BatchResult:
    """ECM's BatchModifyTargetWeight: the same `ModifyList` shape as CLB's (no rules, so no LocationId) and
    synchronous. ECM publishes no ModifyList limits; CLB's are kept (plan.py), as for ECM's unbind."""
    from .cloud import ecm

    assert not is_asynchronous("ecm", "BatchModifyTargetWeight")
    request_ids: List[str] = []
    for modify_list in zero_weight_calls(batch.bindings):
        try:
            request_ids.append(ecm.batch_modify_weight(session, batch.load_balancer_id, modify_list))
        except CloudError as exc:
            return BatchResult(batch, failed=batch.bindings, failure=exc.failure, request_ids=tuple(request_ids))
    return BatchResult(batch, request_ids=tuple(request_ids))


def run_per_load_balancer(
    session: CloudSession, batches: Sequence[Batch], step: Callable[[CloudSession, Batch], BatchResult]
) -> List[BatchResult]:
    """Run `step` on every batch: in order within a load balancer, concurrently across load balancers."""
    lanes: "OrderedDict[Tuple[str, str], List[Batch]]" = OrderedDict()
    for batch in batches:
        lanes.setdefault((batch.cloud.value, batch.load_balancer_id), []).append(batch)

    def lane(items: List[Batch]) -> List[BatchResult]:
        results = []
        for batch in items:
            if session.deadline.expired():
                failure = CloudFailure("ClientDeadlineExceeded", "no time left in this invocation", "apply")
                results.append(BatchResult(batch, failed=batch.bindings, failure=failure))
                continue
            result = step(session, batch)
            decision(
                "batch_done" if result.failure is None else "batch_failed",
                load_balancer_id=batch.load_balancer_id,
                step=getattr(step, "__name__", "step"),
                targets=len(batch.bindings),
                failed=len(result.failed),
                error_code=result.failure.code if result.failure else None,
                error_message=result.failure.message if result.failure else None,
                cloud_request_ids=list(result.request_ids) or None,
            )
            results.append(result)
        return results

    if len(lanes) <= 1 or session.settings.concurrency <= 1:
        return [r for items in lanes.values() for r in lane(items)]
    workers = min(session.settings.concurrency, len(lanes))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="clb-unbind") as pool:
        futures = [pool.submit(contextvars.copy_context().run, lane, items) for items in lanes.values()]
        return [r for f in futures for r in f.result()]


def failed_bindings(results: Sequence[BatchResult]) -> Dict[Binding, CloudFailure]:
    out: Dict[Binding, CloudFailure] = {}
    for result in results:
        for b in result.failed:
            if result.failure is not None:
                out[b] = result.failure
    return out
