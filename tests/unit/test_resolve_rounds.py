from __future__ import annotations

from clb_unbind.cloud.cvm import NetworkPlace
from clb_unbind.resolve_clb import lookup_rounds


def test_one_lookup_when_ips_are_unique() -> None:
    rounds = lookup_rounds([NetworkPlace("ins-aaaaaaa1", "vpc-1", ("10.0.0.1", "10.0.0.2")), NetworkPlace("ins-aaaaaaa2", "vpc-1", ("10.0.0.3",))])
    assert len(rounds) == 1 and len(rounds[0]) == 3


def test_same_ip_in_two_vpcs_gets_separate_lookups() -> None:
    a = NetworkPlace("ins-aaaaaaa1", "vpc-1", ("10.0.0.1",))
    b = NetworkPlace("ins-aaaaaaa2", "vpc-2", ("10.0.0.1", "10.0.0.9"))
    rounds = lookup_rounds([a, b])
    assert len(rounds) == 2
    for lookup in rounds:
        ips = [ip for _, ip in lookup]
        assert len(ips) == len(set(ips))
    assert {owner.instance_id for lookup in rounds for owner in lookup.values()} == {"ins-aaaaaaa1", "ins-aaaaaaa2"}
