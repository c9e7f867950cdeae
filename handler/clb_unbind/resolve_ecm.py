"""ECM edge instances: DescribeInstances, DescribeLoadBalancers(BackendPrivateIps), DescribeTargets per LB."""
from __future__ import annotations

from typing import List, Optional, Sequence

from .cloud import ecm
from .cloud.session import CloudSession
from .model import Binding, Cloud
from .resolution import Resolution, group_by_instance, known_places


def resolve_ecm(session: CloudSession, instance_ids: Sequence[str], earlier: Optional[Resolution] = None) -> Resolution:
    places = known_places(instance_ids, earlier)
    if places is not None and earlier is not None:
        load_balancers = sorted({b.load_balancer_id for i in instance_ids for b in earlier.bindings.get(i, ())})
    else:
        places = ecm.describe_instances(session, instance_ids)
        ips = sorted({ip for place in places.values() for ip in place.private_ips})
        load_balancers = ecm.load_balancers_with_backends(session, ips) if ips else []
    found: List[Binding] = []
    for lb_id in load_balancers:
        for listener in ecm.describe_targets(session, lb_id):
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
    return Resolution(group_by_instance(places, found), frozenset(instance_ids) - frozenset(places), places)
