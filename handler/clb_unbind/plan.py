"""Bindings ──► batches: one write call per load balancer, chunked to the API's limit. Pure, no I/O."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Dict, FrozenSet, Iterable, List, Tuple

from .model import Batch, Binding, Cloud, Kind

MAX_TARGETS_PER_BATCH = 500  # BatchDeregisterTargets, CLB (doc 214/38304); ECM's limit is unpublished, same cap
MAX_PER_CALL = {
    Kind.LISTENER: MAX_TARGETS_PER_BATCH,
    # DeregisterTargetGroupInstances.TargetGroupInstances: "单次批量解除数量最多为20个" (SDK clb models.py).
    Kind.TARGET_GROUP: 20,
    # DeregisterTargetsFromClassicalLB.InstanceIds: no limit documented; DeregisterTargets' 20 is kept.
    Kind.CLASSIC: 20,
}


def plan(bindings: Iterable[Binding], max_targets: int = MAX_TARGETS_PER_BATCH) -> List[Batch]:
    """One write per resource (load balancer, target group, classic load balancer), chunked to its call's limit."""
    groups: Dict[Tuple[Cloud, Kind, str, str], Dict[tuple, Binding]] = defaultdict(dict)
    for b in bindings:
        groups[(b.cloud, b.kind, b.region, b.unit)].setdefault(b.key, b)
    batches: List[Batch] = []
    for (cloud, kind, region, unit), by_key in sorted(groups.items(), key=lambda kv: (kv[0][0].value, kv[0][1].value, kv[0][2], kv[0][3])):
        ordered = [by_key[k] for k in sorted(by_key, key=lambda k: (k[2], k[3] or "", k[4], k[5]))]
        size = max_targets if kind is Kind.LISTENER else min(max_targets, MAX_PER_CALL[kind])
        for start in range(0, len(ordered), size):
            batches.append(Batch(cloud, region, unit, tuple(ordered[start : start + size]), kind))
    return batches


def split_allowed(bindings: Iterable[Binding], allowed: FrozenSet[str]) -> Tuple[List[Binding], List[Binding]]:
    """(bindings the function may remove, bindings left alone): with an allow-list, a binding is removed
    when one of the load balancers that send it traffic is allowed. A target-group membership is one
    membership for all the load balancers it serves: allowed through one, it leaves all of them."""
    mine: List[Binding] = []
    others: List[Binding] = []
    for b in bindings:
        (mine if not allowed or any(lb in allowed for lb in b.load_balancer_ids) else others).append(b)
    return mine, others


def deregister_target(b: Binding) -> Dict[str, Any]:
    """The `BatchTarget` that removes one binding (exactly one of InstanceId / EniIp)."""
    target: Dict[str, Any] = {"ListenerId": b.listener_id, "Port": b.target_port}
    if b.by_eni_ip:
        target["EniIp"] = b.private_ip
    else:
        target["InstanceId"] = b.instance_id
    if b.location_id:
        target["LocationId"] = b.location_id  # required for layer-7 rules
    return target


# BatchModifyTargetWeightRequest.ModifyList: "ModifyList数组最多100个元素，ModifyList[i].Targets最多50个，
# 全部Targets累加不超过500" (SDK clb models.py).
MAX_MODIFY_ITEMS = 100
MAX_MODIFY_ITEM_TARGETS = 50
MAX_MODIFY_TARGETS = 500


def zero_weight_list(bindings: Iterable[Binding]) -> List[Dict[str, Any]]:
    """`BatchModifyTargetWeight.ModifyList` entries: one per listener/rule (and per 50 targets) at weight 0."""
    grouped: Dict[Tuple[str, str], List[Dict[str, Any]]] = defaultdict(list)
    for b in bindings:
        target: Dict[str, Any] = {"Port": b.target_port, "Weight": 0}
        target["EniIp" if b.by_eni_ip else "InstanceId"] = b.private_ip if b.by_eni_ip else b.instance_id
        grouped[(b.listener_id, b.location_id or "")].append(target)
    modify: List[Dict[str, Any]] = []
    for (listener_id, location_id), targets in sorted(grouped.items()):
        for start in range(0, len(targets), MAX_MODIFY_ITEM_TARGETS):
            entry: Dict[str, Any] = {"ListenerId": listener_id, "Targets": targets[start : start + MAX_MODIFY_ITEM_TARGETS], "Weight": 0}
            if location_id:
                entry["LocationId"] = location_id
            modify.append(entry)
    return modify


def zero_weight_calls(bindings: Iterable[Binding]) -> List[List[Dict[str, Any]]]:
    """The `ModifyList` of each BatchModifyTargetWeight call: within 100 entries and 500 targets a call."""
    calls: List[List[Dict[str, Any]]] = []
    current: List[Dict[str, Any]] = []
    targets = 0
    for entry in zero_weight_list(bindings):
        size = len(entry["Targets"])
        if current and (len(current) >= MAX_MODIFY_ITEMS or targets + size > MAX_MODIFY_TARGETS):
            calls.append(current)
            current, targets = [], 0
        current.append(entry)
        targets += size
    if current:
        calls.append(current)
    return calls
