"""CLB behaviour: reverse lookup, batch/single deregistration, tasks and locks, limits, weights."""
from __future__ import annotations

import time

from .conftest import Cloud, bound

LEAVE1 = [("lb-aaaa1111", "lbl-aaaa1111", None, 8080, "10.0.0.4"),
          ("lb-aaaa1111", "lbl-aaaa1111", None, 8081, "10.0.0.4"),
          ("lb-aaaa1111", "lbl-aaaa2222", "loc-aaaa1111", 80, "10.0.0.4"),
          ("lb-bbbb2222", "lbl-bbbb1111", "loc-bbbb1111", 443, "10.0.0.14")]


def lb_listeners(cloud: Cloud, vpc: str, *ips: str):
    return cloud.call("clb", "DescribeLBListeners", {"Backends": [{"VpcId": vpc, "PrivateIp": ip} for ip in ips]})


def flatten(resp) -> set[tuple]:
    out = set()
    for lb in resp.LoadBalancers or []:
        for l in lb.Listeners or []:
            for t in l.Targets or []:
                out.add((lb.LoadBalancerId, l.ListenerId, None, t.Port, t.PrivateIp, t.Type))
            for r in l.Rules or []:
                for t in r.Targets or []:
                    out.add((lb.LoadBalancerId, l.ListenerId, r.LocationId, t.Port, t.PrivateIp, t.Type))
    return out


def test_describe_lb_listeners_finds_l4_l7_secondary_ip_and_two_ports(cloud: Cloud) -> None:
    resp = lb_listeners(cloud, "vpc-aaaa1111", "10.0.0.4", "10.0.0.14")
    found = flatten(resp)
    assert {f[:5] for f in found} == set(LEAVE1)
    assert ("lb-bbbb2222", "lbl-bbbb1111", "loc-bbbb1111", 443, "10.0.0.14", "eni") in found
    assert {f[5] for f in found if f[4] == "10.0.0.4"} == {"cvm"}
    # Only matching targets: the staying instance on the same listeners is not returned.
    assert all(f[4] in ("10.0.0.4", "10.0.0.14") for f in found)
    for lb in resp.LoadBalancers:
        assert lb.Region == "ap-guangzhou" and lb.Vip
        for l in lb.Listeners:
            assert (l.Rules is None) == (l.Protocol not in ("HTTP", "HTTPS"))  # L7 targets only under rules
            for t in (l.Targets or []) + [t for r in (l.Rules or []) for t in r.Targets]:
                assert isinstance(t.VpcId, int)


def test_describe_lb_listeners_matches_within_the_vpc(cloud: Cloud) -> None:
    mine = {f[0] for f in flatten(lb_listeners(cloud, "vpc-aaaa1111", "10.0.0.5"))}
    other = {f[0] for f in flatten(lb_listeners(cloud, "vpc-bbbb2222", "10.0.0.5"))}
    assert mine == {"lb-aaaa1111", "lb-bbbb2222"} and other == {"lb-cccc3333"}
    assert flatten(lb_listeners(cloud, "vpc-aaaa1111", "10.9.9.9")) == set()


def batch(cloud: Cloud, targets: list[dict], lb: str = "lb-aaaa1111"):
    return cloud.call("clb", "BatchDeregisterTargets", {"LoadBalancerId": lb, "Targets": targets})


def test_batch_deregister_applies_when_the_task_ends(cloud: Cloud) -> None:
    emu = cloud.emu
    emu.set_knobs(task_seconds=0.3, clb_batch_deregister_async=True)
    resp = batch(cloud, [
        {"ListenerId": "lbl-aaaa1111", "Port": 8080, "InstanceId": "ins-leave001"},
        {"ListenerId": "lbl-aaaa1111", "Port": 8081, "EniIp": "10.0.0.4"},
        {"ListenerId": "lbl-aaaa2222", "LocationId": "loc-aaaa1111", "Port": 80, "InstanceId": "ins-leave001"},
    ])
    assert resp.FailListenerIdSet == []
    status = cloud.call("clb", "DescribeTaskStatus", {"TaskId": resp.RequestId})
    assert status.Status == 2 and status.LoadBalancerIds == ["lb-aaaa1111"]
    assert bound(emu, "ins-leave001") == set(LEAVE1)  # not applied while running
    assert cloud.wait_task(resp.RequestId) == 0
    assert bound(emu, "ins-leave001") == {LEAVE1[3]}
    assert ("lb-aaaa1111", "lbl-aaaa1111", None, 8080, "10.0.0.6") in bound(emu, "ins-stay0001")


def test_load_balancer_is_locked_while_a_task_runs(cloud: Cloud) -> None:
    cloud.emu.set_knobs(task_seconds=0.3, clb_batch_deregister_async=True)
    resp = batch(cloud, [{"ListenerId": "lbl-aaaa1111", "Port": 8080, "InstanceId": "ins-leave001"}])
    again = [{"ListenerId": "lbl-aaaa1111", "Port": 8081, "InstanceId": "ins-leave001"}]
    assert cloud.error("clb", "BatchDeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "Targets": again}).code \
        == "FailedOperation.ResourceInOperating"
    assert cloud.error("clb", "DeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "ListenerId": "lbl-aaaa1111",
                                                    "Targets": [{"InstanceId": "ins-leave001", "Port": 8081}]}).code \
        == "FailedOperation.ResourceInOperating"
    # Another load balancer is not locked; reads are never locked.
    assert batch(cloud, [{"ListenerId": "lbl-bbbb1111", "LocationId": "loc-bbbb1111", "Port": 443, "EniIp": "10.0.0.14"}],
                 lb="lb-bbbb2222").FailListenerIdSet == []
    assert lb_listeners(cloud, "vpc-aaaa1111", "10.0.0.4").LoadBalancers
    assert cloud.wait_task(resp.RequestId) == 0
    assert batch(cloud, again).FailListenerIdSet == []


def test_someone_elses_lock(cloud: Cloud) -> None:
    cloud.emu.lock_load_balancer("lb-aaaa1111", 0.2)
    t = [{"ListenerId": "lbl-aaaa1111", "Port": 8080, "InstanceId": "ins-leave001"}]
    assert cloud.error("clb", "BatchDeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "Targets": t}).code \
        == "FailedOperation.ResourceInOperating"
    time.sleep(0.25)
    assert batch(cloud, t).FailListenerIdSet == []


def test_unknown_listener_fails_alone(cloud: Cloud) -> None:
    resp = batch(cloud, [
        {"ListenerId": "lbl-zzzz9999", "Port": 8080, "InstanceId": "ins-leave001"},
        {"ListenerId": "lbl-aaaa1111", "Port": 8080, "InstanceId": "ins-leave001"},
    ])
    assert resp.FailListenerIdSet == ["lbl-zzzz9999"]
    assert "lbl-zzzz9999" in resp.Message and "not exists" in resp.Message
    assert cloud.wait_task(resp.RequestId) == 0
    assert ("lb-aaaa1111", "lbl-aaaa1111", None, 8080, "10.0.0.4") not in bound(cloud.emu, "ins-leave001")
    # A listener of another load balancer is "not on this LB" as well.
    assert batch(cloud, [{"ListenerId": "lbl-bbbb2222", "Port": 3306, "InstanceId": "ins-stay0001"}]).FailListenerIdSet \
        == ["lbl-bbbb2222"]


def test_l7_target_without_location_is_refused(cloud: Cloud) -> None:
    before = bound(cloud.emu, "ins-leave001")
    err = cloud.error("clb", "BatchDeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "Targets": [
        {"ListenerId": "lbl-aaaa1111", "Port": 8080, "InstanceId": "ins-leave001"},
        {"ListenerId": "lbl-aaaa2222", "Port": 80, "InstanceId": "ins-leave001"}]})
    assert err.code == "MissingParameter" and "Targets.1.LocationId" in err.message
    err = cloud.error("clb", "BatchDeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "Targets": [
        {"ListenerId": "lbl-aaaa2222", "LocationId": "loc-bbbb1111", "Port": 80, "InstanceId": "ins-leave001"}]})
    assert err.code == "InvalidParameter.LocationNotFound"
    time.sleep(0.06)
    assert bound(cloud.emu, "ins-leave001") == before
    assert not cloud.emu.tasks()  # refused requests start no task


def test_target_needs_exactly_one_of_instance_and_ip(cloud: Cloud) -> None:
    both = {"ListenerId": "lbl-aaaa1111", "Port": 8080, "InstanceId": "ins-leave001", "EniIp": "10.0.0.4"}
    assert cloud.error("clb", "BatchDeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "Targets": [both]}).code \
        == "InvalidParameter"
    neither = {"ListenerId": "lbl-aaaa1111", "Port": 8080}
    assert cloud.error("clb", "BatchDeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "Targets": [neither]}).code \
        == "MissingParameter"
    dup = {"ListenerId": "lbl-aaaa1111", "Port": 8080, "EniIp": "10.0.0.4"}
    assert cloud.error("clb", "BatchDeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "Targets": [dup, dup]}).code \
        == "InvalidParameterValue.Duplicate"
    assert cloud.error("clb", "BatchDeregisterTargets", {"LoadBalancerId": "lb-nothere1", "Targets": [dup]}).code \
        == "InvalidParameter.LBIdNotFound"


def test_instance_id_means_the_primary_ip(cloud: Cloud) -> None:
    # ins-leave001's secondary IP 10.0.0.14 is bound by IP; InstanceId does not reach it.
    resp = batch(cloud, [{"ListenerId": "lbl-bbbb1111", "LocationId": "loc-bbbb1111", "Port": 443,
                          "InstanceId": "ins-leave001"}], lb="lb-bbbb2222")
    cloud.wait_task(resp.RequestId)
    assert LEAVE1[3] in bound(cloud.emu, "ins-leave001")
    resp = batch(cloud, [{"ListenerId": "lbl-bbbb1111", "LocationId": "loc-bbbb1111", "Port": 443,
                          "EniIp": "10.0.0.14"}], lb="lb-bbbb2222")
    cloud.wait_task(resp.RequestId)
    assert LEAVE1[3] not in bound(cloud.emu, "ins-leave001")


def test_not_bound_is_ignored_unless_the_knob_says_failure(cloud: Cloud) -> None:
    ghost = {"ListenerId": "lbl-aaaa1111", "Port": 9999, "InstanceId": "ins-leave001"}
    real = {"ListenerId": "lbl-aaaa1111", "Port": 8080, "InstanceId": "ins-leave001"}
    resp = batch(cloud, [ghost])
    assert resp.FailListenerIdSet == []
    cloud.wait_task(resp.RequestId)
    cloud.emu.set_knobs(not_bound_as_failure=True)
    resp = batch(cloud, [real, ghost])
    assert resp.FailListenerIdSet == ["lbl-aaaa1111"]
    cloud.wait_task(resp.RequestId)
    assert LEAVE1[0] in bound(cloud.emu, "ins-leave001")  # the failed listener is left as it was


def test_batch_limits(cloud: Cloud) -> None:
    many = [{"ListenerId": "lbl-aaaa1111", "Port": 10000 + i, "EniIp": "10.0.0.4"} for i in range(501)]
    assert cloud.error("clb", "BatchDeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "Targets": many}).code \
        == "InvalidParameterValue.Length"
    resp = batch(cloud, many[:500])  # exactly 500 is fine (none of them is bound)
    assert resp.FailListenerIdSet == []
    cloud.wait_task(resp.RequestId)
    twenty_one = [{"EniIp": "10.0.0.4", "Port": 10000 + i} for i in range(21)]
    assert cloud.error("clb", "DeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "ListenerId": "lbl-aaaa1111",
                                                    "Targets": twenty_one}).code == "InvalidParameterValue.Length"
    assert cloud.error("clb", "DescribeTargets", {"LoadBalancerId": "lb-aaaa1111",
                                                  "ListenerIds": [f"lbl-x{i:07d}" for i in range(21)]}).code \
        == "InvalidParameterValue.Length"
    assert cloud.error("clb", "DescribeLoadBalancers", {"Limit": 101}).code == "InvalidParameterValue.Range"


def test_deregister_targets_l7_by_location_or_domain_url(cloud: Cloud) -> None:
    base = {"LoadBalancerId": "lb-aaaa1111", "ListenerId": "lbl-aaaa2222",
            "Targets": [{"InstanceId": "ins-leave002", "Port": 80}]}
    assert cloud.error("clb", "DeregisterTargets", base).code == "MissingParameter"
    resp = cloud.call("clb", "DeregisterTargets", {**base, "Domain": "a.example.com", "Url": "/api"})
    assert cloud.wait_task(resp.RequestId) == 0
    assert ("lb-aaaa1111", "lbl-aaaa2222", "loc-aaaa2222", 80, "10.0.0.5") not in bound(cloud.emu, "ins-leave002")
    assert cloud.error("clb", "DeregisterTargets", {**base, "ListenerId": "lbl-zzzz9999", "LocationId": "loc-aaaa2222"}).code \
        == "InvalidParameter.ListenerIdNotFound"
    assert cloud.error("clb", "DeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "ListenerId": "lbl-aaaa1111",
                                                    "Targets": [{"InstanceId": "ins-leave001"}]}).code == "MissingParameter"


def test_batch_modify_target_weight(cloud: Cloud) -> None:
    resp = cloud.call("clb", "BatchModifyTargetWeight", {"LoadBalancerId": "lb-aaaa1111", "ModifyList": [
        {"ListenerId": "lbl-aaaa1111", "Weight": 0, "Targets": [{"InstanceId": "ins-leave001", "Port": 8080},
                                                                {"EniIp": "10.0.0.4", "Port": 8081, "Weight": 5}]},
        {"ListenerId": "lbl-aaaa2222", "LocationId": "loc-aaaa1111", "Weight": 0,
         "Targets": [{"InstanceId": "ins-leave001", "Port": 80}]}]})
    assert cloud.wait_task(resp.RequestId) == 0
    weights = {(b["listenerId"], b["port"]): b["weight"] for b in cloud.emu.bindings("ins-leave001")}
    assert weights[("lbl-aaaa1111", 8080)] == 0 and weights[("lbl-aaaa1111", 8081)] == 5
    assert weights[("lbl-aaaa2222", 80)] == 0 and weights[("lbl-bbbb1111", 443)] == 10
    assert cloud.error("clb", "BatchModifyTargetWeight", {"LoadBalancerId": "lb-aaaa1111", "ModifyList": [
        {"ListenerId": "lbl-aaaa1111", "Weight": 101, "Targets": [{"InstanceId": "ins-leave001", "Port": 8080}]}]}).code \
        == "InvalidParameterValue.Range"
    assert cloud.error("clb", "BatchModifyTargetWeight", {"LoadBalancerId": "lb-aaaa1111", "ModifyList": [
        {"ListenerId": "lbl-aaaa2222", "Weight": 0, "Targets": [{"InstanceId": "ins-leave001", "Port": 80}]}]}).code \
        == "MissingParameter"


def test_describe_load_balancers_and_targets(cloud: Cloud) -> None:
    resp = cloud.call("clb", "DescribeLoadBalancers", {"BackendPrivateIps": ["10.0.0.4"], "AdditionalFields": ["TargetCount"]})
    assert [lb.LoadBalancerId for lb in resp.LoadBalancerSet] == ["lb-aaaa1111"]  # the ENI bind is not found by it
    assert resp.LoadBalancerSet[0].TargetCount == 9 and resp.LoadBalancerSet[0].Forward == 1
    assert cloud.call("clb", "DescribeLoadBalancers", {"Limit": 1, "Offset": 1}).TotalCount == 3
    resp = cloud.call("clb", "DescribeTargets", {"LoadBalancerId": "lb-bbbb2222", "ListenerIds": ["lbl-bbbb1111"],
                                                "Filters": [{"Name": "private-ip-address", "Values": ["10.0.0.14"]}]})
    (listener,) = resp.Listeners
    # api.json (tccli 3.1.189.1): ListenerBackend.Targets is output_required and never null: empty for L7.
    assert listener.Targets == [] and len(listener.Rules) == 1
    (backend,) = listener.Rules[0].Targets
    assert backend.Type == "ENI" and backend.PrivateIpAddresses == ["10.0.0.14"] and backend.Port == 443
    resp = cloud.call("clb", "DescribeTargets", {"LoadBalancerId": "lb-aaaa1111", "Protocol": "TCP"})
    assert [l.ListenerId for l in resp.Listeners] == ["lbl-aaaa1111"]
    assert {(t.InstanceId, t.Port) for t in resp.Listeners[0].Targets} == {
        ("ins-leave001", 8080), ("ins-leave001", 8081), ("ins-stay0001", 8080)}
    assert cloud.error("clb", "DescribeTargets", {"LoadBalancerId": "lb-aaaa1111", "ListenerIds": ["lbl-zzzz9999"]}).code \
        == "InvalidParameter.ListenerIdNotFound"
    assert cloud.error("clb", "DescribeTaskStatus", {"TaskId": "no-such-task"}).code == "InvalidParameterValue"


def test_clb_is_regional(cloud: Cloud) -> None:
    err = cloud.error("clb", "BatchDeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "Targets": [
        {"ListenerId": "lbl-aaaa1111", "Port": 8080, "InstanceId": "ins-leave001"}]}, region="ap-shanghai")
    assert err.code == "InvalidParameter.LBIdNotFound"
    # ...but the reverse lookup spans regions (docs/cloud-facts.md#clb-describelblisteners).
    assert flatten(lb_listeners(cloud, "vpc-aaaa1111", "10.0.0.4"))
