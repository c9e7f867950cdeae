"""ECM edge instances: DescribeInstances, DescribeLoadBalancers(BackendPrivateIps), DescribeTargets per LB."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

from .cloud import ecm
from .cloud.cvm import NetworkPlace
from .cloud.errors import CloudError, is_permanent
from .cloud.session import CloudSession
from .model import Binding, Cloud, CloudFailure
from .resolution import Resolution, known_places


def resolve_ecm(session: CloudSession, instance_ids: Sequence[str], earlier: Optional[Resolution] = None) -> Resolution:
    places = known_places(instance_ids, earlier)
    failed: Dict[str, CloudFailure] = {}
    if places is not None and earlier is not None:
        load_balancers = sorted({b.load_balancer_id for i in instance_ids for b in earlier.bindings.get(i, ())})
    else:
        places, failed = ecm.describe_instances(session, instance_ids)
        owners = {ip: i for i, place in places.items() if i not in failed for ip in place.private_ips}
        load_balancers, refused = ecm.load_balancers_with_backends(session, sorted(owners)) if owners else ([], {})
        for ip, failure in refused.items():
            failed.setdefault(owners[ip], failure)
    found: List[Binding] = []
    for lb_id in load_balancers:
        try:
            listeners = ecm.describe_targets(session, lb_id)
        except CloudError as exc:
            if not is_permanent(exc.code):
                raise
            for iid in _on_load_balancer(session, lb_id, {i: p for i, p in places.items() if i not in failed}, earlier):
                failed.setdefault(iid, exc.failure)
            continue
        for listener in listeners:
            for target in listener.get("Targets") or []:
                place = places.get(target.get("InstanceId") or "")
                if place is None or target.get("Port") is None:
                    continue
                addresses = target.get("PrivateIpAddresses") or list(place.private_ips[:1])
                found.append(
                    Binding(
                        cloud=Cloud.ECM,
                        region="",
                        load_balancer_id=lb_id,
                        listener_id=listener["ListenerId"],
                        protocol=str(listener.get("Protocol") or ""),
                        listener_port=int(listener.get("Port") or 0),
                        location_id=None,
                        instance_id=place.instance_id,
                        private_ip=addresses[0],
                        target_port=int(target["Port"]),
                        weight=target.get("Weight"),
                    )
                )
    return Resolution.of(instance_ids, places, found, failed)


def _on_load_balancer(session: CloudSession, lb_id: str, places: Dict[str, NetworkPlace], earlier: Optional[Resolution]) -> List[str]:
    """Which of these instances are backends of `lb_id`, whose targets cannot be read: only they fail.

    A verification knows it from the earlier bindings; otherwise halves are asked
    DescribeLoadBalancers(BackendPrivateIps) until each instance on it is found alone. When that
    finds none, all of them fail: an instance whose targets are unread is never reported unbound.
    """
    if earlier is not None:
        return sorted(i for i in places if any(b.load_balancer_id == lb_id for b in earlier.bindings.get(i, ())))

    def holds(ids: List[str]) -> bool:
        found, _ = ecm.load_balancers_with_backends(session, sorted({ip for i in ids for ip in places[i].private_ips}))
        return lb_id in found

    def search(ids: List[str]) -> List[str]:
        if len(ids) == 1:
            return ids
        middle = len(ids) // 2
        return [i for half in (ids[:middle], ids[middle:]) if holds(half) for i in search(half)]

    ids = sorted(places)
    # Found for all of them a moment ago: if no half holds it now, none can be cleared.
    return (search(ids) if holds(ids) else []) or ids
