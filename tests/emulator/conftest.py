"""Fixtures: a fresh emulator on the emulator tests' own estate (``tests/emulator/estate.json``) per test,
and SDK clients pointed at it.

Every call goes through the unmodified SDK clients (``HttpProfile(protocol="http", endpoint=...)``);
generic calls with parameters the SDK models would drop use the SDK's own ``call_json``.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from tencentcloud.autoscaling.v20180419 import autoscaling_client
from tencentcloud.autoscaling.v20180419 import models as as_models
from tencentcloud.clb.v20180317 import clb_client
from tencentcloud.clb.v20180317 import models as clb_models
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client
from tencentcloud.cvm.v20170312 import models as cvm_models
from tencentcloud.ecm.v20190719 import ecm_client
from tencentcloud.ecm.v20190719 import models as ecm_models
from tencentcloud.tdmq.v20200217 import models as tdmq_models
from tencentcloud.tdmq.v20200217 import tdmq_client

from emulator import Emulator, Knobs

# The estate these tests assert against; deliberately not emulator/estates/demo.json, which is
# shared with the function's tests and `make demo` and may change with them.
ESTATE = Path(__file__).resolve().with_name("estate.json")
REGION = "ap-guangzhou"
CLIENTS = {
    "cvm": (cvm_client.CvmClient, cvm_models),
    "clb": (clb_client.ClbClient, clb_models),
    "ecm": (ecm_client.EcmClient, ecm_models),
    "as": (autoscaling_client.AutoscalingClient, as_models),
    "tdmq": (tdmq_client.TdmqClient, tdmq_models),
}


class Cloud:
    """SDK clients bound to one emulator."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    def client(self, service: str, region: str | None = None, cred: tuple[str, str, str | None] | None = None):
        cls, _ = CLIENTS[service]
        sid, key, token = cred or self.emu.credentials
        profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=self.emu.host_port, reqTimeout=10))
        if region is None:
            region = "" if service == "ecm" else REGION  # ECM takes no region (docs/cloud-facts.md#ecm-takes-no-region)
        return cls(credential.Credential(sid, key, token), region, profile)

    def call(self, service: str, action: str, params: dict[str, Any] | None = None, **kw: Any):
        """Typed call: build ``<Action>Request`` from a dict and invoke the client method."""
        _, models = CLIENTS[service]
        req = getattr(models, f"{action}Request")()
        req.from_json_string(json.dumps(params or {}))
        return getattr(self.client(service, **kw), action)(req)

    def raw(self, service: str, action: str, params: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """Untyped call through the SDK's ``call_json`` (sends exactly ``params``)."""
        return self.client(service, **kw).call_json(action, params)["Response"]

    def error(self, service: str, action: str, params: dict[str, Any] | None = None, *, raw: bool = False,
              **kw: Any) -> TencentCloudSDKException:
        with pytest.raises(TencentCloudSDKException) as info:
            if raw:
                self.raw(service, action, params or {}, **kw)
            else:
                self.call(service, action, params, **kw)
        return info.value

    def wait_task(self, task_id: str, service: str = "clb", timeout: float = 3.0) -> int:
        action = "DescribeTaskStatus" if service == "clb" else "DescribeLoadBalanceTaskStatus"
        deadline = time.monotonic() + timeout
        while True:
            status = self.call(service, action, {"TaskId": task_id}).Status
            if status != 2 or time.monotonic() > deadline:
                return status
            time.sleep(0.06)  # stay under the 20 requests/s limit of the action


@pytest.fixture
def emu():
    with Emulator.from_file(ESTATE, knobs=Knobs(task_seconds=0.05)) as e:
        yield e


@pytest.fixture
def cloud(emu: Emulator) -> Cloud:
    return Cloud(emu)


def bound(emu: Emulator, target: str) -> set[tuple[str, str, str | None, int, str]]:
    return {(b["loadBalancerId"], b["listenerId"], b["locationId"], b["port"], b["privateIp"]) for b in emu.bindings(target)}
