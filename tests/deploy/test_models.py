"""Every request setup and check send, and every reply the emulator gives them, fits the SDK's own
models with no field either side does not know (checked with the SDK's `_deserialize`, independently
of the emulator's validation)."""
from __future__ import annotations

import importlib

from tests.deploy.conftest import GROUPS, Ops
from tests.functional.test_contracts import useless_fields

MODELS = {"scf": "tencentcloud.scf.v20180416.models", "cam": "tencentcloud.cam.v20190116.models",
          "tdmq": "tencentcloud.tdmq.v20200217.models", "as": "tencentcloud.autoscaling.v20180419.models",
          "cls": "tencentcloud.cls.v20201016.models", "clb": "tencentcloud.clb.v20180317.models",
          "cvm": "tencentcloud.cvm.v20170312.models", "vpc": "tencentcloud.vpc.v20170312.models"}


def test_every_request_and_reply_of_setup_and_check_fits_the_sdk_models(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    assert ops.setup("--timeout", "600")[0] == 0
    assert ops.check("--group", GROUPS[0])[0] == 0
    calls = ops.emu.calls
    assert {c.action for c in calls} >= {"CreateCmqQueue", "ModifyCmqQueueAttribute", "DescribeCmqQueueDetail", "CreateRole",
                                         "CreatePolicy", "AttachRolePolicy", "CreateFunction", "UpdateFunctionConfiguration",
                                         "CreateTrigger", "UpdateFunctionEventInvokeConfig", "CreateLifecycleHook",
                                         "ModifyLifecycleHook", "DescribeLifecycleHooks", "DescribeAutoScalingGroups"}
    problems = []
    for call in calls:
        models = importlib.import_module(MODELS[call.service])
        request = getattr(models, f"{call.action}Request")()
        problems += [(call.action, f"request: {p}") for p in useless_fields(request, call.params)]
        assert request._serialize() == call.params, call.action
        if call.error_code is None:
            reply = getattr(models, f"{call.action}Response")()
            problems += [(call.action, f"reply: {p}") for p in useless_fields(reply, call.response)]
    assert problems == []
