"""Cloud Monitor 2018-07-24 `GetMonitorData`: backends' current connections (docs/drain.md).

Called through the common package's CommonClient (`session.call`), as VPC is: the monitor product package
(tencentcloud-sdk-python-monitor 3.1.189) unpacks to 2.2 MB, 1.4 MB of it `models.py`, for one read.
One request reads one metric of one namespace for at most 10 dimension sets (the docs' limit, stricter
than the SDK docstring's 50) and 1440 data points, so B bindings of one namespace cost ceil(B / 10)
reads a look; private and public CLBs are two namespaces, so two sets of reads.

Namespaces and metric names, as Tencent documents them per namespace (docs/drain.md#per-backend-connection-metrics-of-clb):
private CLB `QCE/LB_RS_PRIVATE` `Connum`, public CLB `QCE/LB_PUBLIC` `ConNum`, both at the real-server
port level with the same six dimensions (the documented order differs; a dimension set is matched by
name, as the reply's `Dimensions` come back in any order).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from .session import CloudSession, chunks

PRIVATE = "QCE/LB_RS_PRIVATE"
PUBLIC = "QCE/LB_PUBLIC"
NAMESPACE = PRIVATE
METRICS = {PRIVATE: "Connum", PUBLIC: "ConNum"}
METRIC = METRICS[PRIVATE]
_ORDER = {PRIVATE: ("vip", "vpcId", "loadBalancerPort", "protocol", "lanIp", "port"),
          PUBLIC: ("vip", "loadBalancerPort", "protocol", "vpcId", "lanIp", "port")}
PERIOD = 60
MAX_INSTANCES = 10
MAX_POINTS = 1440


Backend = Tuple[str, str, int, str, str, int]
"""(vip, vpc id, listener port, protocol, backend IP, backend port): one RS-port dimension set."""
Series = Dict[float, float]
"""Period start (Unix seconds) → value; a period absent here had no data point."""


def dimensions(backend: Sequence, namespace: str = PRIVATE) -> List[Dict[str, str]]:
    vip, vpc_id, lb_port, protocol, ip, port = backend
    values = {"vip": vip, "vpcId": str(vpc_id), "loadBalancerPort": str(lb_port), "protocol": protocol.upper(),
              "lanIp": ip, "port": str(port)}
    return [{"Name": name, "Value": values[name]} for name in _ORDER[namespace]]


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")


def connections(session: CloudSession, region: Optional[str], backends: Iterable[Tuple], start: float,
                end: float, namespace: str = PRIVATE) -> Dict[Tuple, Series]:
    """Each backend's current connections per 60 s period from `start` to `end`, in `namespace`, as few
    requests as the limits allow. A CloudError propagates: the caller counts the look as unknown, never
    as zero."""
    wanted = sorted(set(tuple(b) for b in backends))
    periods = max(int((end - start) // PERIOD) + 1, 1)
    per_call = max(min(MAX_INSTANCES, MAX_POINTS // periods), 1)
    out: Dict[Tuple, Series] = {b: {} for b in wanted}
    for part in chunks(wanted, per_call):
        by_key = {tuple(sorted((d["Name"], d["Value"]) for d in dimensions(b, namespace))): b for b in part}
        reply = session.call("monitor", "GetMonitorData", {
            "Namespace": namespace, "MetricName": METRICS[namespace], "Period": PERIOD,
            "Instances": [{"Dimensions": dimensions(b, namespace)} for b in part],
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
