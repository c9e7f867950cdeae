"""CLB 2018-03-17 DescribeListeners: a load balancer's listeners, with their target type and their
layer-4 reschedule settings (read by `make check`, deploy/listener_deadline.py).

Sources: tencentcloud-sdk-python-clb 3.1.194 ``models.py`` and tccli 3.1.189.1
``services/clb/v20180317/api.json`` (the same text):

* ``DescribeListenersRequest``: ``LoadBalancerId`` (required); ``ListenerIds`` "最大为100个";
  ``Protocol`` "TCP | UDP | HTTP | HTTPS | TCP_SSL | QUIC"; ``Port`` 1-65535. The action's document: "如果不
  指定任何过滤条件，则返回该负载均衡实例下的所有监听器" (no paging: every listener in one reply).
* ``DescribeListenersResponse``: ``Listeners`` of ``Listener``, ``TotalCount`` "总的监听器个数（根据端口、
  协议、监听器ID过滤后）".
* ``Listener.TargetType``: "NODE、POLARIS、TARGETGROUP、TARGETGROUP-V2"; ``TargetGroup`` / ``TargetGroupList``
  (``BasicTargetGroupInfo`` {TargetGroupId, TargetGroupName}) "当监听器绑定目标组时，会返回该字段".
* ``Listener.DeregisterTargetRst`` (bool, output_required), ``RescheduleInterval`` (0-3600 s) and
  ``RescheduleStartTime``, each "仅TCP/UDP监听器支持". ``RescheduleTargetZeroWeight``,
  ``RescheduleUnhealthy`` and ``RescheduleExpandTarget`` exist only on ``CreateListenerRequest`` /
  ``ModifyListenerRequest``: ``Listener`` has no such member, so no reply carries them.

Limits of the model: a listener's health check, certificate, scheduler, rules and the other members
api.json requires are answered by ``emulator/spec_fill.py`` (null or the zero value); ``Rules`` of a
layer-7 listener is null here. An id in ``ListenerIds`` that names no listener of the load balancer
is filtered out, not refused (the documents describe the ids as a filter; the live API's answer to an
unknown id is UNCONFIRMED). A load balancer of another region, or an unknown one, is
``InvalidParameter.LBIdNotFound``, as for DescribeTargets.
"""
from __future__ import annotations

from typing import Any

from ..estate import L7_PROTOCOLS, Listener, LoadBalancer
from ..errors import ApiError
from .clb import LENGTH, UNAUTHORIZED, clb
from .common import ActionSpec, Ctx, check_count, require
from ..faults import deny

PROTOCOLS = frozenset({"TCP", "UDP", "HTTP", "HTTPS", "TCP_SSL", "QUIC"})


def _target_groups(ctx: Ctx, lb: LoadBalancer, listener: Listener) -> list[Any]:
    return [tg for tg in ctx.estate.extras.target_groups.values()
            if any(a.load_balancer_id == lb.lb_id and a.listener_id == listener.listener_id for a in tg.associations)]


def _item(ctx: Ctx, lb: LoadBalancer, listener: Listener) -> dict[str, Any]:
    groups = _target_groups(ctx, lb, listener)
    kind = listener.target_type or (
        ("TARGETGROUP-V2" if any(g.group_type == "v2" for g in groups) else "TARGETGROUP") if groups else "NODE")
    basic = [{"TargetGroupId": g.target_group_id, "TargetGroupName": g.name} for g in groups]
    item: dict[str, Any] = {
        "ListenerId": listener.listener_id, "Protocol": listener.protocol, "Port": listener.port,
        "ListenerName": listener.name, "EndPort": listener.end_port or 0, "TargetType": kind,
        "TargetGroup": basic[0] if basic else None, "TargetGroupList": basic or None,
        "DeregisterTargetRst": listener.deregister_target_rst,
    }
    if listener.protocol in ("TCP", "UDP"):
        item["RescheduleInterval"] = listener.reschedule_interval
        item["RescheduleStartTime"] = listener.reschedule_start_time
    if listener.protocol in L7_PROTOCOLS:
        item["Rules"] = None
    return item


def describe_listeners(ctx: Ctx, params: dict) -> dict:
    deny(ctx.knobs, params, UNAUTHORIZED)
    lb = clb(ctx, require(params, "LoadBalancerId"))
    ids = params.get("ListenerIds")
    check_count(ids, 100, "ListenerIds", LENGTH)
    protocol = params.get("Protocol")
    if protocol is not None and str(protocol).upper() not in PROTOCOLS:
        raise ApiError("InvalidParameterValue", f"Protocol `{protocol}` is not one of {sorted(PROTOCOLS)}.")
    port = params.get("Port")
    if port is not None and not 1 <= int(port) <= 65535:
        raise ApiError("InvalidParameterValue.Range", f"Port {port} is outside 1-65535.")
    chosen = [l for l in lb.listeners
              if (ids is None or l.listener_id in ids)
              and (protocol is None or l.protocol == str(protocol).upper())
              and (port is None or l.port == port)]
    return {"TotalCount": len(chosen), "Listeners": [_item(ctx, lb, l) for l in chosen]}


ACTIONS = {"DescribeListeners": ActionSpec(describe_listeners)}
