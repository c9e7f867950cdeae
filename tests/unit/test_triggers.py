"""Trigger parsing: every sample event, each trigger's shape, payloads and validation."""
from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "handler") not in sys.path:
    sys.path.insert(0, str(ROOT / "handler"))

from clb_unbind.config import Settings  # noqa: E402
from clb_unbind.model import LifecycleAction  # noqa: E402
from clb_unbind.triggers import ParsedEvent, http_answer, parse_event  # noqa: E402

EVENTS = ROOT / "events"
T1 = "3080e1c9-0efe-4dd7-ad3b-90cd6618298f"
T2 = "5a1b2c3d-0efe-4dd7-ad3b-90cd66182990"
HOOK = "ash-hook0001"
GROUP = "asg-group001"
EB_TYPES = frozenset({"cvm:ErrorEvent:InstanceRestarting", "as:LifecycleHook"})
SETTINGS = Settings(eventbridge_types=EB_TYPES)


def load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def lifecycle(instance: str = "ins-web00001", token: str = T1, transition: str = "INSTANCE_TERMINATING", **extra) -> dict:
    body = {
        "Service": "Tencent Cloud Auto Scaling",
        "Time": "2024-05-01T10:15:11Z",
        "AppId": "1250000000",
        "ActivityId": "asa-scalein1",
        "AutoScalingGroupId": GROUP,
        "LifecycleHookId": HOOK,
        "LifecycleHookName": "clb-unbind-drain",
        "LifecycleActionToken": token,
        "InstanceId": instance,
        "LifecycleTransition": transition,
        "NotificationMetadata": "",
    }
    body.update(extra)
    return body


def cmq_event(*bodies, **fields) -> dict:
    records = []
    for i, body in enumerate(bodies):
        msg = {"type": "queue", "topicOwner": 1250000000, "topicName": "q", "msgId": f"msg-{i}",
               "msgBody": body if isinstance(body, str) else json.dumps(body), "msgTag": ""}
        msg.update(fields)
        records.append({"CMQ": msg})
    return {"Records": records}


def only_notices(parsed: ParsedEvent):
    return [(n.instance_id, n.reason, n.source) for r in parsed.records for n in r.notices]


# --------------------------------------------------------------------------------------------- samples

def test_sample_cmq_lifecycle_terminating():
    parsed = parse_event(load("cmq-lifecycle-terminating.json"), SETTINGS)
    assert parsed.kind == "cmq" and parsed.http_refusal is None
    first, second = parsed.records
    assert first.record_id == "10855927651590621" and first.refused is None and first.ignored is None
    (notice,) = first.notices
    assert notice.instance_id == "ins-web00001"
    assert notice.reason == "INSTANCE_TERMINATING" and notice.source == "cmq" and notice.attempt == 1
    assert notice.lifecycle == LifecycleAction(hook_id=HOOK, token=T1, group_id=GROUP, hook_name="clb-unbind-drain")
    assert notice.record_id == first.record_id
    assert json.loads(first.payload)["InstanceId"] == "ins-web00001"
    assert second.notices == () and "INSTANCE_LAUNCHING" in second.ignored and second.refused is None


def test_sample_cmq_topic_lifecycle():
    event = load("cmq-topic-lifecycle.json")
    msg = event["Records"][0]["CMQ"]
    assert msg["type"] == "topic" and isinstance(msg["topicOwner"], str) and isinstance(msg["msgTag"], list)
    parsed = parse_event(event, SETTINGS)
    assert parsed.kind == "cmq"
    (record,) = parsed.records
    (notice,) = record.notices
    assert (notice.instance_id, notice.lifecycle.token) == ("ins-web00002", T2)


def test_sample_ckafka():
    parsed = parse_event(load("ckafka-lifecycle.json"), SETTINGS)
    assert parsed.kind == "ckafka"
    (record,) = parsed.records
    assert record.record_id == "clb-unbind-lifecycle/1/36" and record.source == "ckafka"
    (notice,) = record.notices
    assert (notice.instance_id, notice.source, notice.lifecycle.token) == ("ins-web00001", "ckafka", T1)


def test_sample_eventbridge_cvm():
    parsed = parse_event(load("eventbridge-cvm-terminated.json"), SETTINGS)
    assert parsed.kind == "eventbridge"
    (record,) = parsed.records
    assert record.record_id == "13a3f42d-7258-4ada-da6d-023a333b4662"
    assert only_notices(parsed) == [("ins-web00002", "cvm:ErrorEvent:InstanceRestarting", "eventbridge")]
    assert json.loads(record.payload)["id"] == record.record_id


def test_sample_eventbridge_lifecycle():
    parsed = parse_event(load("eventbridge-lifecycle.json"), SETTINGS)
    (record,) = parsed.records
    (notice,) = record.notices
    assert (notice.instance_id, notice.reason, notice.source) == ("ins-web00001", "INSTANCE_TERMINATING", "eventbridge")
    assert notice.lifecycle.hook_id == HOOK and notice.lifecycle.token == T1


def test_sample_apigw_is_refused_unsigned_and_accepted_signed():
    event = load("apigw-drain.json")
    # The sample's signature headers are placeholders: unsigned it must be refused ...
    parsed = parse_event(event, Settings(api_secret="s3cret"))
    assert parsed.kind == "apigw" and parsed.http_refusal.status == 401 and parsed.records == ()
    # ... and signed at run time it is accepted (test_triggers_apigw.py covers the details).
    from clb_unbind.triggers.apigw import sign

    ts = "1714558560"
    event["headers"]["X-Clb-Unbind-Timestamp"] = ts
    event["headers"]["X-Clb-Unbind-Signature"] = sign("s3cret", ts, event["body"].encode())
    parsed = parse_event(event, Settings(api_secret="s3cret"), now=1714558560)
    assert parsed.http_refusal is None
    assert only_notices(parsed) == [("ins-web00002", "operator", "apigw"), ("ein-edge0001", "operator", "apigw")]
    assert parsed.records[0].record_id == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    assert parsed.records[0].payload == event["body"]


def test_sample_direct():
    event = load("direct.json")
    parsed = parse_event(event, SETTINGS)
    assert parsed.kind == "direct"
    (record,) = parsed.records
    assert record.record_id == "direct" and json.loads(record.payload) == event
    assert [n.instance_id for n in record.notices] == ["ins-web00001", "ein-edge0001"]
    assert {n.reason for n in record.notices} == {"operator drain before maintenance"}
    assert not any(n.dry_run for n in record.notices)


def test_sample_scf_dead_letter_replays_client_context():
    parsed = parse_event(load("scf-dead-letter.json"), SETTINGS)
    assert parsed.kind == "scf_dead_letter"
    (record,) = parsed.records
    assert record.record_id == "12345678901234567"
    (notice,) = record.notices
    assert (notice.instance_id, notice.source, notice.lifecycle.token) == ("ins-web00002", "redrive", T2)


def test_sample_cmq_scaling_activity():
    parsed = parse_event(load("cmq-scaling-activity.json"), SETTINGS)
    (record,) = parsed.records
    assert record.notices == ()
    (activity,) = record.activities
    assert (activity.activity_id, activity.group_id, activity.source) == ("asa-scalein1", GROUP, "cmq")
    assert activity.record_id == record.record_id == "10855927651590700"


def test_every_sample_has_a_test():
    names = {p.name for p in EVENTS.glob("*.json")}
    assert names == {
        "cmq-lifecycle-terminating.json", "cmq-topic-lifecycle.json", "ckafka-lifecycle.json",
        "eventbridge-cvm-terminated.json", "eventbridge-lifecycle.json", "apigw-drain.json", "direct.json",
        "scf-dead-letter.json", "cmq-scaling-activity.json", "timer.json",
    }


# ----------------------------------------------------------------------------------------------- CMQ

def test_cmq_one_bad_record_does_not_stop_the_others():
    event = cmq_event(lifecycle("ins-web00001"), lifecycle("ins-XYZ"), "not json", lifecycle("ins-web00002", T2))
    parsed = parse_event(event, SETTINGS)
    assert [r.record_id for r in parsed.records] == ["msg-0", "msg-1", "msg-2", "msg-3"]
    ok1, bad_id, bad_json, ok2 = parsed.records
    assert [n.instance_id for n in ok1.notices] == ["ins-web00001"]
    assert [n.instance_id for n in ok2.notices] == ["ins-web00002"]
    assert bad_id.notices == () and bad_id.refused == (
        "Records[1].CMQ.msgBody.InstanceId: 'ins-XYZ' is not a CVM (ins- + 8 lowercase letters/digits) "
        "or ECM (ein- + 8) instance id"
    )
    assert bad_json.refused.startswith("Records[2].CMQ.msgBody: not valid JSON")
    assert bad_json.payload == "not json"


@pytest.mark.parametrize("tag", ["tag1,tag2", ["tag1", "tag2"], "", [], None])
def test_cmq_msg_tag_string_or_list(tag):
    parsed = parse_event(cmq_event(lifecycle(), msgTag=tag), SETTINGS)
    assert [n.instance_id for n in parsed.records[0].notices] == ["ins-web00001"]


def test_cmq_msg_tag_list_is_normalised():
    from clb_unbind.triggers.cmq import CmqMessage

    assert CmqMessage(msgBody="{}", msgTag="a, b").tags == ["a", "b"]
    assert CmqMessage(msgBody="{}", msgTag=["a", "b"]).tags == ["a", "b"]


@pytest.mark.parametrize("owner", [1250000000, "1250000000"])
def test_cmq_topic_owner_int_or_str(owner):
    parsed = parse_event(cmq_event(lifecycle(), type="topic", topicOwner=owner), SETTINGS)
    assert len(parsed.records[0].notices) == 1


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("msgBody", 5, "Records[0].CMQ.msgBody: Input should be a valid string, got 5"),
        ("topicOwner", 1.5, "Records[0].CMQ.topicOwner: expected an integer or a string, got 1.5"),
        ("msgTag", 7, "Records[0].CMQ.msgTag: expected a string or a list of strings, got 7"),
        ("msgTag", ["a", 1], "Records[0].CMQ.msgTag: expected a string or a list of strings, item 1 is 1"),
        ("type", "fifo", "Records[0].CMQ.type: Input should be 'queue' or 'topic', got 'fifo'"),
        ("msgId", 42, "Records[0].CMQ.msgId: Input should be a valid string, got 42"),
    ],
)
def test_cmq_wrong_types_name_the_field(field, value, expected):
    parsed = parse_event(cmq_event(lifecycle(), **{field: value}), SETTINGS)
    (record,) = parsed.records
    assert record.notices == () and record.refused.startswith(expected)


def test_cmq_record_that_is_not_an_object():
    parsed = parse_event({"Records": [{"CMQ": "x"}, {"CMQ": {"msgId": "m", "msgBody": json.dumps(lifecycle())}}]}, SETTINGS)
    assert parsed.kind == "cmq"
    assert parsed.records[0].refused == "Records[0].CMQ: expected an object, got string"
    assert len(parsed.records[1].notices) == 1


def test_record_ids_are_unique():
    event = cmq_event(lifecycle("ins-web00001"), lifecycle("ins-web00002", T2), msgId="same")
    parsed = parse_event(event, SETTINGS)
    ids = [r.record_id for r in parsed.records]
    assert len(set(ids)) == 2 and ids[0] == "same"
    for record in parsed.records:
        assert all(n.record_id == record.record_id for n in record.notices)


def test_oversize_msg_body_is_refused():
    settings = Settings(max_payload_bytes=2048)
    body = json.dumps(lifecycle(NotificationMetadata="x" * 3000))
    parsed = parse_event(cmq_event(body), settings)
    (record,) = parsed.records
    assert record.notices == ()
    assert record.refused.startswith("Records[0].CMQ.msgBody: ") and "over the 2048-byte limit" in record.refused
    assert record.payload == body


def test_launching_is_ignored_even_with_a_strange_instance_id():
    parsed = parse_event(cmq_event(lifecycle("whatever", transition="INSTANCE_LAUNCHING")), SETTINGS)
    (record,) = parsed.records
    assert record.ignored and record.refused is None and record.notices == ()


def test_lifecycle_missing_hook_id_is_refused():
    body = lifecycle()
    del body["LifecycleHookId"]
    (record,) = parse_event(cmq_event(body), SETTINGS).records
    assert record.refused == "Records[0].CMQ.msgBody.LifecycleHookId: Field required"


def test_other_auto_scaling_messages_are_ignored():
    parsed = parse_event(cmq_event({"Service": "Tencent Cloud Auto Scaling", "Message": "test"}), SETTINGS)
    assert parsed.records[0].ignored and parsed.records[0].refused is None


def test_scale_out_activity_is_ignored_and_bad_activity_id_refused():
    act = {"Service": "Tencent Cloud Auto Scaling", "ActivityId": "asa-scalein1", "AutoScalingGroupId": GROUP}
    out, bad = parse_event(
        cmq_event({**act, "ActivityType": "SCALE_OUT"}, {**act, "ActivityType": "SCALE_IN", "ActivityId": 5}), SETTINGS
    ).records
    assert "SCALE_OUT" in out.ignored and out.activities == ()
    assert bad.refused.startswith("Records[1].CMQ.msgBody.ActivityId: Input should be a valid string")


def test_unknown_payload_is_refused():
    (record,) = parse_event(cmq_event({"hello": "world"}), SETTINGS).records
    assert record.refused.startswith("Records[0].CMQ.msgBody: not a payload this function handles")
    (record,) = parse_event(cmq_event("[1, 2]"), SETTINGS).records
    assert record.refused == "Records[0].CMQ.msgBody: expected a JSON object, got array"


def test_direct_shape_inside_a_queue_message_is_refused():
    """Anyone who can write to a queue or topic could have sent it: an order there is nobody's word (issue 15)."""
    (record,) = parse_event(cmq_event({"instanceIds": ["ein-edge0001"], "dryRun": True}), SETTINGS).records
    assert record.notices == () and record.refusal_code == "not_a_queue_payload"
    assert record.refused.startswith("not_a_queue_payload: Records[0].CMQ.msgBody")


def test_scf_dead_letter_inside_a_queue_message_is_refused():
    body = load("scf-dead-letter.json")
    (record,) = parse_event(cmq_event(body), SETTINGS).records
    assert record.notices == () and "SCF dead-letter message" in record.refused


# -------------------------------------------------------------------------------------------- CKafka

def test_ckafka_wrong_types_and_good_records():
    good = {"topic": "t", "partition": 0, "offset": 7, "msgKey": "None", "msgBody": json.dumps(lifecycle())}
    bad = {**good, "offset": "7"}
    parsed = parse_event({"Records": [{"Ckafka": good}, {"Ckafka": bad}]}, SETTINGS)
    assert parsed.kind == "ckafka"
    first, second = parsed.records
    assert first.record_id == "t/0/7" and len(first.notices) == 1
    assert second.refused == "Records[1].Ckafka.offset: Input should be a valid integer, got '7'"


# ---------------------------------------------------------------------------------------- EventBridge

def test_eventbridge_type_not_configured_is_ignored():
    event = load("eventbridge-cvm-terminated.json")
    event["type"] = "cvm:ErrorEvent:GuestOom"
    (record,) = parse_event(event, SETTINGS).records
    assert record.notices == () and "cvm:ErrorEvent:GuestOom" in record.ignored and record.refused is None


def test_eventbridge_recovery_is_ignored_and_bad_instance_refused():
    event = load("eventbridge-cvm-terminated.json")
    event["status"] = "0"
    assert parse_event(event, SETTINGS).records[0].ignored
    event["status"] = "1"
    event["data"]["instanceId"] = "ins-sjdksjk"  # the docs' own example id is too short
    (record,) = parse_event(event, SETTINGS).records
    assert record.refused.startswith("data.instanceId: 'ins-sjdksjk' is not a CVM")


def test_eventbridge_time_as_string_and_data_missing():
    event = load("eventbridge-cvm-terminated.json")
    event["time"] = "2024-05-01T10:16:00Z"
    assert len(parse_event(event, SETTINGS).records[0].notices) == 1
    del event["data"]
    assert parse_event(event, SETTINGS).records[0].refused == "data: expected an object, got null"


def test_eventbridge_connector_message_body():
    event = load("eventbridge-cvm-terminated.json")
    event["type"] = "connector:tdmq"
    event["data"] = {"topic": "clb-unbind", "msgId": "x", "msgBody": json.dumps(lifecycle("ins-web00002", T2))}
    settings = Settings(eventbridge_types=frozenset({"connector:tdmq"}))
    (record,) = parse_event(event, settings).records
    assert [n.instance_id for n in record.notices] == ["ins-web00002"]
    assert json.loads(record.payload)["type"] == "connector:tdmq"


def test_eventbridge_wrong_id_type():
    event = load("eventbridge-cvm-terminated.json")
    event["id"] = 12
    (record,) = parse_event(event, SETTINGS).records
    assert record.refused == "id: Input should be a valid string, got 12"


# --------------------------------------------------------------------------------------------- direct

def test_direct_dry_run_from_payload_and_from_settings():
    event = {"instanceIds": ["ins-web00001"], "dryRun": True}
    assert parse_event(event, SETTINGS).records[0].notices[0].dry_run is True
    event["dryRun"] = False
    assert parse_event(event, SETTINGS).records[0].notices[0].dry_run is False
    # A payload can never turn a configured dry run off.
    assert parse_event(event, Settings(dry_run=True)).records[0].notices[0].dry_run is True


def test_direct_dedupes_and_limits_instances():
    parsed = parse_event({"instanceIds": ["ins-web00001", "ins-web00001", "ein-edge0001"]}, SETTINGS)
    assert [n.instance_id for n in parsed.records[0].notices] == ["ins-web00001", "ein-edge0001"]
    many = [f"ins-{i:08d}" for i in range(101)]
    (record,) = parse_event({"instanceIds": many}, SETTINGS).records
    assert record.notices == () and record.refused == (
        "instanceIds: at most 100 instance ids per request (CLB_UNBIND_MAX_INSTANCES), got 101"
    )
    assert len(parse_event({"instanceIds": many[:100]}, SETTINGS).records[0].notices) == 100
    (record,) = parse_event({"instanceIds": many[:3]}, Settings(max_instances=2)).records
    assert "at most 2 instance ids" in record.refused


@pytest.mark.parametrize(
    "event, expected",
    [
        ({"instanceIds": []}, "instanceIds: needs at least one instance id"),
        ({"instanceIds": ["ins-web00001", "i-1234"]}, "instanceIds[1]: 'i-1234' is not a CVM"),
        ({"instanceIds": ["INS-WEB00001"]}, "instanceIds[0]: 'INS-WEB00001' is not a CVM"),
        ({"instanceIds": "ins-web00001"}, "instanceIds: Input should be a valid list, got 'ins-web00001'"),
        ({"instanceIds": [5]}, "instanceIds[0]: Input should be a valid string, got 5"),
        ({"instanceIds": ["ins-web00001"], "dryRun": "false"}, "dryRun: Input should be a valid boolean, got 'false'"),
        ({"instanceIds": ["ins-web00001"], "reason": 3}, "reason: Input should be a valid string, got 3"),
    ],
)
def test_direct_invalid_requests_name_the_field(event, expected):
    (record,) = parse_event(event, SETTINGS).records
    assert record.notices == () and record.refused.startswith(expected), record.refused


def test_direct_unknown_fields_tolerated():
    parsed = parse_event({"instanceIds": ["ins-web00001"], "ticket": "OPS-1", "extra": {"a": 1}}, SETTINGS)
    assert len(parsed.records[0].notices) == 1


def test_direct_oversize_event():
    (record,) = parse_event({"instanceIds": ["ins-web00001"], "pad": "x" * 3000}, Settings(max_payload_bytes=2048)).records
    assert record.refused.startswith("event: ") and "2048-byte limit" in record.refused


def test_direct_lifecycle_payload_at_top_level():
    parsed = parse_event(lifecycle("ins-web00002", T2), SETTINGS)
    assert parsed.kind == "direct"
    assert [(n.instance_id, n.lifecycle.token) for n in parsed.records[0].notices] == [("ins-web00002", T2)]


# ---------------------------------------------------------------------------------- SCF dead letter

def test_scf_dead_letter_nested_is_refused():
    outer = load("scf-dead-letter.json")
    nested = copy.deepcopy(outer)
    nested["Body"]["ClientContext"] = json.dumps(outer)
    parsed = parse_event(nested, SETTINGS)
    assert parsed.kind == "scf_dead_letter"
    (record,) = parsed.records
    assert record.notices == () and "dead letter inside an SCF dead letter" in record.refused


def test_scf_dead_letter_bad_client_context():
    event = load("scf-dead-letter.json")
    event["Body"]["ClientContext"] = "{not json"
    (record,) = parse_event(event, SETTINGS).records
    assert record.refused.startswith("Body.ClientContext: not valid JSON")
    event["Body"]["ClientContext"] = json.dumps({"Type": "Timer", "TriggerName": "EveryDay"})
    (record,) = parse_event(event, SETTINGS).records
    assert record.refused.startswith("Body.ClientContext: event: not a shape")
    del event["Body"]["ClientContext"]
    (record,) = parse_event(event, SETTINGS).records
    assert record.refused == "Body.ClientContext: Field required"


def test_scf_dead_letter_of_direct_call_and_of_api_gateway_request():
    event = load("scf-dead-letter.json")
    event["Body"]["ClientContext"] = json.dumps({"instanceIds": ["ein-edge0001"]})
    parsed = parse_event(event, SETTINGS)
    assert [(n.instance_id, n.source) for r in parsed.records for n in r.notices] == [("ein-edge0001", "redrive")]
    # An API Gateway request is never dead-lettered by SCF: replaying one re-checks (and fails) its signature.
    event["Body"]["ClientContext"] = json.dumps(load("apigw-drain.json"))
    parsed = parse_event(event, Settings(api_secret="k"))
    assert parsed.kind == "scf_dead_letter" and parsed.http_refusal is None
    (record,) = parsed.records
    assert record.notices == () and "401" in record.refused


def test_scf_dead_letter_of_a_multi_record_event_keeps_records_apart():
    event = load("scf-dead-letter.json")
    event["Body"]["ClientContext"] = json.dumps(load("cmq-lifecycle-terminating.json"))
    parsed = parse_event(event, SETTINGS)
    assert [r.record_id for r in parsed.records] == ["10855927651590621", "10855927651590622"]
    assert parsed.records[0].notices[0].source == "redrive" and parsed.records[1].ignored


# ------------------------------------------------------------------------------------------ unknown

@pytest.mark.parametrize(
    "event",
    [None, [], "text", 3, {}, {"Type": "Timer", "TriggerName": "t", "Time": "x"}, {"Records": []},
     {"Records": "x"}, {"Records": [{"COS": {}}]}],
)
def test_unknown_shapes_give_one_refused_record(event):
    parsed = parse_event(event, SETTINGS)
    assert parsed.kind == "unknown" and parsed.http_refusal is None
    (record,) = parsed.records
    assert record.refused and record.notices == ()


def test_http_answer_shape():
    assert http_answer(401, {"error": "x", "requestId": "r"}) == {
        "isBase64Encoded": False,
        "statusCode": 401,
        "headers": {"Content-Type": "application/json"},
        "body": '{"error": "x", "requestId": "r"}',
    }


def test_sample_timer_starts_a_consumer_run_and_is_no_pushed_event():
    from clb_unbind.triggers.timer import is_timer_event, trigger_name

    event = load("timer.json")
    assert is_timer_event(event) and trigger_name(event) == "clb-unbind-consume"
    assert not is_timer_event({"Type": "timer"}) and not is_timer_event(load("direct.json"))
