"""Cloud Monitor 2018-07-24 `GetMonitorData`: backends' current connections (docs/drain.md).

Called through the common package's CommonClient (`session.call`), as VPC is: the monitor product package
(tencentcloud-sdk-python-monitor 3.1.189) unpacks to 2.2 MB, 1.4 MB of it `models.py`, for one read.
One request reads one metric for at most 10 dimension sets (the docs' limit, stricter than the SDK
docstring's 50) and 1440 data points, so B bindings cost ceil(B / 10) reads a look.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from .session import CloudSession, chunks

NAMESPACE = "QCE/LB_RS_PRIVATE"
METRIC = "Connum"
PERIOD = 60
MAX_INSTANCES = 10
MAX_POINTS = 1440


Backend = Tuple[str, str, int, str, str, int]
"""(vip, vpc id, listener port, protocol, backend IP, backend port): one RS-port dimension set."""
Series = Dict[float, float]
"""Period start (Unix seconds) → value; a period absent here had no data point."""


def dimensions(backend: Sequence) -> List[Dict[str, str]]:
    vip, vpc_id, lb_port, protocol, ip, port = backend
    return [{"Name": "vip", "Value": vip}, {"Name": "vpcId", "Value": vpc_id},
            {"Name": "loadBalancerPort", "Value": str(lb_port)}, {"Name": "protocol", "Value": protocol.upper()},
            {"Name": "lanIp", "Value": ip}, {"Name": "port", "Value": str(port)}]


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")


def connections(session: CloudSession, region: Optional[str], backends: Iterable[Tuple], start: float,
                end: float) -> Dict[Tuple, Series]:
    """Each backend's `Connum` per 60 s period from `start` to `end`, as few requests as the limits allow.
    A CloudError propagates: the caller counts the look as unknown, never as zero."""
    wanted = sorted(set(tuple(b) for b in backends))
    periods = max(int((end - start) // PERIOD) + 1, 1)
    per_call = max(min(MAX_INSTANCES, MAX_POINTS // periods), 1)
    out: Dict[Tuple, Series] = {b: {} for b in wanted}
    for part in chunks(wanted, per_call):
        by_key = {tuple(sorted((d["Name"], d["Value"]) for d in dimensions(b))): b for b in part}
        reply = session.call("monitor", "GetMonitorData", {
            "Namespace": NAMESPACE, "MetricName": METRIC, "Period": PERIOD,
            "Instances": [{"Dimensions": dimensions(b)} for b in part],
            "StartTime": _iso(start), "EndTime": _iso(end)}, region=region)
        for point in reply.get("DataPoints") or []:
            key = tuple(sorted((d.get("Name"), d.get("Value")) for d in point.get("Dimensions") or []))
            backend = by_key.get(key)
            if backend is None:
                continue
            stamps = point.get("Timestamps") or []
            values = point.get("Values") or []
            out[backend].update({float(t): float(v) for t, v in zip(stamps, values) if v is not None})
    return out
