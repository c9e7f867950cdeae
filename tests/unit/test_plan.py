from __future__ import annotations

from clb_unbind.model import Binding, Cloud
from clb_unbind.plan import deregister_target, plan, split_allowed, zero_weight_list


def binding(lb: str = "lb-aaaa1111", listener: str = "lbl-aaaa1111", port: int = 80, ip: str = "10.0.0.4",
            location: str | None = None, eni: bool = False, instance: str = "ins-web00001", cloud: Cloud = Cloud.CLB) -> Binding:
    return Binding(cloud, "ap-guangzhou", lb, listener, "TCP", 80, location, instance, ip, port, 10, eni)


def test_one_batch_per_load_balancer() -> None:
    bindings = [binding("lb-aaaa1111", port=80), binding("lb-aaaa1111", port=81), binding("lb-bbbb2222")]
    batches = plan(bindings)
    assert [(b.load_balancer_id, len(b.bindings)) for b in batches] == [("lb-aaaa1111", 2), ("lb-bbbb2222", 1)]


def test_duplicates_collapse() -> None:
    assert len(plan([binding(), binding()])[0].bindings) == 1


def test_chunks_at_the_api_limit() -> None:
    bindings = [binding(port=p) for p in range(1, 1202)]
    sizes = [len(b.bindings) for b in plan(bindings)]
    assert sizes == [500, 500, 201]
    assert sum(sizes) == 1201


def test_clouds_never_share_a_batch() -> None:
    batches = plan([binding(cloud=Cloud.CLB), binding(cloud=Cloud.ECM, instance="ein-edge0001")])
    assert sorted(b.cloud.value for b in batches) == ["clb", "ecm"]


def test_target_by_instance_id_or_eni_ip_never_both() -> None:
    assert deregister_target(binding()) == {"ListenerId": "lbl-aaaa1111", "Port": 80, "InstanceId": "ins-web00001"}
    eni = deregister_target(binding(ip="10.0.0.14", eni=True, location="loc-aaaa1111"))
    assert eni == {"ListenerId": "lbl-aaaa1111", "Port": 80, "EniIp": "10.0.0.14", "LocationId": "loc-aaaa1111"}


def test_allow_list_splits_bindings() -> None:
    mine, others = split_allowed([binding("lb-aaaa1111"), binding("lb-bbbb2222")], frozenset({"lb-bbbb2222"}))
    assert [b.load_balancer_id for b in mine] == ["lb-bbbb2222"]
    assert [b.load_balancer_id for b in others] == ["lb-aaaa1111"]
    mine, others = split_allowed([binding("lb-aaaa1111")], frozenset())
    assert len(mine) == 1 and others == []


def test_zero_weight_groups_by_listener_and_rule() -> None:
    modify = zero_weight_list([binding(location="loc-1"), binding(port=81, location="loc-1"), binding(listener="lbl-bbbb2222")])
    assert [(m["ListenerId"], m.get("LocationId"), len(m["Targets"])) for m in modify] == [
        ("lbl-aaaa1111", "loc-1", 2),
        ("lbl-bbbb2222", None, 1),
    ]
    assert all(t["Weight"] == 0 for m in modify for t in m["Targets"])
