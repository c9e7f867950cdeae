"""The run role's permissions, each with its source and its reason: the list `setup` writes, the
contract test holds equal to the calls the function makes, and `check` holds the live role to (every
grant present, nothing broader). docs/permissions.md is this list in prose.

CAM policy syntax (Tencent doc 598/10606, "resource description"): a resource is
``qcs:project_id:service_type:region:account:resource``; ``*`` is every resource; an empty
``account`` segment means the root account of the user who creates the policy, which is the account
that owns the queues, so no account id has to be looked up. A resource is scoped only where Tencent's
CAM page for the product gives the action's resource format; everywhere else it stays ``*`` and
:attr:`Grant.source` says why.

TDMQ for CMQ: the CAM page (doc 1111/43005, intl; 1496/61031 in Chinese) authorises the queue actions
under the service ``tdmq`` (not the retired CMQ's ``cmqqueue``, doc 406/34255) and lists
``BatchReceiveMessage | 批量消费消息 | 队列 | qcs::tdmq:${region}:uin/${uin}:queue/${queueName}``. The
TDMQ product table of CAM (doc 598/98179) writes the same kind of resource as
``cmqqueue/${queueName}`` (e.g. ``ClearCmqQueue``). The two pages disagree on that one segment, so each
queue grant names both forms: still only the project's own queues.
"""
from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Tuple

CAM_POLICY = Path(__file__).resolve().parent.parent / "cam-policy.json"

QUEUE_FORMATS = ("qcs::tdmq:${region}::queue/${%s}", "qcs::tdmq:${region}::cmqqueue/${%s}")
LIFECYCLE_QUEUE = tuple(f % "queue" for f in QUEUE_FORMATS)
BOTH_QUEUES = LIFECYCLE_QUEUE + tuple(f % "dead_letter_queue" for f in QUEUE_FORMATS)

TDMQ_CAM = ("TDMQ-for-CMQ CAM page, doc 1111/43005 (1496/61031): service tdmq, resource "
            "qcs::tdmq:${region}:uin/${uin}:queue/${queueName}; doc 598/98179 writes cmqqueue/${queueName}")
DISCOVERED = "resource *: the load balancers are found at run time, by the instance, so none can be named in advance"


@dataclass(frozen=True)
class Grant:
    action: str
    resources: Tuple[str, ...]
    source: str
    why: str


GRANTS: Tuple[Grant, ...] = (
    Grant("cvm:DescribeInstances", ("*",), "SDK cvm DescribeInstancesRequest; resource * (instances are named by the caller)",
          "read a leaving CVM instance's private addresses and VPC, which its load-balancer bindings are keyed by"),
    Grant("clb:DescribeLBListeners", ("*",), f"SDK clb DescribeLBListenersRequest; {DISCOVERED}",
          "find every listener and rule of every CLB the instance is bound to"),
    Grant("clb:BatchModifyTargetWeight", ("*",), f"SDK clb BatchModifyTargetWeightRequest; {DISCOVERED}",
          "drain: set the instance's weight to 0 before it is unbound (only with CLB_UNBIND_DRAIN_SECONDS > 0)"),
    Grant("clb:BatchDeregisterTargets", ("*",), f"SDK clb BatchDeregisterTargetsRequest; {DISCOVERED}",
          "unbind the instance from each CLB listener or rule"),
    Grant("clb:DescribeTaskStatus", ("*",), "SDK clb DescribeTaskStatusRequest (takes a task id, no resource)",
          "follow the asynchronous weight change, and the target-group and classic unbinds, to their end"),
    Grant("clb:DescribeLoadBalancers", ("*",), f"SDK clb DescribeLoadBalancersRequest (LoadBalancerIds, at most 20); {DISCOVERED}",
          "adaptive drain: each load balancer's VIP and VPC, the dimensions Cloud Monitor keys a backend's connections by"),
    Grant("monitor:GetMonitorData", ("*",), "SDK monitor GetMonitorDataRequest (namespaces QCE/LB_RS_PRIVATE, QCE/LB_PUBLIC, QCE/ECM_LB, docs/drain.md); "
          "resource *: the backends read are found at run time",
          "adaptive drain: read each drained backend's current connections (Connum), to unbind once they reach 0"),
    Grant("clb:DescribeTargetGroupInstances", ("*",), f"SDK clb DescribeTargetGroupInstancesRequest (filter BindIP); {DISCOVERED}",
          "find the target groups (v1, v2, full-listen) the instance is a member of, and verify it left them"),
    Grant("clb:DescribeTargetGroups", ("*",), f"SDK clb DescribeTargetGroupsRequest; {DISCOVERED}",
          "read which listeners and rules each of those groups serves (AssociatedRule), for the allow-list and the outcome"),
    Grant("clb:DeregisterTargetGroupInstances", ("*",), f"SDK clb DeregisterTargetGroupInstancesRequest (asynchronous); {DISCOVERED}",
          "take the instance out of each target group a listener or rule forwards to"),
    Grant("clb:ModifyTargetGroupInstancesWeight", ("*",), f"SDK clb ModifyTargetGroupInstancesWeightRequest (asynchronous); {DISCOVERED}",
          "drain a target-group membership: weight 0 before it is removed (only with CLB_UNBIND_DRAIN_SECONDS > 0)"),
    Grant("clb:DescribeClassicalLBByInstanceId", ("*",), "SDK clb DescribeClassicalLBByInstanceIdRequest; resource * (instances are named by the caller)",
          "find the classic load balancers (Forward 0) the instance is bound to"),
    Grant("clb:DeregisterTargetsFromClassicalLB", ("*",), f"SDK clb DeregisterTargetsFromClassicalLBRequest (asynchronous); {DISCOVERED}",
          "unbind the instance from each classic load balancer"),
    Grant("vpc:DescribeNetworkInterfaces", ("*",), "SDK vpc DescribeNetworkInterfacesRequest (filter attachment.instance-id); "
          "resource * (the interfaces are found by the instance)",
          "list every private IP of every network interface attached to the instance (CVM's reply has the primary one's only)"),
    Grant("ecm:DescribeInstances", ("*",), "SDK ecm DescribeInstancesRequest; resource * (instances are named by the caller)",
          "read a leaving ECM (edge) instance's addresses"),
    Grant("ecm:DescribeLoadBalancers", ("*",), f"SDK ecm DescribeLoadBalancersRequest; {DISCOVERED}",
          "list the ECM load balancers that may hold the instance"),
    Grant("ecm:DescribeTargets", ("*",), f"SDK ecm DescribeTargetsRequest; {DISCOVERED}",
          "find the ECM listeners the instance is bound to"),
    Grant("ecm:BatchDeregisterTargets", ("*",), f"SDK ecm BatchDeregisterTargetsRequest; {DISCOVERED}",
          "unbind the instance from each ECM listener"),
    Grant("ecm:BatchModifyTargetWeight", ("*",), f"SDK ecm BatchModifyTargetWeightRequest (synchronous); {DISCOVERED}",
          "adaptive drain of an ECM binding: weight 0 before its connections are read in QCE/ECM_LB (docs/drain.md#ecm)"),
    Grant("as:DescribeLifecycleHooks", ("*",), "SDK autoscaling DescribeLifecycleHooksRequest; a read across groups",
          "tell the project's own INSTANCE_TERMINATING hook from another team's before completing anything"),
    Grant("as:DescribeAutoScalingInstances", ("*",), "SDK autoscaling DescribeAutoScalingInstancesRequest; a read across groups",
          "check that an instance a message names is really leaving (TERMINATING, DETACHING), and sweep the groups "
          "for instances waiting in the hook"),
    Grant("as:DescribeAutoScalingActivities", ("*",), "SDK autoscaling DescribeAutoScalingActivitiesRequest; a read",
          "expand a scaling-activity notification into its instances and check the activity takes them out"),
    Grant("as:CompleteLifecycleAction", ("*",),
          "SDK autoscaling CompleteLifecycleActionRequest; resource *: Tencent's Auto Scaling CAM page (doc 598/57063) gives "
          "scaling groups the format qcs::as:$region:$account:auto-scaling-group/$autoScalingGroupId, but no stored copy "
          "shows that this action (which names a hook id and an instance, not a group) is authorised on it",
          "end the INSTANCE_TERMINATING wait once the instance is unbound, so the scale-in goes on without waiting "
          "for the heartbeat timeout"),
    Grant("tdmq:SendCmqMsg", BOTH_QUEUES, TDMQ_CAM + "; SDK tdmq SendCmqMsgRequest",
          "send unfinished work back to the lifecycle queue with a delay, and hopeless work to the dead-letter queue"),
    Grant("tdmq:BatchReceiveMessage", LIFECYCLE_QUEUE, TDMQ_CAM + "; CMQ data plane, doc 1111/46418",
          "a timer run takes Auto Scaling's notifications and its own retries from the lifecycle queue"),
    Grant("tdmq:BatchDeleteMessage", LIFECYCLE_QUEUE, TDMQ_CAM + "; CMQ data plane, doc 1111/46420 (1496/127322)",
          "delete a message once its work is done, re-queued or dead-lettered"),
)


def actions() -> List[str]:
    return sorted(g.action for g in GRANTS)


def _render(template: str, values: Mapping[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], template)


def statements(values: Mapping[str, str] | None = None) -> List[Dict[str, Any]]:
    """One allow statement per distinct resource set, actions sorted; templates kept when ``values`` is None."""
    grouped: Dict[Tuple[str, ...], List[str]] = {}
    for g in GRANTS:
        grouped.setdefault(g.resources, []).append(g.action)
    out = []
    for resources, acts in sorted(grouped.items(), key=lambda kv: (len(kv[0]), kv[0])):
        rendered = [_render(r, values) if values is not None else r for r in resources]
        out.append({"effect": "allow", "action": sorted(acts), "resource": rendered})
    return out


def document(region: str, queue: str, dead_letter_queue: str) -> Dict[str, Any]:
    """The policy setup attaches to the run role."""
    return {"version": "2.0", "statement": statements({"region": region, "queue": queue, "dead_letter_queue": dead_letter_queue})}


def template_document() -> Dict[str, Any]:
    """cam-policy.json: the same policy with ``${region}``, ``${queue}``, ``${dead_letter_queue}`` to fill in."""
    return {"version": "2.0", "statement": statements(None)}


# ------------------------------------------------------------------ judging a live role
def _action(text: str) -> str:
    return text.lower().removeprefix("name/")


_ACCOUNT = re.compile(r"^uin/\d+$")


def _resource(text: str) -> str:
    """A resource with an explicit owner ``uin/<id>`` read as the empty (own-account) segment."""
    parts = text.split(":")
    if len(parts) >= 6 and _ACCOUNT.match(parts[4]):
        parts[4] = ""
    return ":".join(parts)


def _statements(documents: Iterable[Any]) -> List[Dict[str, Any]]:
    out = []
    for doc in documents:
        if isinstance(doc, str):
            try:
                doc = json.loads(doc)
            except ValueError:
                continue
        if not isinstance(doc, dict):
            continue
        for s in doc.get("statement") or doc.get("Statement") or []:
            if isinstance(s, dict):
                low = {str(k).lower(): v for k, v in s.items()}
                listed = {k: ([v] if isinstance(v, str) else list(v or [])) for k, v in low.items() if k in ("action", "resource")}
                out.append({"effect": str(low.get("effect", "")).lower(), "action": listed.get("action", []),
                            "resource": listed.get("resource", ["*"]) or ["*"]})
    return out


def missing(documents: Sequence[Any], values: Mapping[str, str]) -> List[str]:
    """"action on resource" for each grant the documents do not allow (or a deny takes away)."""
    rules = _statements(documents)
    out = []
    for g in GRANTS:
        for r in (_render(t, values) for t in g.resources):
            def applies(s: Dict[str, Any]) -> bool:
                return any(fnmatch.fnmatchcase(_action(g.action), _action(a)) for a in s["action"]) and \
                    any(fnmatch.fnmatchcase(_resource(r), _resource(p)) for p in s["resource"])
            if not any(s["effect"] == "allow" and applies(s) for s in rules) or any(s["effect"] == "deny" and applies(s) for s in rules):
                out.append(f"{g.action} on {r}")
    return out


def broader(documents: Sequence[Any], values: Mapping[str, str]) -> List[str]:
    """Each (action, resource) an allow statement grants beyond the list: an action outside it or a
    pattern (``*``, ``clb:*``), or a granted action on a wider resource than its grant names."""
    by_action = {_action(g.action): [_resource(_render(t, values)) for t in g.resources] for g in GRANTS}
    out: List[str] = []
    for s in _statements(documents):
        if s["effect"] != "allow":
            continue
        for a in s["action"]:
            allowed = by_action.get(_action(a))
            if allowed is None:
                out.append(f"{a} on {', '.join(s['resource'])}")
                continue
            for r in s["resource"]:
                if not any(fnmatch.fnmatchcase(_resource(r), p) for p in allowed):
                    out.append(f"{a} on {r}")
    return sorted(set(out))
