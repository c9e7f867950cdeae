"""The retry and dead-letter envelopes: build, serialise, and come back through a queue trigger."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "handler") not in sys.path:
    sys.path.insert(0, str(ROOT / "handler"))

from clb_unbind.config import Settings  # noqa: E402
from clb_unbind.model import CloudFailure, LifecycleAction, Notice  # noqa: E402
from clb_unbind.triggers import parse_event  # noqa: E402
from clb_unbind.wire.envelopes import (  # noqa: E402
    DEAD_LETTER_KIND,
    RETRY_KIND,
    DeadLetterEnvelope,
    RetryEnvelope,
    parse_iso,
    utc_now_iso,
)

KEY = "unit-test-envelope-secret-0123456789abcdef"
SETTINGS = Settings(envelope_secret=KEY)
LC = LifecycleAction(hook_id="ash-hook0001", token="3080e1c9-0efe-4dd7-ad3b-90cd6618298f", group_id="asg-group001", hook_name="drain")
NOTICES = (
    Notice("ins-web00001", "cmq", "INSTANCE_TERMINATING", "10855927651590621", lifecycle=LC, attempt=2),
    Notice("ein-edge0001", "direct", "operator", "direct"),
)
FAILURE = CloudFailure("FailedOperation.ResourceInOperating", "busy", "clb:BatchDeregisterTargets", "req-1")
ORIGINAL = '{"instanceIds": ["ins-web00001", "ein-edge0001"]}'


def through_queue(body: str, settings: Settings = SETTINGS, msg_id: str = "retry-msg-1"):
    event = {"Records": [{"CMQ": {"type": "queue", "topicName": "clb-unbind-retry", "msgId": msg_id, "msgBody": body}}]}
    parsed = parse_event(event, settings)
    assert parsed.kind == "cmq"
    (record,) = parsed.records
    return record


def test_retry_envelope_wire_format():
    env = RetryEnvelope.from_notices(
        NOTICES, attempt=3, first_seen="2024-05-01T10:15:12Z", dry_run=False,
        last_errors=[FAILURE], request_ids=["req-0", "req-1"], original=ORIGINAL,
    )
    wire = json.loads(env.to_json(KEY))
    assert len(wire.pop("signature")) == 64
    assert wire == {
        "kind": RETRY_KIND, "version": 1, "attempt": 3, "firstSeen": "2024-05-01T10:15:12Z", "dryRun": False,
        "notices": [
            {"instanceId": "ins-web00001", "reason": "INSTANCE_TERMINATING", "source": "cmq",
             "recordId": "10855927651590621",
             "lifecycle": {"hookId": "ash-hook0001", "token": "3080e1c9-0efe-4dd7-ad3b-90cd6618298f",
                           "groupId": "asg-group001", "hookName": "drain"}, "claim": False,
             "groupId": None, "activityId": None, "refusal": None},
            {"instanceId": "ein-edge0001", "reason": "operator", "source": "direct", "recordId": "direct",
             "lifecycle": None, "claim": False, "groupId": None, "activityId": None, "refusal": None},
        ],
        "activities": [], "requestIds": ["req-0", "req-1"], "original": ORIGINAL, "originalDigest": None,
        "lastErrors": [{"code": "FailedOperation.ResourceInOperating", "message": "busy",
                        "action": "clb:BatchDeregisterTargets", "requestId": "req-1"}],
    }
    assert RetryEnvelope.from_json(env.to_json(KEY)) == env


def test_retry_envelope_round_trips_through_the_retry_queue():
    env = RetryEnvelope.from_notices(NOTICES, attempt=3, first_seen="2024-05-01T10:15:12Z",
                                     request_ids=["req-0"], original=ORIGINAL)
    record = through_queue(env.to_json(KEY))
    assert record.refused is None and record.source == "cmq"
    got = [(n.instance_id, n.reason, n.lifecycle, n.attempt, n.source, n.record_id, n.dry_run) for n in record.notices]
    assert got == [
        ("ins-web00001", "INSTANCE_TERMINATING", LC, 3, "retry", "retry-msg-1", False),
        ("ein-edge0001", "operator", None, 3, "retry", "retry-msg-1", False),
    ]
    first = record.notices[0]
    assert first.first_seen == "2024-05-01T10:15:12Z" and first.prior_request_ids == ("req-0",)
    assert first.original == ORIGINAL


def test_retry_envelope_dry_run_is_kept_and_settings_win():
    env = RetryEnvelope.from_notices(NOTICES, attempt=2, dry_run=True)
    assert all(n.dry_run for n in through_queue(env.to_json(KEY)).notices)
    env = RetryEnvelope.from_notices(NOTICES, attempt=2, dry_run=False)
    assert all(n.dry_run for n in through_queue(env.to_json(KEY), Settings(envelope_secret=KEY, dry_run=True)).notices)


def test_retry_envelope_as_the_lead_writes_it_by_hand():
    # finish.py builds the dict itself; this is that shape.
    body = {
        "kind": "clb-unbind/retry", "version": 1, "attempt": 2, "firstSeen": "2024-05-01T10:15:12Z",
        "dryRun": False,
        "notices": [{"instanceId": "ins-web00002", "reason": "INSTANCE_TERMINATING", "source": "cmq",
                     "recordId": "m", "lifecycle": {"hookId": "ash-hook0001", "token": "t", "groupId": None,
                                                    "hookName": None}}],
        "lastErrors": [{"code": "InternalError", "message": "x" * 10_000, "action": "a", "requestId": None}],
        "requestIds": [], "original": None,
    }
    record = through_queue(json.dumps(body, separators=(",", ":")))
    assert [(n.instance_id, n.attempt) for n in record.notices] == [("ins-web00002", 2)]


def test_dead_letter_envelope_round_trips_and_replays_with_attempt_one():
    env = DeadLetterEnvelope.from_notices(
        NOTICES, reason="max_attempts", detail="ins-web00001: FailedOperation.ResourceInOperating",
        attempt=5, first_seen="2024-05-01T10:15:12Z", errors=[FAILURE], request_ids=["req-1"], original=ORIGINAL,
    )
    wire = json.loads(env.to_json(KEY))
    assert wire["kind"] == DEAD_LETTER_KIND and wire["reason"] == "max_attempts" and wire["attempt"] == 5
    assert wire["errors"][0]["code"] == FAILURE.code and "lastErrors" not in wire
    assert DeadLetterEnvelope.from_json(env.to_json(KEY)) == env
    record = through_queue(env.to_json(KEY))
    assert [(n.instance_id, n.attempt, n.source) for n in record.notices] == [
        ("ins-web00001", 1, "redrive"), ("ein-edge0001", 1, "redrive"),
    ]
    assert record.notices[0].lifecycle == LC and record.notices[0].original == ORIGINAL
    # An operator can also invoke the function with it directly.
    parsed = parse_event(json.loads(env.to_json(KEY)), SETTINGS)
    assert parsed.kind == "direct" and [n.source for n in parsed.records[0].notices] == ["redrive", "redrive"]


def test_dead_letter_without_notices_is_refused_again():
    env = DeadLetterEnvelope.from_notices((), reason="malformed", detail="msgBody: not valid JSON", original="{oops")
    record = through_queue(env.to_json(KEY))
    assert record.notices == () and record.refused.startswith("Records[0].CMQ.msgBody.notices: dead letter (malformed)")


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"version": 2}, "Records[0].CMQ.msgBody.version: version 2 is not supported"),
        ({"version": True}, "Records[0].CMQ.msgBody.version: Input should be a valid integer"),
        ({"attempt": 0}, "Records[0].CMQ.msgBody.attempt: Input should be greater than or equal to 1"),
        ({"attempt": "2"}, "Records[0].CMQ.msgBody.attempt: Input should be a valid integer"),
        ({"firstSeen": "yesterday"}, "Records[0].CMQ.msgBody.firstSeen: 'yesterday' is not an ISO-8601 time"),
        ({"notices": []}, "Records[0].CMQ.msgBody: a retry names at least one instance or scaling activity"),
        ({"kind": "clb-unbind/other"}, "Records[0].CMQ.msgBody.kind: unknown envelope kind 'clb-unbind/other'"),
        ({"dryRun": "false"}, "Records[0].CMQ.msgBody.dryRun: Input should be a valid boolean"),
    ],
)
def test_bad_retry_envelopes_are_refused_naming_the_field(change, expected):
    body = json.loads(RetryEnvelope.from_notices(NOTICES, attempt=2).to_json(KEY))
    body.update(change)
    record = through_queue(json.dumps(body))
    assert record.notices == () and record.refused.startswith(expected), record.refused


def test_envelope_with_a_bad_instance_id_is_refused():
    body = json.loads(RetryEnvelope.from_notices(NOTICES, attempt=2).to_json(KEY))
    body["notices"][1]["instanceId"] = "ins-TOOLONG123"
    record = through_queue(json.dumps(body))
    assert record.refused.startswith("Records[0].CMQ.msgBody.notices[1].instanceId: 'ins-TOOLONG123' is not a CVM")


def test_envelope_notice_count_is_capped():
    many = tuple(Notice(f"ins-{i:08d}", "direct", "operator", "direct") for i in range(5))
    record = through_queue(RetryEnvelope.from_notices(many, attempt=2).to_json(KEY), Settings(envelope_secret=KEY, max_instances=4))
    assert record.refused == "Records[0].CMQ.msgBody.notices: at most 4 notices per message, got 5"


def test_envelopes_may_exceed_the_payload_cap_but_not_the_queue_limit():
    big = "x" * 100_000
    env = RetryEnvelope.from_notices(NOTICES, attempt=2, original=big)
    record = through_queue(env.to_json(KEY), Settings(envelope_secret=KEY, max_payload_bytes=65536))
    assert record.refused is None and len(record.notices) == 2
    # A non-envelope of the same size is refused.
    record = through_queue(json.dumps({"instanceIds": ["ins-web00001"], "pad": big}), Settings(envelope_secret=KEY, max_payload_bytes=65536))
    assert record.refused and "65536-byte limit" in record.refused
    huge = RetryEnvelope.from_notices(NOTICES, attempt=2, original="x" * (1024 * 1024 + 1))
    record = through_queue(huge.to_json(KEY))
    assert record.refused and "byte limit" in record.refused


def test_model_validation_errors_and_iso_helpers():
    with pytest.raises(ValidationError):
        RetryEnvelope.from_notices((), attempt=1)
    with pytest.raises(ValidationError):
        DeadLetterEnvelope.from_notices(NOTICES, reason="Not Snake Case")
    assert parse_iso(utc_now_iso()).tzinfo is not None
    assert parse_iso("2024-05-01T10:15:12Z").year == 2024


def test_retry_envelope_can_carry_scaling_activities_whose_instances_are_not_read_yet():
    from clb_unbind.model import ActivityRef

    ref = ActivityRef("asa-scalein1", "asg-group001", "m-1", "cmq")
    env = RetryEnvelope.from_notices([], attempt=2, activities=[ref], last_errors=[FAILURE], original="{}")
    record = through_queue(env.to_json(KEY))
    assert record.refused is None and record.notices == ()
    (got,) = record.activities
    assert (got.activity_id, got.group_id, got.attempt, got.source, got.original) == ("asa-scalein1", "asg-group001", 2, "retry", "{}")


# -- signatures (issue 15: a queue message is a claim, never an order) -------------------------------------------
def test_only_the_functions_own_signature_restores_an_operators_notice():
    from clb_unbind.wire import signature

    body = json.loads(RetryEnvelope.from_notices(NOTICES, attempt=2).to_json(KEY))
    assert signature.is_signed(body, KEY) and signature.is_signed(dict(reversed(list(body.items()))), KEY)
    assert not signature.is_signed(body, "another-secret") and not signature.is_signed(body, None)
    tampered = {**body, "attempt": 3}
    assert not signature.is_signed(tampered, KEY)
    record = through_queue(json.dumps(tampered))
    assert [(n.instance_id, n.refusal) for n in record.notices] == [("ins-web00001", None), ("ein-edge0001", "unsigned_envelope")]


def test_an_unsigned_envelope_without_a_lifecycle_claim_is_refused_whole():
    only_operator = RetryEnvelope.from_notices(NOTICES[1:], attempt=2)
    for text in (only_operator.to_json(), only_operator.to_json("a forger's own key")):
        record = through_queue(text)
        assert record.notices == () and record.refusal_code == "unsigned_envelope"
        assert record.refused.startswith("unsigned_envelope: Records[0].CMQ.msgBody")
    record = through_queue(only_operator.to_json(KEY), Settings())  # the function has no secret: nothing is signed
    assert record.refusal_code == "unsigned_envelope"


def test_the_signature_is_over_what_is_sent_and_keeps_no_secret():
    env = RetryEnvelope.from_notices(NOTICES, attempt=2, original=f"pasted {KEY} here")
    from clb_unbind import scrub

    scrub.remember([KEY])
    try:
        text = env.to_json(KEY)
    finally:
        scrub.remember([])
    assert KEY not in text and through_queue(text).notices[1].refusal is None


def test_an_unsigned_envelope_carrying_activities_is_refused_whole():
    from clb_unbind.model import ActivityRef

    ref = ActivityRef("asa-scalein1", "asg-group001", "m-1", "cmq")
    env = RetryEnvelope.from_notices(NOTICES[:1], attempt=2, activities=[ref])
    assert through_queue(env.to_json(KEY)).activities
    record = through_queue(env.to_json())
    assert record.refusal_code == "unsigned_envelope" and record.notices == () and record.activities == ()
