"""CVM instances behind classic CLBs (Forward 0): DescribeClassicalLBByInstanceId ──► bindings.

Classic load balancers take whole instances, with no listener port of their own in the unbind call
(DeregisterTargetsFromClassicalLB {LoadBalancerId, InstanceIds}; SDK clb models.py), so one binding
stands for the instance on one classic load balancer. One read covers a batch of instances.
"""
from __future__ import annotations

from typing import Dict, Optional

from .cloud import clb_bindings
from .cloud.cvm import NetworkPlace
from .cloud.session import CloudSession
from .model import Binding, Cloud, Kind
from .resolution import Found, Resolution


def resolve_classic(session: CloudSession, places: Dict[str, NetworkPlace], earlier: Optional[Resolution] = None) -> Found:
    if not places:
        return Found()
    by_instance, failed = clb_bindings.classic_load_balancers(session, sorted(places))
    found = [
        Binding(cloud=Cloud.CLB, region=session.settings.region, load_balancer_id=lb_id, listener_id="", protocol="",
                listener_port=0, location_id=None, instance_id=iid, private_ip=places[iid].private_ips[0], target_port=0,
                kind=Kind.CLASSIC)
        for iid, lbs in sorted(by_instance.items()) if iid in places for lb_id in sorted(set(lbs))
    ]
    return Found(tuple(found), failed)
