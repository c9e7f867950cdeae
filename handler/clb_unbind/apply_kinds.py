"""The writes of the binding kinds beside a listener's own targets: target groups and classic load balancers.

Each takes one `Batch` (one resource, at most its call's limit: `plan.MAX_PER_CALL`) and returns a
`BatchResult`, like `apply.unbind`. All of these calls are asynchronous ("本接口为异步接口", SDK clb
models.py and tccli api.json), so each waits on DescribeTaskStatus with the call's RequestId.
A failure names the group or load balancer, so a retry or dead letter says what is still bound.
"""
from __future__ import annotations

from typing import Any, Dict, List

from .cloud import clb, clb_bindings
from .cloud.errors import CloudError
from .cloud.session import CloudSession
from .model import Batch, BatchResult, Binding, CloudFailure, Kind


def task_failure(action: str, status: int, message: str, task_id: str) -> CloudFailure:
    code = "TaskFailed" if status == 1 else "TaskStillRunning"
    return CloudFailure(code=code, message=message or code, action=action, request_id=task_id)


def _named(failure: CloudFailure, batch: Batch) -> CloudFailure:
    what = f"target group {batch.load_balancer_id}" if batch.kind is Kind.TARGET_GROUP else f"classic load balancer {batch.load_balancer_id}"
    return CloudFailure(failure.code, f"{what}: {failure.message}", failure.action, failure.request_id)


def _member(b: Binding, weight: Any = None) -> Dict[str, Any]:
    """`TargetGroupInstance`: BindIP, and Port except in a full-listen group ("全监听目标组不支持传此字段")."""
    item: Dict[str, Any] = {"BindIP": b.private_ip}
    if not b.full_listen:
        item["Port"] = b.target_port
    if weight is not None:
        item["Weight"] = weight
    return item


def _run(session: CloudSession, batch: Batch, action: str, write: Any) -> BatchResult:
    try:
        task_id = write()
        status, message = clb.wait_for_task(session, task_id, batch.region)
    except CloudError as exc:
        return BatchResult(batch, failed=batch.bindings, failure=_named(exc.failure, batch))
    if status != 0:
        failure = _named(task_failure(action, status, message, task_id), batch)
        return BatchResult(batch, failed=batch.bindings, failure=failure, request_ids=(task_id,))
    return BatchResult(batch, request_ids=(task_id,))


def unbind_other(session: CloudSession, batch: Batch) -> BatchResult:
    """DeregisterTargetGroupInstances (≤ 20 members) or DeregisterTargetsFromClassicalLB, then the task."""
    if batch.kind is Kind.TARGET_GROUP:
        members: List[Dict[str, Any]] = [_member(b) for b in batch.bindings]
        return _run(session, batch, "clb:DeregisterTargetGroupInstances",
                    lambda: clb_bindings.deregister_target_group_instances(session, batch.region, batch.load_balancer_id, members))
    ids = sorted({b.instance_id for b in batch.bindings})
    return _run(session, batch, "clb:DeregisterTargetsFromClassicalLB",
                lambda: clb_bindings.deregister_from_classic(session, batch.region, batch.load_balancer_id, ids))


def zero_other(session: CloudSession, batch: Batch) -> BatchResult:
    """Drain: ModifyTargetGroupInstancesWeight to 0 for a target group. A classic load balancer is not
    drained (its weight call is outside the function's policy): it is unbound at once."""
    if batch.kind is not Kind.TARGET_GROUP:
        return BatchResult(batch)
    members = [_member(b, 0) for b in batch.bindings]
    return _run(session, batch, "clb:ModifyTargetGroupInstancesWeight",
                lambda: clb_bindings.modify_target_group_instances_weight(session, batch.region, batch.load_balancer_id, members))
