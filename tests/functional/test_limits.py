"""Issue 12: every documented limit kept, no serving instance harmed, nothing lost at the door.

Each test goes through `main_handler` against the emulator, over the unmodified SDK.
"""
from __future__ import annotations

import json
import time
from typing import Any, Dict

import pytest

from tests.conftest import load_event
from tests.estates import TOKEN_LEAVING_1, base_estate, cmq_event, lifecycle_message
from tests.signing import signed

DEAD = "clb-unbind-dead-letter"
RETRY = "clb-unbind-retry"


def statuses(answer: Dict[str, Any]) -> Dict[str, str]:
    return {i["instanceId"]: i["status"] for r in answer["records"] for i in r["instances"]}


def apigw(body: str, **kw: Any) -> Dict[str, Any]:
    return signed(load_event("apigw-drain.json"), body=body, **kw)


# -- finding 5: ids are matched whole --------------------------------------------------------------
@pytest.mark.parametrize("bad", ["ins-web00001\n", "ein-edge0001\n"])
def test_id_with_a_trailing_newline_is_refused_at_the_door(bad: str, emulator: Any, invoke: Any) -> None:
    answer = invoke(cmq_event(lifecycle_message(bad, TOKEN_LEAVING_1)), CLB_UNBIND_DEAD_LETTER_QUEUE=DEAD)
    direct = invoke({"instanceIds": [bad]}, CLB_UNBIND_DEAD_LETTER_QUEUE=DEAD)
    assert [r["status"] for r in answer["records"] + direct["records"]] == ["refused", "refused"]
    assert [c.action for c in emulator.calls] == ["SendCmqMsg", "SendCmqMsg"]  # a dead letter each, no read


def test_api_gateway_id_with_a_trailing_newline_is_400(emulator: Any, invoke: Any) -> None:
    answer = invoke(apigw(json.dumps({"instanceIds": ["ins-web00002\n"]})))
    assert answer["statusCode"] == 400 and emulator.calls == []


# -- finding 9: settings and the API Gateway door ------------------------------------------------
def test_allow_list_set_to_a_lone_comma_is_a_settings_error(emulator: Any, invoke: Any) -> None:
    from clb_unbind.config import SettingsError

    with pytest.raises(SettingsError, match="CLB_UNBIND_ALLOWED_LOAD_BALANCERS"):
        invoke({"instanceIds": ["ins-web00001"]}, CLB_UNBIND_ALLOWED_LOAD_BALANCERS=",")
    assert emulator.calls == [] and emulator.bindings("ins-web00001")


def test_short_api_secret_answers_500_before_any_call(emulator: Any, invoke: Any) -> None:
    answer = invoke(apigw(json.dumps({"instanceIds": ["ins-web00002"]}), secret="short"), CLB_UNBIND_API_SECRET="short")
    assert answer["statusCode"] == 500 and "misconfigured" in json.loads(answer["body"])["error"]
    assert emulator.calls == []


def test_duplicate_keys_in_an_api_gateway_body_are_400(emulator: Any, invoke: Any) -> None:
    answer = invoke(apigw('{"instanceIds": ["ins-web00002"], "dryRun": true, "dryRun": false}'))
    assert answer["statusCode"] == 400
    assert "dryRun" in json.loads(answer["body"])["error"]
    assert emulator.calls == [] and emulator.bindings("ins-web00002")


def test_api_clock_skew_is_read_and_bounded(emulator: Any, invoke: Any) -> None:
    from clb_unbind.config import SettingsError

    body = json.dumps({"instanceIds": ["ins-web00002"], "dryRun": True})
    minute_old = apigw(body, timestamp=int(time.time()) - 60)
    assert invoke(minute_old)["statusCode"] == 200  # the default window is 300 s
    assert invoke(minute_old, CLB_UNBIND_API_CLOCK_SKEW="30")["statusCode"] == 401
    answer = invoke(apigw(body, timestamp=int(time.time()) - 600), CLB_UNBIND_API_CLOCK_SKEW="900")
    assert answer["statusCode"] == 200
    for bad in ("0", "901", "soon"):
        with pytest.raises(SettingsError, match="CLB_UNBIND_API_CLOCK_SKEW"):
            invoke({"instanceIds": ["ins-web00001"]}, CLB_UNBIND_API_CLOCK_SKEW=bad)


# -- finding 10: what the SDK says may come back ---------------------------------------------------
def test_ecm_unbind_is_not_polled_as_a_task(make_emulator: Any, invoke: Any, monkeypatch: Any) -> None:
    """ECM BatchDeregisterTargets is synchronous by api.json's rule (cloud/asynchrony.py): the unbind is
    checked by re-reading the targets, never by DescribeLoadBalanceTaskStatus. Failed before the rule:
    one poll was made."""
    emulator = make_emulator(task_seconds=0.15)
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emulator.endpoint)
    answer = invoke({"instanceIds": ["ein-edge0001"]})
    assert statuses(answer) == {"ein-edge0001": "unbound"}
    assert emulator.bindings("ein-edge0001") == []
    assert emulator.count("DescribeLoadBalanceTaskStatus") == 0 and emulator.count("BatchDeregisterTargets", "ecm") == 1


def test_send_answered_result_false_is_a_failed_send(make_emulator: Any, invoke: Any, monkeypatch: Any) -> None:
    from clb_unbind.finish import UnfinishedWork

    emulator = make_emulator(send_result_false=True)
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emulator.endpoint)
    with pytest.raises(UnfinishedWork, match="MessageNotSent"):
        invoke({"instanceIds": ["ins-gone0000"]}, CLB_UNBIND_DEAD_LETTER_QUEUE=DEAD)
    assert emulator.count("SendCmqMsg") >= 1 and emulator.messages(DEAD) == []


# -- finding 2: ECM DescribeInstances takes 5 ids a call ---------------------------------------------
def with_edge_instances(count: int) -> Dict[str, Any]:
    """The base estate plus `count` more leaving ECM instances on lb-edge0001's TCP listener."""
    estate = base_estate()
    listener = estate["ecmLoadBalancers"][0]["listeners"][0]
    for n in range(count):
        iid, ip = f"ein-many{n:04d}", f"10.8.0.{100 + n}"
        estate["ecmInstances"].append({"instanceId": iid, "vpcId": "vpc-edge0001", "privateIps": [ip], "ecmRegion": "ap-xian-ecm"})
        listener["targets"].append({"instanceId": iid, "privateIp": ip, "port": 80, "weight": 10})
    return estate


def test_six_edge_instances_and_a_lifecycle_message_all_end_unbound(make_emulator: Any, invoke: Any, monkeypatch: Any) -> None:
    emulator = make_emulator(with_edge_instances(5))
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emulator.endpoint)
    edge = ["ein-edge0001"] + [f"ein-many{n:04d}" for n in range(5)]
    answer = invoke({"instanceIds": edge}, CLB_UNBIND_DEAD_LETTER_QUEUE=DEAD, CLB_UNBIND_RETRY_QUEUE=RETRY)
    assert statuses(answer) == {i: "unbound" for i in edge}
    lifecycle = invoke(cmq_event(lifecycle_message("ins-web00001", TOKEN_LEAVING_1)), CLB_UNBIND_QUEUE="clb-unbind-lifecycle")
    assert statuses(lifecycle) == {"ins-web00001": "unbound"}
    assert all(emulator.bindings(i) == [] for i in edge) and emulator.bindings("ein-edge0002")
    sizes = [len(c.params["Filters"][0]["Values"]) for c in emulator.calls if c.service == "ecm" and c.action == "DescribeInstances"]
    assert sizes == [5, 1] and not any(c.error_code for c in emulator.calls)


# -- finding 3: BatchModifyTargetWeight within its ModifyList limits ---------------------------------
def test_drain_of_520_targets_keeps_every_modify_list_limit(make_emulator: Any, invoke: Any, monkeypatch: Any) -> None:
    estate = base_estate()
    targets = [{"type": "cvm", "instanceId": "ins-web00001", "privateIp": "10.0.0.11", "port": 10000 + n, "weight": 10} for n in range(520)]
    targets.append({"type": "cvm", "instanceId": "ins-web00003", "privateIp": "10.0.0.13", "port": 10000, "weight": 10})
    estate["loadBalancers"][0]["listeners"].append({"listenerId": "lbl-many0001", "protocol": "TCP", "port": 7000, "targets": targets})
    emulator = make_emulator(estate)
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emulator.endpoint)
    answer = invoke({"instanceIds": ["ins-web00001"]}, CLB_UNBIND_DRAIN_SECONDS="0.05")
    assert statuses(answer) == {"ins-web00001": "unbound"}
    weights = [c for c in emulator.calls if c.action == "BatchModifyTargetWeight"]
    assert weights and all(c.error_code is None for c in weights)
    for call in weights:
        items = call.params["ModifyList"]
        assert len(items) <= 100 and all(len(i["Targets"]) <= 50 for i in items) and sum(len(i["Targets"]) for i in items) <= 500
    zeroed = {(i["ListenerId"], t["Port"]) for c in weights for i in c.params["ModifyList"] for t in i["Targets"]}
    assert {("lbl-many0001", 10000 + n) for n in range(520)} <= zeroed
    staying = [b for b in emulator.bindings("ins-web00003") if b["listenerId"] == "lbl-many0001"]
    assert [b["weight"] for b in staying] == [10]


# -- point 7: a deregister refused whole because a target is already gone ------------------------------
def test_call_refused_whole_for_a_target_already_gone_is_redone_with_what_is_bound(
    make_emulator: Any, invoke: Any, monkeypatch: Any
) -> None:
    """Between the function's read and its write another party removes one of the targets; in this mode
    the API then refuses the whole BatchDeregisterTargets with InvalidParameter (docs/cloud-facts.md#clb-unbinding-a-target-that-is-not-bound)."""
    from clb_unbind.cloud import clb

    emulator = make_emulator(not_bound_rejects_call=True)
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emulator.endpoint)
    original = clb.batch_deregister
    removed: list = []

    def someone_else_first(session: Any, region: str, lb_id: str, targets: list) -> Any:
        if lb_id == "lb-web00001" and not removed:
            params = {"LoadBalancerId": lb_id, "ListenerId": "lbl-tcp00080", "Targets": [{"InstanceId": "ins-web00001", "Port": 8080}]}
            removed.append(session.call("clb", "DeregisterTargets", params)["RequestId"])
            session.wait_for_task("clb", "DescribeTaskStatus", removed[0])
        return original(session, region, lb_id, targets)

    monkeypatch.setattr(clb, "batch_deregister", someone_else_first)
    answer = invoke({"instanceIds": ["ins-web00001"]})
    assert statuses(answer) == {"ins-web00001": "unbound"}, answer
    assert emulator.bindings("ins-web00001") == []
    refused = [c for c in emulator.calls if c.action == "BatchDeregisterTargets" and c.error_code]
    assert [c.error_code for c in refused] == ["InvalidParameter"]
    assert emulator.bindings("ins-web00003")


# -- finding 8: no secret leaves the process ---------------------------------------------------------
def test_no_secret_leaves_the_process(make_emulator: Any, invoke: Any, monkeypatch: Any, capsys: Any) -> None:
    """A cloud error page that echoes the request headers (the session token among them), credentials
    pasted into inputs, and a crash whose message holds the token: none of the four secrets may reach
    an answer, a queued message, an exception's text or a log line."""
    from clb_unbind import process
    from clb_unbind.finish import UnfinishedWork

    from tests.signing import API_SECRET

    emulator = make_emulator(drop_reply_rate=1.0, drop_reply_mode="http502_echo",
                             fault_actions=frozenset({"clb:BatchDeregisterTargets"}))
    temp = base_estate()["credentials"][1]
    secrets = (temp["secretId"], temp["secretKey"], temp["token"], API_SECRET)
    for name, value in zip(("TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY", "TENCENTCLOUD_SESSIONTOKEN"), secrets):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emulator.endpoint)
    leaks: list = []

    # 1. Every reply to the unbind is a 502 page echoing X-TC-Token; lb-web00002 stays busy, so the work
    #    is retried, and the error travels in the answer and in the retry envelope.
    emulator.lock_load_balancer("lb-web00002", 60)
    answer = invoke(apigw(json.dumps({"instanceIds": ["ins-web00001"]})), timeout_ms=4000,
                    CLB_UNBIND_SAFETY_MARGIN_SECONDS="0.5", CLB_UNBIND_RETRY_QUEUE=RETRY)
    assert "ServerNetworkError" in answer["body"] and "502 Bad Gateway" in answer["body"]
    leaks.append(answer["body"])
    emulator.release_load_balancer("lb-web00002")

    # 2. Credentials pasted into inputs, which refusals quote.
    pasted = cmq_event(*(json.dumps({"instanceIds": [s]}) for s in secrets))
    with pytest.raises(UnfinishedWork) as raised:
        invoke(pasted)  # no dead-letter queue yet: the refusals make the invocation raise
    assert "not_a_queue_payload" in str(raised.value)
    leaks.append(str(raised.value))
    invoke(pasted, CLB_UNBIND_DEAD_LETTER_QUEUE=DEAD)
    leaks.append(json.dumps(invoke({"instanceIds": list(secrets)}, CLB_UNBIND_DEAD_LETTER_QUEUE=DEAD)))  # a direct call's answer
    for secret in secrets:
        refusal = invoke(apigw(json.dumps({"instanceIds": [secret]})))
        assert refusal["statusCode"] == 400
        leaks.append(refusal["body"])

    # 3. A crash whose message holds the token: the "crashed" line carries the traceback.
    def crash(*args: Any) -> Any:
        raise RuntimeError(f"boom with {temp['token']}")

    monkeypatch.setattr(process, "run", crash)
    assert invoke(apigw(json.dumps({"instanceIds": ["ins-web00002"]})))["statusCode"] == 500

    queued = [m["body"] for q in (RETRY, DEAD) for m in emulator.messages(q)]
    assert len(emulator.messages(RETRY)) == 1 and len(emulator.messages(DEAD)) == 2  # one per event's refusals
    out = capsys.readouterr().out
    assert '"decision": "crashed"' in out and "boom with ***" in out
    for secret in secrets:
        assert all(secret not in text for text in leaks + queued), secret
        assert secret not in out, secret


TOKEN_LEAVING_2 = "5a1b2c3d-0efe-4dd7-ad3b-90cd66182990"


# -- narrowing: a permanent error on a multi-id read fails only the ids that caused it -----------------
def narrowed(answer: Dict[str, Any], culprit: str) -> None:
    """The culprit is refused with its own error and dead-lettered; every other instance is unbound."""
    found = statuses(answer)
    assert found.pop(culprit) == "refused", answer
    assert set(found.values()) == {"unbound"}, answer
    errors = [e["code"] for r in answer["records"] for i in r["instances"] if i["instanceId"] == culprit for e in i["errors"]]
    assert errors and all(code.endswith("UnauthorizedOperation") for code in errors)


@pytest.mark.parametrize("refused", ["ins-web00002", "10.0.0.12"], ids=["DescribeInstances", "DescribeLBListeners"])
def test_a_refused_cvm_read_fails_only_its_instance(refused: str, make_emulator: Any, invoke: Any, monkeypatch: Any) -> None:
    emulator = make_emulator(refuse_ids=frozenset({refused}))
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emulator.endpoint)
    before = emulator.bindings("ins-web00002")
    event = cmq_event(lifecycle_message("ins-web00001", TOKEN_LEAVING_1), lifecycle_message("ins-web00002", TOKEN_LEAVING_2))
    answer = invoke(event, CLB_UNBIND_DEAD_LETTER_QUEUE=DEAD, CLB_UNBIND_RETRY_QUEUE=RETRY, CLB_UNBIND_QUEUE="clb-unbind-lifecycle")
    narrowed(answer, "ins-web00002")
    assert emulator.bindings("ins-web00001") == []
    assert emulator.bindings("ins-web00002") == before
    assert [r["status"] for r in answer["records"]] == ["done", "dead_lettered"]
    assert answer["records"][0]["instances"][0]["lifecycleCompleted"] is True
    (dead,) = [json.loads(m["body"]) for m in emulator.messages(DEAD)]
    assert dead["reason"] == "unauthorized" and [n["instanceId"] for n in dead["notices"]] == ["ins-web00002"]


def test_a_refused_ecm_id_among_six_fails_only_itself(make_emulator: Any, invoke: Any, monkeypatch: Any) -> None:
    emulator = make_emulator(with_edge_instances(5), refuse_ids=frozenset({"ein-many0002"}))
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emulator.endpoint)
    edge = ["ein-edge0001"] + [f"ein-many{n:04d}" for n in range(5)]
    answer = invoke({"instanceIds": edge}, CLB_UNBIND_DEAD_LETTER_QUEUE=DEAD, CLB_UNBIND_RETRY_QUEUE=RETRY)
    narrowed(answer, "ein-many0002")
    assert emulator.bindings("ein-many0002") and emulator.bindings("ein-many0001") == []


def test_unreadable_ecm_load_balancer_fails_only_the_instances_on_it(make_emulator: Any, invoke: Any, monkeypatch: Any) -> None:
    estate = with_edge_instances(1)
    mine = estate["ecmLoadBalancers"][0]["listeners"][0]["targets"].pop()
    estate["ecmLoadBalancers"].append({"loadBalancerId": "lb-edge0002", "vpcId": "vpc-edge0001", "ecmRegion": "ap-xian-ecm",
                                       "vip": "10.8.1.2", "listeners": [{"listenerId": "lbl-edge2080", "protocol": "TCP",
                                                                         "port": 80, "targets": [mine]}]})
    emulator = make_emulator(estate, refuse_ids=frozenset({"lb-edge0001"}))
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emulator.endpoint)
    answer = invoke({"instanceIds": ["ein-edge0001", "ein-many0000"]}, CLB_UNBIND_DEAD_LETTER_QUEUE=DEAD)
    narrowed(answer, "ein-edge0001")
    assert emulator.bindings("ein-many0000") == [] and emulator.bindings("ein-edge0001")
