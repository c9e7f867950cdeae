"""CVM instances behind CLB: DescribeInstances, then DescribeLBListeners by (VpcId, PrivateIp)."""
from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from .cloud import clb, cvm
from .cloud.cvm import NetworkPlace
from .cloud.errors import CloudError, null_in_reply
from .cloud.session import CloudSession
from .model import Binding, Cloud, CloudFailure
from .resolution import Resolution, known_places


def lookup_rounds(places: Sequence[NetworkPlace]) -> List[Dict[Tuple[str, str], NetworkPlace]]:
    """Split (vpc, ip) backends into lookups in which every IP occurs once.

    DescribeLBListeners answers targets by IP, with a numeric VpcId we cannot map to `vpc-…`; if two named
    instances in different VPCs share an IP, one lookup could not tell their bindings apart. Such
    collisions go to separate lookups, so an answer's IP always names exactly one instance.
    """
    rounds: List[Dict[Tuple[str, str], NetworkPlace]] = []
    for place in places:
        for ip in place.private_ips:
            for lookup in rounds:
                if all(existing_ip != ip for _, existing_ip in lookup):
                    lookup[(place.vpc_id, ip)] = place
                    break
            else:
                rounds.append({(place.vpc_id, ip): place})
    return rounds


def _targets(item: dict) -> Iterator[Tuple[dict, dict, object]]:
    """Every target of a reverse-lookup answer. `Listeners.Targets` and `Listeners.Rules` may be null
    (api.json `value_allowed_null`): a listener the lookup matched whose targets are null is unknown,
    never "not bound", so it fails the lookup (retried later)."""
    for listener in item.get("Listeners") or []:
        rules = listener.get("Rules")
        if listener.get("Targets") is None and rules is None:
            raise CloudError(null_in_reply("clb:DescribeLBListeners", f"Targets and Rules of listener {listener.get('ListenerId')}"))
        for target in listener.get("Targets") or []:
            yield listener, target, None
        for rule in rules or []:
            if rule.get("Targets") is None:
                raise CloudError(null_in_reply("clb:DescribeLBListeners", f"Targets of rule {rule.get('LocationId')}"))
            for target in rule["Targets"]:
                yield listener, target, rule.get("LocationId")


def cvm_places(session: CloudSession, instance_ids: Sequence[str]) -> Tuple[Dict[str, NetworkPlace], Dict[str, CloudFailure]]:
    """Where each instance sits, with every private IP of every network interface attached to it now:
    CVM DescribeInstances (VPC, primary interface's IPs, the primary IP first) and VPC
    DescribeNetworkInterfaces (the others, cloud/vpc.py), asked at the same time. An IP that moved to
    another instance is that one's, never ours."""
    from .cloud import vpc

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="clb-unbind-vpc") as pool:
        interfaces = pool.submit(contextvars.copy_context().run, vpc.attached_ips, session, sorted(set(instance_ids)))
        places, failed = cvm.describe_instances(session, instance_ids)
        try:
            extra, refused = interfaces.result()
        except CloudError as exc:
            extra, refused = {}, {i: exc.failure for i in instance_ids}
    for iid, failure in refused.items():
        if iid in places:
            failed.setdefault(iid, failure)
    places = {i: replace(p, private_ips=tuple(dict.fromkeys([*p.private_ips, *extra.get(i, ())]))) for i, p in places.items()}
    return places, failed


def resolve_clb(session: CloudSession, instance_ids: Sequence[str], earlier: Optional[Resolution] = None,
                known: Optional[Tuple[Dict[str, NetworkPlace], Dict[str, CloudFailure]]] = None) -> Resolution:
    """Direct binds; `known` = places already read (`cvm_places`), else the earlier resolution's or a new read."""
    places = known_places(instance_ids, earlier)
    failed: Dict[str, CloudFailure] = {}
    if known is not None:
        places, failed = known[0], dict(known[1])
    elif places is None:
        places, failed = cvm_places(session, instance_ids)
    found: List[Binding] = []
    for lookup in lookup_rounds([places[i] for i in sorted(places) if i not in failed]):
        owner_by_ip = {ip: place for (_, ip), place in lookup.items()}
        items, refused = clb.describe_lb_listeners(session, list(lookup))
        for backend, failure in refused.items():
            failed.setdefault(lookup[backend].instance_id, failure)
        for item in items:
            region = item.get("Region") or session.settings.region
            for listener, target, location_id in _targets(item):
                place = owner_by_ip.get(target.get("PrivateIp"))
                if place is None or target.get("Port") is None:
                    continue
                ip = target["PrivateIp"]
                found.append(
                    Binding(
                        cloud=Cloud.CLB,
                        region=region,
                        load_balancer_id=item["LoadBalancerId"],
                        listener_id=listener["ListenerId"],
                        protocol=str(listener.get("Protocol") or ""),
                        listener_port=int(listener.get("Port") or 0),
                        location_id=location_id,  # type: ignore[arg-type]
                        instance_id=place.instance_id,
                        private_ip=ip,
                        target_port=int(target["Port"]),
                        weight=target.get("Weight"),
                        # A bind by InstanceId means the primary NIC's primary IP; anything else, an ENI
                        # bind, or a cross-region bind is removed by EniIp (docs/cloud-facts.md#clb-batchderegistertargets).
                        by_eni_ip=(
                            ip != place.private_ips[0]
                            or str(target.get("Type") or "").lower() == "eni"
                            or region != session.settings.region
                        ),
                    )
                )
    return Resolution.of(instance_ids, places, found, failed)
