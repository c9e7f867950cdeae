"""Property-based: `parse_event` never raises and never invents an instance id.

Two sources of input: arbitrary JSON-like values (also placed inside each trigger's skeleton), and
the sample events under events/ with random mutations, including inside the JSON they carry as
strings (`msgBody`, `ClientContext`, the HTTP body).
"""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "handler") not in sys.path:
    sys.path.insert(0, str(ROOT / "handler"))

from clb_unbind.config import Settings  # noqa: E402
from clb_unbind.model import is_instance_id  # noqa: E402
from clb_unbind.triggers import ParsedEvent, parse_event  # noqa: E402

SECRET = "property-secret"
NOW = 1_714_558_560
SETTINGS = Settings(api_secret=SECRET, eventbridge_types=frozenset({"cvm:ErrorEvent:InstanceRestarting", "as:LifecycleHook"}))
KINDS = {"cmq", "ckafka", "eventbridge", "apigw", "direct", "scf_dead_letter", "unknown"}
SAMPLES = {p.name: json.loads(p.read_text()) for p in sorted((ROOT / "events").glob("*.json")) if p.name != "timer.json"}
"""Pushed events only: the timer event carries no work of its own (it starts a consumer run)."""
FAST = hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

IDS = ["ins-web00001", "ins-web00002", "ein-edge0001", "ins-web0001", "INS-WEB00001", "ein-edge00011",
       "ins-", "ins-web00001 ", "ash-hook0001", "asa-scalein1", "INSTANCE_TERMINATING", "INSTANCE_LAUNCHING",
       "SCALE_IN", "clb-unbind/retry", "clb-unbind/dead-letter", "queue", "topic", "POST", "GET"]
scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12) | st.sampled_from(IDS)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8) | st.sampled_from(
        ["Records", "CMQ", "Ckafka", "msgBody", "instanceIds", "dryRun", "kind", "notices", "Body", "ClientContext",
         "LifecycleTransition", "InstanceId", "LifecycleHookId", "ActivityType", "ActivityId", "data", "type",
         "specversion", "id", "requestContext", "headers", "body", "httpMethod", "version", "attempt"]),
        children, max_size=4),
    max_leaves=20,
)


def sign(event: Any) -> Any:
    """Sign an API Gateway-looking event as a client would, when its body allows it."""
    if isinstance(event, dict) and isinstance(event.get("headers"), dict):
        body = event.get("body")
        if body is None or isinstance(body, str):
            raw = (body or "").encode("utf-8", "surrogatepass")
            event["headers"]["X-Clb-Unbind-Timestamp"] = str(NOW)
            event["headers"]["X-Clb-Unbind-Signature"] = hmac.new(
                SECRET.encode(), str(NOW).encode() + b"." + raw, hashlib.sha256
            ).hexdigest()
    return event


def check(event: Any, parsed: ParsedEvent) -> None:
    """The invariants every parse must keep."""
    assert isinstance(parsed, ParsedEvent) and parsed.kind in KINDS
    if parsed.http_refusal is not None:
        assert parsed.kind == "apigw" and parsed.records == ()
        assert parsed.http_refusal.status in (400, 401, 405, 413)
    else:
        assert parsed.records, "every event yields at least one record or an HTTP refusal"
    ids = [r.record_id for r in parsed.records]
    assert len(ids) == len(set(ids)) and all(isinstance(i, str) and i for i in ids)
    text = json.dumps(event, ensure_ascii=False, default=str)
    for record in parsed.records:
        assert record.notices or record.activities or record.ignored or record.refused
        if record.refused:
            assert not record.notices and not record.activities
        for notice in record.notices:
            assert notice.record_id == record.record_id
            assert is_instance_id(notice.instance_id)
            assert notice.instance_id in text, f"{notice.instance_id} is not in the input"
            assert notice.attempt >= 1
        for activity in record.activities:
            assert activity.record_id == record.record_id and activity.activity_id in text


def run(event: Any) -> None:
    snapshot = copy.deepcopy(event)
    parsed = parse_event(event, SETTINGS, now=NOW)
    assert event == snapshot, "parse_event must not change its input"
    check(event, parsed)


# ---------------------------------------------------------------------------------- arbitrary input

@FAST
@given(json_values)
def test_never_raises_on_arbitrary_json(value):
    run(value)


skeletons = st.one_of(
    st.builds(lambda msgs: {"Records": [{"CMQ": m} for m in msgs]}, st.lists(json_values, min_size=1, max_size=3)),
    st.builds(lambda msgs: {"Records": [{"Ckafka": m} for m in msgs]}, st.lists(json_values, min_size=1, max_size=3)),
    st.builds(lambda body: {"Records": [{"CMQ": {"msgId": "m", "msgBody": json.dumps(body)}}]}, json_values),
    st.builds(lambda t, data: {"specversion": "1.0", "id": "e", "source": "s", "type": t, "data": data},
              st.sampled_from(sorted(SETTINGS.eventbridge_types) + ["other"]), json_values),
    st.builds(lambda body, method: sign({"requestContext": {"requestId": "r"}, "headers": {}, "httpMethod": method,
                                          "body": json.dumps(body)}), json_values, st.sampled_from(["POST", "GET", 3])),
    st.builds(lambda inner: {"RequestId": "d", "Body": {"ClientContext": json.dumps(inner)}}, json_values),
    st.builds(lambda ids, dry: {"instanceIds": ids, "dryRun": dry}, json_values, json_values),
    st.builds(lambda notices, extra: {"kind": "clb-unbind/retry", "version": 1, "attempt": 1,
                                      "firstSeen": "2024-05-01T00:00:00Z", "notices": notices, **extra},
              json_values, st.dictionaries(st.sampled_from(["dryRun", "original", "lastErrors"]), json_values)),
)


@FAST
@given(skeletons)
def test_never_raises_inside_trigger_skeletons(event):
    run(event)


# ---------------------------------------------------------------------------------- mutated samples

def mutate(value: Any, data: st.DataObject, depth: int = 0) -> Any:
    """One random change somewhere in `value` (possibly inside a JSON string)."""
    if depth > 8:
        return data.draw(json_values)
    if isinstance(value, dict) and value:
        op = data.draw(st.sampled_from(["descend", "descend", "descend", "delete", "add", "replace"]))
        out = dict(value)
        if op == "replace":
            return data.draw(json_values)
        key = data.draw(st.sampled_from(sorted(value, key=str)))
        if op == "delete":
            del out[key]
        elif op == "add":
            out[data.draw(st.text(max_size=6))] = data.draw(json_values)
        else:
            out[key] = mutate(value[key], data, depth + 1)
        return out
    if isinstance(value, list) and value:
        op = data.draw(st.sampled_from(["descend", "descend", "delete", "duplicate", "replace"]))
        out = list(value)
        index = data.draw(st.integers(0, len(value) - 1))
        if op == "replace":
            return data.draw(json_values)
        if op == "delete":
            del out[index]
        elif op == "duplicate":
            out.insert(index, copy.deepcopy(value[index]))
        else:
            out[index] = mutate(value[index], data, depth + 1)
        return out
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            decoded = None
        if isinstance(decoded, (dict, list)) and data.draw(st.booleans()):
            return json.dumps(mutate(decoded, data, depth + 1))
        op = data.draw(st.sampled_from(["replace", "truncate", "insert", "id"]))
        if op == "truncate" and value:
            cut = data.draw(st.integers(0, len(value) - 1))
            return value[:cut]
        if op == "insert":
            at = data.draw(st.integers(0, len(value)))
            return value[:at] + data.draw(st.text(max_size=4)) + value[at:]
        if op == "id":
            return data.draw(st.sampled_from(IDS))
        return data.draw(json_values)
    return data.draw(json_values)


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(SAMPLES)), st.integers(1, 3), st.booleans(), st.data())
def test_mutated_samples_never_raise_and_never_invent_ids(name, count, resign, data):
    event = copy.deepcopy(SAMPLES[name])
    if name == "apigw-drain.json":
        sign(event)
    for _ in range(count):
        event = mutate(event, data)
    if resign:
        sign(event)
    run(event)


def test_unmutated_samples_keep_the_invariants():
    for name, event in SAMPLES.items():
        event = copy.deepcopy(event)
        if name == "apigw-drain.json":
            sign(event)
        parsed = parse_event(event, SETTINGS, now=NOW)
        check(event, parsed)
        assert parsed.http_refusal is None
        assert not any(r.refused for r in parsed.records), name


def test_deeply_nested_and_odd_values_do_not_raise():
    deep: Any = "ins-web00001"
    for _ in range(5000):
        deep = [deep]
    for event in (
        {"Records": [{"CMQ": {"msgBody": "[" * 100_000 + "]" * 100_000}}]},
        {"Records": [{"CMQ": {"msgBody": "[" * 10_000}}]},
        {"instanceIds": deep},
        {"RequestId": "x", "Body": {"ClientContext": "\ud800"}},
        {"Records": [{"CMQ": {"msgId": "m", "msgBody": '{"instanceIds": ["\\ud800"]}'}}]},
        {"requestContext": {}, "headers": {"X-Clb-Unbind-Timestamp": str(NOW), "X-Clb-Unbind-Signature": "\ud800"},
         "body": "\udcff"},
        {"instanceIds": [float("nan")]},
    ):
        parsed = parse_event(event, SETTINGS, now=NOW)
        assert parsed.kind in KINDS
        assert not any(n for r in parsed.records for n in r.notices)
