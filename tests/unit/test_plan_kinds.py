"""Planning other binding kinds: one write per target group or classic load balancer, within each call's limit,
and the allow-list through the load balancers a target group serves."""
from __future__ import annotations

from clb_unbind.model import Binding, Cloud, Kind, Serves
from clb_unbind.plan import plan, split_allowed


def member(n: int, group: str = "lbtg-aaaa0001", serves: tuple = (Serves("lb-aaaa0001", "lbl-aaaa0001"),)) -> Binding:
    return Binding(Cloud.CLB, "ap-guangzhou", serves[0].load_balancer_id if serves else "", "", "", 0, None,
                   f"ins-{n:08d}", f"10.0.0.{n}", 80, kind=Kind.TARGET_GROUP, target_group_id=group, serves=serves)


def test_a_group_is_one_write_per_twenty_members_whatever_it_serves() -> None:
    two = (Serves("lb-aaaa0001", "lbl-aaaa0001"), Serves("lb-bbbb0001", "lbl-bbbb0001"))
    batches = plan([member(n, serves=two) for n in range(25)] + [member(n, "lbtg-bbbb0001") for n in range(3)])
    assert [(b.load_balancer_id, b.kind, len(b.bindings)) for b in batches] == [
        ("lbtg-aaaa0001", Kind.TARGET_GROUP, 20), ("lbtg-aaaa0001", Kind.TARGET_GROUP, 5), ("lbtg-bbbb0001", Kind.TARGET_GROUP, 3)]


def test_direct_binds_and_memberships_on_one_load_balancer_are_separate_writes() -> None:
    direct = Binding(Cloud.CLB, "ap-guangzhou", "lb-aaaa0001", "lbl-aaaa0001", "TCP", 80, None, "ins-00000001", "10.0.0.1", 80)
    classic = Binding(Cloud.CLB, "ap-guangzhou", "lb-cccc0001", "", "", 0, None, "ins-00000001", "10.0.0.1", 0, kind=Kind.CLASSIC)
    batches = plan([direct, member(1), classic])
    assert sorted((b.kind.value, b.load_balancer_id) for b in batches) == [
        ("classic", "lb-cccc0001"), ("listener", "lb-aaaa0001"), ("target_group", "lbtg-aaaa0001")]


def test_allow_list_through_any_load_balancer_the_group_serves() -> None:
    two = (Serves("lb-aaaa0001", "lbl-aaaa0001"), Serves("lb-bbbb0001", "lbl-bbbb0001"))
    spanning, unassociated = member(1, serves=two), member(2, serves=())
    assert split_allowed([spanning, unassociated], frozenset({"lb-bbbb0001"})) == ([spanning], [unassociated])
    assert split_allowed([spanning], frozenset({"lb-cccc0001"})) == ([], [spanning])
    assert split_allowed([spanning, unassociated], frozenset()) == ([spanning, unassociated], [])
