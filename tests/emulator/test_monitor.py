"""Cloud Monitor GetMonitorData through the unmodified monitor SDK: per-backend connections that decay
after the weight goes to 0, periods published after a delay, and the documented limits (docs/drain.md)."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from .conftest import Cloud

# lb-aaaa1111 (VIP 10.0.1.1, vpc-aaaa1111), TCP listener lbl-aaaa1111 on port 80: ins-leave001 10.0.0.4:8080.
DIMS = [("vip", "10.0.1.1"), ("vpcId", "vpc-aaaa1111"), ("loadBalancerPort", "80"), ("protocol", "TCP"),
        ("lanIp", "10.0.0.4"), ("port", "8080")]
CHINA = timezone(timedelta(hours=8))


def _instance(dims=DIMS) -> dict:
    return {"Dimensions": [{"Name": n, "Value": v} for n, v in dims]}


def _read(cloud: Cloud, start: float, end: float, instances=None, metric: str = "Connum"):
    fmt = lambda t: datetime.fromtimestamp(t, CHINA).isoformat(timespec="seconds")  # noqa: E731
    return cloud.call("monitor", "GetMonitorData", {
        "Namespace": "QCE/LB_RS_PRIVATE", "MetricName": metric, "Period": 60,
        "Instances": instances or [_instance()], "StartTime": fmt(start), "EndTime": fmt(end)})


def _zero_weight(cloud: Cloud) -> None:
    resp = cloud.call("clb", "BatchModifyTargetWeight", {"LoadBalancerId": "lb-aaaa1111", "ModifyList": [
        {"ListenerId": "lbl-aaaa1111", "Targets": [{"InstanceId": "ins-leave001", "Port": 8080, "Weight": 0}]}]})
    assert cloud.wait_task(resp.RequestId) == 0


def _monitor_now(cloud: Cloud) -> float:
    return time.time()


def test_connections_decay_after_weight_zero(cloud: Cloud) -> None:
    cloud.emu.set_knobs(monitor_period_seconds=0.1, monitor_delay_seconds=0.1)  # a period every 0.1 s
    cloud.emu.set_connections("10.0.0.4", 10, close_per_period=5)
    time.sleep(0.3)
    before = _read(cloud, _monitor_now(cloud) - 60, _monitor_now(cloud))
    (point,) = before.DataPoints
    assert point.Values and set(point.Values) == {10.0}
    assert [(d.Name, d.Value) for d in point.Dimensions] == DIMS
    _zero_weight(cloud)
    changed = _monitor_now(cloud)
    time.sleep(0.6)  # six periods of monitor time
    after = _read(cloud, changed - 2, _monitor_now(cloud) + 2)  # the API takes whole seconds
    (point,) = after.DataPoints
    by_ts = dict(zip(point.Timestamps, point.Values))
    later = [v for ts, v in sorted(by_ts.items()) if ts >= changed]
    assert later[:2] in ([10.0, 5.0], [5.0, 0.0]) and later[-1] == 0.0 and len(later) >= 4
    assert all(v == 10.0 for ts, v in by_ts.items() if ts + 0.1 < changed)
    assert all(ts + 0.1 + 0.1 <= _monitor_now(cloud) for ts in point.Timestamps)  # nothing before its delay


def test_stuck_connections_never_close_and_new_connections_stop(cloud: Cloud) -> None:
    cloud.emu.set_knobs(monitor_period_seconds=0.1, monitor_delay_seconds=0.0)
    cloud.emu.set_connections("10.0.0.4", 4, close_per_period=100, stuck=1)
    _zero_weight(cloud)
    changed = _monitor_now(cloud)
    time.sleep(0.5)
    (conn,) = _read(cloud, changed - 1, _monitor_now(cloud) + 1).DataPoints
    (new,) = _read(cloud, changed - 1, _monitor_now(cloud) + 1, metric="NewConn").DataPoints
    after = [v for ts, v in zip(conn.Timestamps, conn.Values) if ts >= changed + 0.1]
    assert after and set(after) == {1.0}
    assert {v for ts, v in zip(new.Timestamps, new.Values) if ts >= changed + 0.1} == {0.0}


def test_unbound_backend_and_unpublished_periods_have_no_points(cloud: Cloud) -> None:
    cloud.emu.set_knobs(monitor_delay_seconds=3600.0)
    now = _monitor_now(cloud)
    (late,) = _read(cloud, now - 600, now).DataPoints
    assert late.Timestamps == [] and late.Values == []
    cloud.emu.set_knobs(monitor_delay_seconds=0.0)
    other = [(n, "10.9.9.9" if n == "lanIp" else v) for n, v in DIMS]
    (nobody,) = _read(cloud, now - 600, now, instances=[_instance(other)]).DataPoints
    assert nobody.Timestamps == []


def test_documented_limits(cloud: Cloud) -> None:
    now = _monitor_now(cloud)
    err = cloud.error("monitor", "GetMonitorData", {
        "Namespace": "QCE/LB_RS_PRIVATE", "MetricName": "Connum", "Period": 60, "Instances": [_instance()] * 11})
    assert err.code == "LimitExceeded.LimitedAccess"  # 10 instances a request (docs), not the SDK's 50
    fmt = lambda t: datetime.fromtimestamp(t, CHINA).isoformat(timespec="seconds")  # noqa: E731
    err = cloud.error("monitor", "GetMonitorData", {
        "Namespace": "QCE/LB_RS_PRIVATE", "MetricName": "Connum", "Period": 60, "Instances": [_instance()] * 2,
        "StartTime": fmt(now - 60 * 1000), "EndTime": fmt(now)})
    assert err.code == "LimitExceeded.LimitedAccess"  # 2 × 1001 points > 1440
    assert cloud.error("monitor", "GetMonitorData", {
        "Namespace": "QCE/LB_RS_PRIVATE", "MetricName": "Connum", "Period": 61,
        "Instances": [_instance()]}).code == "InvalidParameterValue"
    assert cloud.error("monitor", "GetMonitorData", {
        "Namespace": "QCE/LB_RS_PRIVATE", "MetricName": "Connum", "Period": 60,
        "Instances": [{"Dimensions": [{"Name": "vip", "Value": "10.0.1.1"}]}]}).code == "InvalidParameterValue"
    assert cloud.error("monitor", "GetMonitorData", {"Namespace": "QCE/LB_RS_PRIVATE", "MetricName": "Connum"}).code == "MissingParameter"
    cloud.emu.set_knobs(monitor_error_rate=1.0)
    assert cloud.error("monitor", "GetMonitorData", {
        "Namespace": "QCE/LB_RS_PRIVATE", "MetricName": "Connum", "Period": 60,
        "Instances": [_instance()]}).code == "FailedOperation.DataQueryFailed"


def test_each_namespace_has_its_own_metric_names_and_answers_only_for_its_load_balancers(cloud: Cloud) -> None:
    """QCE/LB_RS_PRIVATE spells current connections Connum, QCE/LB_PUBLIC ConNum (248/10997; its older
    GetMonitorData page, Connum); a private CLB has no points in the public namespace."""
    cloud.emu.set_knobs(monitor_period_seconds=0.1, monitor_delay_seconds=0.0)
    cloud.emu.set_connections("10.0.0.4", 3)
    time.sleep(0.3)
    now = _monitor_now(cloud)
    assert cloud.error("monitor", "GetMonitorData", {
        "Namespace": "QCE/LB_RS_PRIVATE", "MetricName": "ConNum", "Period": 60,
        "Instances": [_instance()]}).code == "InvalidParameterValue"
    fmt = lambda t: datetime.fromtimestamp(t, CHINA).isoformat(timespec="seconds")  # noqa: E731
    for metric in ("ConNum", "Connum"):
        (point,) = cloud.call("monitor", "GetMonitorData", {
            "Namespace": "QCE/LB_PUBLIC", "MetricName": metric, "Period": 60, "Instances": [_instance()],
            "StartTime": fmt(now - 2), "EndTime": fmt(now)}).DataPoints
        assert point.Timestamps == []
    (private,) = _read(cloud, now - 2, now).DataPoints
    assert private.Values and set(private.Values) == {3.0}
