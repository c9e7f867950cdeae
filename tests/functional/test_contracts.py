"""Contract tests: every request the function sends fits the SDK's own request model, and every reply
the emulator gives fits the SDK's response model, with no field either side does not know.

Checked with the SDK's `_deserialize`, which warns about "useless" fields, independently of the
emulator's own validation, over a run of every sample event plus the drain and retry paths.
"""
from __future__ import annotations

import importlib
import json
import warnings
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from tests.conftest import EVENTS, load_event
from tests.estates import TOKEN_LEAVING_1, lifecycle_message, send_to_queue
from tests.signing import signed

MODELS = {
    ("cvm", "2017-03-12"): "tencentcloud.cvm.v20170312.models",
    ("clb", "2018-03-17"): "tencentcloud.clb.v20180317.models",
    ("ecm", "2019-07-19"): "tencentcloud.ecm.v20190719.models",
    ("as", "2018-04-19"): "tencentcloud.autoscaling.v20180419.models",
    ("tdmq", "2020-02-17"): "tencentcloud.tdmq.v20200217.models",
    ("vpc", "2017-03-12"): "tencentcloud.vpc.v20170312.models",
    ("monitor", "2018-07-24"): "tencentcloud.monitor.v20180724.models",
}
CAM_POLICY = Path(__file__).resolve().parents[2] / "cam-policy.json"


def useless_fields(model: Any, data: Dict[str, Any]) -> List[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model._deserialize(data)
    return [str(w.message) for w in caught if "useless" in str(w.message)]


def run_everything(emulator: Any, invoke: Any) -> List[Any]:
    # A timer run first: its consumer pass takes ins-web00001's notification, its sweep finds ins-web00002.
    send_to_queue(emulator, "clb-unbind-lifecycle", lifecycle_message("ins-web00001", TOKEN_LEAVING_1))
    invoke(load_event("timer.json"), CLB_UNBIND_QUEUE="clb-unbind-lifecycle", CLB_UNBIND_GROUPS="asg-group001",
           CLB_UNBIND_POLL_SECONDS="0")
    for path in sorted(EVENTS.glob("*.json")):
        event = json.loads(path.read_text())
        if "requestContext" in event:
            event = signed(event)
        invoke(event, CLB_UNBIND_DEAD_LETTER_QUEUE="clb-unbind-dead-letter", CLB_UNBIND_RETRY_QUEUE="clb-unbind-retry")
    emulator.lock_load_balancer("lb-web00003", 30)
    invoke({"instanceIds": ["ins-web00003"]}, timeout_ms=3000, CLB_UNBIND_SAFETY_MARGIN_SECONDS="0.5", CLB_UNBIND_DRAIN_SECONDS="0.1")
    invoke({"instanceIds": ["ins-web00004"]}, CLB_UNBIND_DRAIN_SECONDS="0.1")
    return list(emulator.calls)


def run_every_binding_kind(make_emulator: Any, invoke: Any, monkeypatch: Any) -> List[Any]:
    """Target groups (drained first) and classic load balancers, on an estate that has them."""
    from tests.functional.test_binding_kinds import KINDS, kinds_estate

    emulator = make_emulator(kinds_estate())
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emulator.endpoint)
    invoke({"instanceIds": sorted(i for i, _, _ in KINDS.values())}, CLB_UNBIND_DRAIN_SECONDS="0.05")
    return list(emulator.calls)


def run_adaptive_drain(make_emulator: Any, invoke: Any, monkeypatch: Any) -> List[Any]:
    """An adaptive drain's first look: weights to 0, the load balancers' addresses, the connections read."""
    from bench.estates import LIFECYCLE_QUEUE, Shape, fleet_estate, group_id, leaving_id
    from tests.functional.test_sweep import scale_in, start

    emulator = start(make_emulator, monkeypatch, fleet_estate(Shape(leaving=2, load_balancers=2, bound_on=2, l7_listeners=0)))
    emulator.set_knobs(monitor_period_seconds=1.0)
    scale_in(emulator, [leaving_id(i) for i in range(2)], publish=False)
    invoke(load_event("timer.json"), CLB_UNBIND_QUEUE=LIFECYCLE_QUEUE, CLB_UNBIND_GROUPS=group_id(0),
           CLB_UNBIND_POLL_SECONDS="0", CLB_UNBIND_DRAIN="adaptive", CLB_UNBIND_ENVELOPE_SECRET="cd" * 32)
    from tests.estates import base_estate

    edge = start(make_emulator, monkeypatch, base_estate())  # an ECM drain's first look: ecm weights, QCE/ECM_LB
    edge.set_knobs(monitor_period_seconds=1.0)
    invoke({"instanceIds": ["ein-edge0001"]}, CLB_UNBIND_DRAIN="adaptive", CLB_UNBIND_ENVELOPE_SECRET="cd" * 32,
           CLB_UNBIND_RETRY_QUEUE="clb-unbind-lifecycle")
    return list(emulator.calls) + list(edge.calls)


@pytest.fixture
def calls(emulator: Any, invoke: Any, function_env: Any, monkeypatch: Any, make_emulator: Any) -> List[Any]:
    monkeypatch.setenv("CLB_UNBIND_RETRY_QUEUE", "clb-unbind-retry")
    return (run_everything(emulator, invoke) + run_every_binding_kind(make_emulator, invoke, monkeypatch)
            + run_adaptive_drain(make_emulator, invoke, monkeypatch))


def test_every_request_and_reply_fits_the_sdk_models(calls: List[Any]) -> None:
    assert len({(c.service, c.action) for c in calls}) >= 12
    problems: List[Tuple[str, str]] = []
    for call in [c for c in calls if c.service != "cmq"]:  # the CMQ data plane has no SDK models (API 2.0)
        models = importlib.import_module(MODELS[(call.service, call.version)])
        request = getattr(models, f"{call.action}Request")()
        problems += [(call.action, f"request: {p}") for p in useless_fields(request, call.params)]
        assert request._serialize() == call.params, call.action  # nothing lost or renamed in the round trip
        if call.error_code is None and not call.dropped:
            reply = getattr(models, f"{call.action}Response")()
            problems += [(call.action, f"reply: {p}") for p in useless_fields(reply, call.response)]
    assert problems == []


CAM_SERVICE = {"cmq": "tdmq"}
"""TDMQ for CMQ authorises its data plane under `tdmq` (CAM page doc 1111/43005; deploy/permissions.py)."""


def test_the_sourced_permission_list_names_exactly_the_actions_the_function_calls(calls: List[Any]) -> None:
    from deploy.permissions import GRANTS

    called = {f"{CAM_SERVICE.get(c.service, c.service)}:{c.action}" for c in calls}
    assert {"tdmq:BatchReceiveMessage", "tdmq:BatchDeleteMessage", "as:DescribeLifecycleHooks"} <= called
    assert called == {g.action for g in GRANTS}
    assert all(g.source and g.why for g in GRANTS)


def test_cam_policy_json_is_the_sourced_list() -> None:
    from deploy.permissions import template_document

    assert json.loads(CAM_POLICY.read_text()) == template_document()
