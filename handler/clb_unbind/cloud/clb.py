"""CLB 2018-03-17: reverse lookup of bindings, batched unbind, weights, task status."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..model import CloudFailure
from .asynchrony import is_asynchronous
from .narrow import bisect
from .session import CloudSession

MAX_BATCH_TARGETS = 500  # BatchDeregisterTargets: "批量解绑的资源数量上限为500" (doc 214/38304, docs/cloud-facts.md#clb-batchderegistertargets)
MAX_LOOKUP_BACKENDS = 100  # DescribeLBListeners.Backends: no documented limit (UNCONFIRMED); kept conservative

DEREGISTER_IS_SYNCHRONOUS = not is_asynchronous("clb", "BatchDeregisterTargets")
"""BatchDeregisterTargets is done when it answers: no DescribeTaskStatus poll after it (asynchrony.py:
its api.json document has no "本接口为异步接口"; docs/cloud-facts.md#clb-batchderegistertargets-is-synchronous).
Independent callers agree: tkestack/tke-extend-network-controller
removed its wait after BatchRegisterTargets/BatchDeregisterTargets, "这两个接口是同步的，返回即代表操作完成"
(commit be29546; earlier b51cf5d: "BatchRegisterTargets 接口为同步任务，无须调用 DescribeTaskStatus").
The function does not rely on the reply alone: verification re-reads the bindings, and a load balancer
still busy after a large batch (the same project's CHANGELOG v2.5.1: FailedOperation.ResourceInOperating
right after a 500-target batch) is retried. BatchModifyTargetWeight is asynchronous, so the drain polls.
"""


def describe_lb_listeners(
    session: CloudSession, backends: Sequence[Tuple[str, str]]
) -> Tuple[List[Dict[str, Any]], Dict[Tuple[str, str], CloudFailure]]:
    """(`LBItem`s whose listeners or rules hold one of the (vpc id, private ip) backends, the failure
    of each backend the API refused alone: a permanent error is narrowed, narrow.py)."""
    items: List[Dict[str, Any]] = []
    failed: Dict[Tuple[str, str], CloudFailure] = {}

    def read(part: List[Tuple[str, str]]) -> Dict[str, Any]:
        return session.call("clb", "DescribeLBListeners", {"Backends": [{"VpcId": vpc, "PrivateIp": ip} for vpc, ip in part]})

    for start in range(0, len(backends), MAX_LOOKUP_BACKENDS):
        replies, refused = bisect(list(backends[start : start + MAX_LOOKUP_BACKENDS]), read)
        failed.update(refused)
        for reply in replies:
            items.extend(reply.get("LoadBalancers") or [])
    return items, failed


def batch_deregister(
    session: CloudSession, region: str, load_balancer_id: str, targets: List[Dict[str, Any]]
) -> Tuple[List[str], str, str]:
    """Unbind: (failed listener ids, message, request id). Synchronous: see DEREGISTER_IS_SYNCHRONOUS."""
    reply = session.call(
        "clb", "BatchDeregisterTargets", {"LoadBalancerId": load_balancer_id, "Targets": targets}, region=region
    )
    return list(reply.get("FailListenerIdSet") or []), str(reply.get("Message") or ""), str(reply.get("RequestId"))


def batch_modify_weight(
    session: CloudSession, region: str, load_balancer_id: str, modify_list: List[Dict[str, Any]]
) -> str:
    reply = session.call(
        "clb", "BatchModifyTargetWeight", {"LoadBalancerId": load_balancer_id, "ModifyList": modify_list}, region=region
    )
    return str(reply.get("RequestId"))


def wait_for_task(session: CloudSession, task_id: str, region: Optional[str]) -> Tuple[int, str]:
    return session.wait_for_task("clb", "DescribeTaskStatus", task_id, region=region)
