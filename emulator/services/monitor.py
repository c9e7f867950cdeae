"""Cloud Monitor 2018-07-24: ``GetMonitorData`` for CLB backends' connections (docs/drain.md).

Sources: tencentcloud-sdk-python-monitor 3.1.189 ``models.py``/``errorcodes.py``, tccli 3.1.189.1
``services/monitor/v20180724/api.json``, Tencent docs 248/31014 and 248/39917. Limits, the stricter of
SDK and docs: at most 10 instances (dimension sets) and 1440 data points (instances × periods) a
request → ``LimitExceeded.LimitedAccess`` ("请求受限，查询实例数受到限制"); 20 requests a second (the
emulator's ``rate_limit_per_second``). ``Period`` defaults to 300 ("默认为取值为300"); ``EndTime``
defaults to now and may not precede ``StartTime``.

Namespaces, each at the real-server and real-server port levels, dimensions ``vip``, ``vpcId``,
``loadBalancerPort``, ``protocol``, ``lanIp`` and optionally ``port`` (``vpcId`` as the ``vpc-`` id or the
numeric one): ``QCE/LB_RS_PRIVATE`` (private CLBs, ``LoadBalancerType`` INTERNAL), metrics ``Connum`` and
``NewConn``; ``QCE/LB_PUBLIC`` (public CLBs, OPEN), metrics ``ConNum`` (Tencent docs 248/10997) or
``Connum`` (the GetMonitorData page for public CLB) and ``NewConn``. A load balancer answers only in its
own namespace. A dimension set that names no bound backend, or a period not yet published, has no data
point (``Timestamps: []``, as api.json's example). Connections come from ``emulator/connections.py``; the knob
``monitor_period_seconds`` shortens periods for tests (timestamps then step by it, not by 60).
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

from ..connections import PERIOD
from ..errors import INVALID_PARAMETER_VALUE, ApiError
from ..estate import LoadBalancer
from .common import ActionSpec, Ctx, ServiceSpec, require

LIMITED_ACCESS = "LimitExceeded.LimitedAccess"
DATA_QUERY_FAILED = "FailedOperation.DataQueryFailed"
MAX_INSTANCES = 10
MAX_POINTS = 1440
NAMESPACES = {"QCE/LB_RS_PRIVATE": {"Connum", "NewConn"}, "QCE/LB_PUBLIC": {"ConNum", "Connum", "NewConn"}}
LB_TYPE = {"QCE/LB_RS_PRIVATE": "INTERNAL", "QCE/LB_PUBLIC": "OPEN"}
PERIODS = {PERIOD, 300}
RS_DIMENSIONS = {"vip", "vpcId", "loadBalancerPort", "protocol", "lanIp"}
CHINA = timezone(timedelta(hours=8))


def _parse_time(value: str, name: str) -> float:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(INVALID_PARAMETER_VALUE, f"`{name}` is not a valid time: {value!r}.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=CHINA)
    return parsed.timestamp()


def _format(t: float) -> str:
    return datetime.fromtimestamp(t, CHINA).isoformat(timespec="seconds")


def _dimensions(instance: dict, index: int, namespace: str) -> dict[str, str]:
    dims = instance.get("Dimensions") or []
    out = {}
    for j, d in enumerate(dims):
        name = require(d, "Name", f"Instances.{index}.Dimensions.{j}.")
        out[name] = str(require(d, "Value", f"Instances.{index}.Dimensions.{j}."))
    if set(out) not in (RS_DIMENSIONS, RS_DIMENSIONS | {"port"}):
        raise ApiError(INVALID_PARAMETER_VALUE, f"Instances.{index}: the dimension set {sorted(out)} is not one of "
                       f"{namespace}'s ({sorted(RS_DIMENSIONS)}, optionally with port).")
    return out


def _backends(ctx: Ctx, dims: dict[str, str], namespace: str) -> list[tuple[LoadBalancer, str, str, int]]:
    """(load balancer, listener id, ip, port) of every bound backend the dimension set names."""
    found = []
    for lb in ctx.estate.load_balancers.values():
        vpc_ok = dims["vpcId"] in (lb.vpc_id, str(ctx.estate.vpc_number(lb.vpc_id)))
        if lb.kind != "clb" or lb.lb_type != LB_TYPE[namespace]:
            continue
        if lb.region != ctx.region or lb.vip != dims["vip"] or not vpc_ok:
            continue
        for listener in lb.listeners:
            if str(listener.port) != dims["loadBalancerPort"] or listener.protocol.lower() != dims["protocol"].lower():
                continue
            for _, targets in listener.target_lists():
                for t in targets:
                    if t.ip == dims["lanIp"] and ("port" not in dims or str(t.port) == dims["port"]):
                        found.append((lb, listener.listener_id, t.ip, t.port))
    return found


def get_monitor_data(ctx: Ctx, params: dict) -> dict:
    namespace = require(params, "Namespace")
    metric = require(params, "MetricName")
    instances = require(params, "Instances")
    if namespace not in NAMESPACES:
        raise ApiError(INVALID_PARAMETER_VALUE, f"The namespace `{namespace}` is not emulated; emulated: {sorted(NAMESPACES)}.")
    if metric not in NAMESPACES[namespace]:
        raise ApiError(INVALID_PARAMETER_VALUE, f"The metric `{metric}` does not exist in {namespace}.")
    period = params.get("Period")
    period = 300 if period is None else period
    if period not in PERIODS:
        raise ApiError(INVALID_PARAMETER_VALUE, f"The period {period} is not supported by {metric}; supported: {sorted(PERIODS)}.")
    if len(instances) > MAX_INSTANCES:
        raise ApiError(LIMITED_ACCESS, f"A request reads at most {MAX_INSTANCES} instances, got {len(instances)}.")
    step = period * ctx.knobs.monitor_period_seconds / PERIOD
    model = ctx.estate.connections
    now = ctx.wall
    end = _parse_time(params["EndTime"], "EndTime") if params.get("EndTime") else now
    start = _parse_time(params["StartTime"], "StartTime") if params.get("StartTime") else end - period
    if end < start:
        raise ApiError(INVALID_PARAMETER_VALUE, "`EndTime` must not be earlier than `StartTime`.")
    asked = (int(end - start) // period + 1) * len(instances)  # as the API counts them, whatever the knob
    if asked > MAX_POINTS:
        raise ApiError(LIMITED_ACCESS, f"The request asks for {asked} data points, more than {MAX_POINTS}.")
    first = math.ceil(start / step) * step
    stamps = [first + k * step for k in range(int((end - first) // step) + 1)] if end >= first else []
    sets = [_dimensions(inst, i, namespace) for i, inst in enumerate(instances)]
    if ctx.faulty(ctx.knobs.monitor_error_rate):
        raise ApiError(DATA_QUERY_FAILED, "Data query failed (emulated monitor_error_rate).")
    published = [ts for ts in stamps if ts + step + ctx.knobs.monitor_delay_seconds <= now]
    points = []
    for dims, inst in zip(sets, instances):
        backends = _backends(ctx, dims, namespace)
        ts_out: list[float] = []
        values: list[float] = []
        if backends:
            for ts in published:
                ts_out.append(float(ts))
                values.append(float(_value(model, backends, metric, ts, step)))
        points.append({"Dimensions": [{"Name": d["Name"], "Value": d["Value"]} for d in inst["Dimensions"]],
                       "Timestamps": ts_out, "Values": values})
    return {"Period": period, "MetricName": metric, "DataPoints": points, "StartTime": _format(first),
            "EndTime": _format(stamps[-1] if stamps else first), "Msg": ""}


def _value(model: Any, backends: list, metric: str, ts: float, step: float) -> int:
    """Connum / ConNum: connections open at the period's start; NewConn: 0 once the weight is 0, else the open count."""
    total = 0
    for lb, lid, ip, port in backends:
        open_now = model.connections_at(lb.lb_id, lid, ip, port, ts, step)
        if metric == "NewConn":
            since = model.zero_since.get((lb.lb_id, lid, ip, port))
            total += 0 if since is not None and since <= ts else open_now
        else:
            total += open_now
    return total


SERVICE = ServiceSpec(
    name="monitor",
    version="2018-07-24",
    models="tencentcloud.monitor.v20180724.models",
    actions={"GetMonitorData": ActionSpec(get_monitor_data)},
)
