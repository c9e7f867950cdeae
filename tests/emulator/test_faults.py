"""Knobs: injected errors, lost replies, busy load balancers, failed tasks, latency, replayable seeds."""
from __future__ import annotations

import time

import pytest

from emulator import Emulator, Knobs

from .conftest import ESTATE, Cloud, bound

T = {"LoadBalancerId": "lb-aaaa1111", "Targets": [{"ListenerId": "lbl-aaaa1111", "Port": 8080, "InstanceId": "ins-leave001"}]}
KEY = ("lb-aaaa1111", "lbl-aaaa1111", None, 8080, "10.0.0.4")


def test_error_rate_one_gives_internal_error_and_applies_nothing(cloud: Cloud) -> None:
    cloud.emu.set_knobs(error_rate=1.0)
    assert cloud.error("clb", "BatchDeregisterTargets", T).code == "InternalError"
    assert cloud.error("cvm", "DescribeInstances").code == "InternalError"
    time.sleep(0.06)
    assert KEY in bound(cloud.emu, "ins-leave001") and not cloud.emu.tasks()


def test_fault_actions_limit_where_faults_apply(cloud: Cloud) -> None:
    cloud.emu.set_knobs(error_rate=1.0, fault_actions={"clb:BatchDeregisterTargets"})
    assert cloud.call("cvm", "DescribeInstances").TotalCount == 5
    assert cloud.call("ecm", "BatchDeregisterTargets", {"LoadBalancerId": "lb-ecm11111", "Targets": [
        {"ListenerId": "lbl-ecm11111", "Port": 80, "InstanceId": "ein-leave001"}]}).FailListenerIdSet == []
    assert cloud.error("clb", "BatchDeregisterTargets", T).code == "InternalError"


def test_dropped_reply_is_applied_but_the_sdk_raises(cloud: Cloud) -> None:
    cloud.emu.set_knobs(drop_reply_rate=1.0)
    assert cloud.call("clb", "DescribeLoadBalancers").TotalCount == 3  # reads are not dropped
    assert cloud.error("clb", "BatchDeregisterTargets", T).code == "ClientNetworkError"
    (record,) = [c for c in cloud.emu.calls if c.action == "BatchDeregisterTargets"]
    assert record.dropped and record.error_code is None
    assert cloud.wait_task(record.request_id) == 0
    assert KEY not in bound(cloud.emu, "ins-leave001")
    cloud.emu.set_knobs(drop_reply_mode="http502")
    assert cloud.error("tdmq", "SendCmqMsg", {"QueueName": "clb-unbind-retry", "MsgContent": "x"}).code == "ServerNetworkError"
    assert len(cloud.emu.messages("clb-unbind-retry")) == 1


def test_busy_rate_and_failed_tasks(cloud: Cloud) -> None:
    cloud.emu.set_knobs(busy_rate=1.0)
    assert cloud.error("clb", "BatchDeregisterTargets", T).code == "FailedOperation.ResourceInOperating"
    cloud.emu.set_knobs(busy_rate=0.0, task_fail_rate=1.0, clb_batch_deregister_async=True)
    resp = cloud.call("clb", "BatchDeregisterTargets", T)
    assert cloud.wait_task(resp.RequestId) == 1
    status = cloud.call("clb", "DescribeTaskStatus", {"TaskId": resp.RequestId})
    assert status.Message and status.LoadBalancerIds == ["lb-aaaa1111"]
    assert KEY in bound(cloud.emu, "ins-leave001")


def test_latency_is_added(cloud: Cloud) -> None:
    cloud.emu.set_knobs(latency_seconds=0.15)
    start = time.monotonic()
    cloud.call("cvm", "DescribeInstances")
    assert time.monotonic() - start >= 0.15


def test_same_seed_replays_the_same_faults() -> None:
    def run() -> list:
        with Emulator.from_file(ESTATE, knobs=Knobs(error_rate=0.5, seed=7, rate_limit_per_second=0)) as emu:
            cloud = Cloud(emu)
            for _ in range(12):
                try:
                    cloud.call("cvm", "DescribeInstances")
                except Exception:  # noqa: BLE001 - TencentCloudSDKException
                    pass
            return [c.error_code for c in emu.calls]

    first = run()
    assert first == run()
    assert "InternalError" in first and None in first


def test_bad_knobs_are_refused(emu: Emulator) -> None:
    with pytest.raises(ValueError):
        emu.set_knobs(error_rate=2)
    with pytest.raises(ValueError):
        emu.set_knobs(colour="red")
