"""Every sample event, end to end against the emulator, and the API Gateway door."""
from __future__ import annotations

import json
import time
from typing import Any, Dict

import pytest

from tests.conftest import load_event
from tests.estates import cmq_event
from tests.signing import API_SECRET, signed


def statuses(answer: Dict[str, Any]) -> Dict[str, str]:
    return {i["instanceId"]: i["status"] for r in answer["records"] for i in r["instances"]}


@pytest.mark.parametrize(
    "sample, expected",
    [
        ("cmq-lifecycle-terminating.json", {"ins-web00001": "unbound"}),
        ("cmq-topic-lifecycle.json", {"ins-web00002": "unbound"}),
        ("cmq-scaling-activity.json", {"ins-web00001": "unbound", "ins-web00002": "unbound"}),
        ("ckafka-lifecycle.json", {"ins-web00001": "unbound"}),
        ("eventbridge-cvm-terminated.json", {"ins-web00002": "unbound"}),
        ("eventbridge-lifecycle.json", {"ins-web00001": "unbound"}),
        ("direct.json", {"ins-web00001": "unbound", "ein-edge0001": "unbound"}),
        ("scf-dead-letter.json", {"ins-web00002": "unbound"}),
    ],
)
def test_sample_event_unbinds_what_it_names(sample: str, expected: Dict[str, str], emulator: Any, invoke: Any) -> None:
    staying = {i: emulator.bindings(i) for i in ("ins-web00003", "ins-web00004", "ins-other001", "ein-edge0002")}
    answer = invoke(load_event(sample))
    assert statuses(answer) == expected
    for instance in expected:
        assert emulator.bindings(instance) == []
    assert {i: emulator.bindings(i) for i in staying} == staying


def test_api_gateway_drain_answers_200_with_a_summary(emulator: Any, invoke: Any) -> None:
    answer = invoke(signed(load_event("apigw-drain.json")))
    assert answer["statusCode"] == 200 and answer["isBase64Encoded"] is False
    assert answer["headers"] == {"Content-Type": "application/json"}
    body = json.loads(answer["body"])
    assert statuses(body) == {"ins-web00002": "unbound", "ein-edge0001": "unbound"}
    assert emulator.bindings("ein-edge0001") == [] and emulator.bindings("ein-edge0002")
    assert emulator.count("BatchDeregisterTargets", "ecm") == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda e: {**e, "headers": {"Content-Type": "application/json"}},  # unsigned
        lambda e: signed(e, secret="not-the-secret"),  # forged
        lambda e: signed(e, timestamp=int(time.time()) - 301),  # stale
        lambda e: {**signed(e), "body": e["body"].replace("ins-web00002", "ins-web00003")},  # replayed, body changed
    ],
    ids=["unsigned", "forged", "stale", "replayed-with-changed-body"],
)
def test_api_gateway_refuses_unauthenticated_requests_before_any_call(tamper: Any, emulator: Any, invoke: Any) -> None:
    answer = invoke(tamper(load_event("apigw-drain.json")))
    assert answer["statusCode"] == 401
    assert emulator.calls == []


def test_api_gateway_fails_closed_without_a_secret(emulator: Any, invoke: Any, monkeypatch: Any) -> None:
    monkeypatch.delenv("CLB_UNBIND_API_SECRET")
    answer = invoke(signed(load_event("apigw-drain.json")))
    assert answer["statusCode"] == 401 and emulator.calls == []


def test_api_gateway_malformed_body_is_400_with_the_field(emulator: Any, invoke: Any) -> None:
    event = signed(load_event("apigw-drain.json"), body=json.dumps({"instanceIds": "ins-web00002"}))
    answer = invoke(event)
    assert answer["statusCode"] == 400 and "instanceIds" in json.loads(answer["body"])["error"]
    assert emulator.calls == []


def test_api_gateway_unknown_instance_is_404(emulator: Any, invoke: Any) -> None:
    answer = invoke(signed(load_event("apigw-drain.json"), body=json.dumps({"instanceIds": ["ins-gone0000"]})))
    assert answer["statusCode"] == 404
    assert statuses(json.loads(answer["body"])) == {"ins-gone0000": "refused"}


def test_api_gateway_dry_run(emulator: Any, invoke: Any) -> None:
    body = json.dumps({"instanceIds": ["ins-web00002"], "dryRun": True})
    answer = invoke(signed(load_event("apigw-drain.json"), body=body))
    assert answer["statusCode"] == 200
    assert statuses(json.loads(answer["body"])) == {"ins-web00002": "planned"}
    assert emulator.count("BatchDeregisterTargets") == 0


def test_same_ip_in_another_vpc_is_never_touched(emulator: Any, invoke: Any) -> None:
    other = emulator.bindings("ins-other001")
    assert other and other[0]["privateIp"] == "10.0.0.11"
    invoke({"instanceIds": ["ins-web00001", "ins-other001"], "dryRun": True})
    invoke({"instanceIds": ["ins-web00001"]})
    assert emulator.bindings("ins-web00001") == []
    assert emulator.bindings("ins-other001") == other


def test_no_secret_reaches_a_log_line(emulator: Any, invoke: Any, capsys: Any, function_env: Dict[str, str], monkeypatch: Any) -> None:
    token = "test-session-token-value-0000"
    monkeypatch.setenv("TENCENTCLOUD_SESSIONTOKEN", token)
    secret_id, secret_key = function_env["TENCENTCLOUD_SECRETID"], function_env["TENCENTCLOUD_SECRETKEY"]
    secrets = (secret_id, secret_key, token, API_SECRET)
    # The emulator refuses a session token its credential does not carry (AuthFailure.TokenFailure), so the
    # error paths log too; with no dead-letter queue set the function then fails loudly.
    from clb_unbind.finish import UnfinishedWork

    for sample in ("direct.json", "cmq-lifecycle-terminating.json"):
        with pytest.raises(UnfinishedWork, match="AuthFailure.TokenFailure"):
            invoke(load_event(sample), CLB_UNBIND_LOG_LEVEL="DEBUG")
    # Secrets pasted into a message by mistake: the refusal names the bad value, so only the scrubber
    # stands between them and the log.
    monkeypatch.delenv("TENCENTCLOUD_SESSIONTOKEN")
    pasted = cmq_event(*(json.dumps({"instanceIds": [s]}) for s in (secret_id, secret_key, API_SECRET)))
    invoke(pasted, CLB_UNBIND_DEAD_LETTER_QUEUE="clb-unbind-dead-letter")
    invoke(signed(load_event("apigw-drain.json"), secret="wrong"))
    invoke(signed(load_event("apigw-drain.json")))
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert len(lines) > 20
    assert sum(1 for line in lines if line.get("decision") == "refused" and "reason" in line) == 3  # the records
    for secret in secrets:
        assert secret not in out
