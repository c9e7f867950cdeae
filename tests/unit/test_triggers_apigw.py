"""API Gateway: HMAC authentication before anything else, then method, size and body checks."""
from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "handler") not in sys.path:
    sys.path.insert(0, str(ROOT / "handler"))

from clb_unbind.config import Settings  # noqa: E402
from clb_unbind.triggers import parse_event  # noqa: E402

SECRET = "test-secret-0123456789"
NOW = 1_714_558_560
SETTINGS = Settings(api_secret=SECRET)
REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def sample() -> dict:
    return json.loads((ROOT / "events" / "apigw-drain.json").read_text())


def hmac_hex(secret: str, timestamp: str, body: bytes) -> str:
    # Written out here rather than imported, so the test pins the contract, not the implementation.
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed(event: dict = None, *, body=None, ts: int = NOW, secret: str = SECRET, names=("X-Clb-Unbind-Timestamp", "X-Clb-Unbind-Signature")) -> dict:
    event = copy.deepcopy(event or sample())
    if body is not None:
        event["body"] = body
    raw = event.get("body")
    if raw is None:
        raw_bytes = b""
    elif event.get("isBase64Encoded"):
        raw_bytes = base64.b64decode(raw)
    else:
        raw_bytes = raw.encode()
    headers = {k: v for k, v in event["headers"].items() if not k.lower().startswith("x-clb-unbind-")}
    headers[names[0]] = str(ts)
    headers[names[1]] = hmac_hex(secret, str(ts), raw_bytes)
    event["headers"] = headers
    return event


def refusal(event: dict, settings: Settings = SETTINGS, now: float = NOW):
    parsed = parse_event(event, settings, now=now)
    assert parsed.kind == "apigw"
    if parsed.http_refusal is not None:
        assert parsed.records == ()
        assert set(parsed.http_refusal.body) == {"error", "requestId"}
    return parsed.http_refusal


def test_valid_signature_is_accepted():
    parsed = parse_event(signed(), SETTINGS, now=NOW)
    assert parsed.kind == "apigw" and parsed.http_refusal is None
    (record,) = parsed.records
    assert record.record_id == REQUEST_ID and record.source == "apigw"
    assert [n.instance_id for n in record.notices] == ["ins-web00002", "ein-edge0001"]
    assert all(n.source == "apigw" and n.reason == "operator" and not n.dry_run for n in record.notices)


@pytest.mark.parametrize(
    "names",
    [
        ("x-clb-unbind-timestamp", "x-clb-unbind-signature"),
        ("X-CLB-UNBIND-TIMESTAMP", "X-Clb-Unbind-SIGNATURE"),
        ("x-Clb-unbind-Timestamp", "X-clb-Unbind-signature"),
    ],
)
def test_header_names_are_case_insensitive(names):
    parsed = parse_event(signed(names=names), SETTINGS, now=NOW)
    assert parsed.http_refusal is None and len(parsed.records[0].notices) == 2


def test_unsigned_request_is_401_missing():
    event = sample()
    del event["headers"]["X-Clb-Unbind-Timestamp"]
    del event["headers"]["X-Clb-Unbind-Signature"]
    answer = refusal(event)
    assert answer.status == 401 and "missing" in answer.body["error"]
    assert answer.body["requestId"] == REQUEST_ID
    event["headers"] = None
    assert refusal(event).status == 401


def test_placeholder_headers_of_the_sample_are_401():
    answer = refusal(sample())
    assert answer.status == 401 and answer.body["error"] == "invalid or expired signature"


def test_forged_signature_is_401():
    event = signed()
    event["headers"]["X-Clb-Unbind-Signature"] = "0" * 64
    assert refusal(event).status == 401
    event = signed(secret="another-secret")
    assert refusal(event).status == 401
    event = signed()
    event["headers"]["X-Clb-Unbind-Signature"] = "é" * 64  # non-ASCII must not crash compare_digest
    assert refusal(event).status == 401


@pytest.mark.parametrize("offset", [-301, 301, -10_000, 10**9])
def test_stale_or_future_timestamp_is_401(offset):
    answer = refusal(signed(ts=NOW + offset))
    assert answer.status == 401 and answer.body["error"] == "invalid or expired signature"


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_timestamp_within_skew_is_accepted(offset):
    assert refusal(signed(ts=NOW + offset)) is None


@pytest.mark.parametrize("ts", ["abc", "-5", "1.5e9", "", " "])
def test_garbage_timestamp_is_401(ts):
    event = signed()
    event["headers"]["X-Clb-Unbind-Timestamp"] = ts
    assert refusal(event).status == 401


def test_replayed_with_changed_body_is_401():
    original = signed()
    replay = copy.deepcopy(original)
    replay["body"] = json.dumps({"instanceIds": ["ins-web00003"], "dryRun": False})  # a staying instance
    answer = refusal(replay)
    assert answer.status == 401
    # Same for a changed timestamp with the old signature.
    replay = copy.deepcopy(original)
    replay["headers"]["X-Clb-Unbind-Timestamp"] = str(NOW + 1)
    assert refusal(replay).status == 401


def test_no_secret_configured_is_401_fail_closed():
    answer = refusal(signed(), settings=Settings(api_secret=None))
    assert answer.status == 401 and "not configured for API Gateway" in answer.body["error"]
    assert refusal(signed(secret=""), settings=Settings(api_secret="")).status == 401


def test_401_does_not_say_which_check_failed():
    stale = refusal(signed(ts=NOW - 1000)).body["error"]
    forged_event = signed()
    forged_event["headers"]["X-Clb-Unbind-Signature"] = "ab" * 32
    forged = refusal(forged_event).body["error"]
    assert stale == forged
    assert SECRET not in stale


def test_auth_is_checked_before_method_size_and_body():
    for mutate in (
        lambda e: e.update(httpMethod="GET"),
        lambda e: e.update(body="{not json"),
        lambda e: e.update(body="x" * 100_000),
    ):
        event = sample()
        mutate(event)
        assert refusal(event).status == 401


def test_get_is_405_after_auth():
    event = sample()
    event["httpMethod"] = "GET"
    event["requestContext"]["httpMethod"] = "GET"
    event.pop("body")
    answer = refusal(signed(event))
    assert answer.status == 405


def test_method_from_request_context_when_missing_at_top_level():
    event = sample()
    del event["httpMethod"]
    assert refusal(signed(event)) is None


def test_oversize_body_is_413():
    body = json.dumps({"instanceIds": ["ins-web00001"], "pad": "x" * 70_000})
    answer = refusal(signed(body=body))
    assert answer.status == 413 and "body" in answer.body["error"]


@pytest.mark.parametrize(
    "body, expected",
    [
        ("{not json", "body: not valid JSON"),
        ("", "body: not valid JSON"),
        ("[]", "body: expected a JSON object"),
        (json.dumps({"instanceIds": ["ins-web00001", "ins-bad"]}), "body.instanceIds[1]: 'ins-bad' is not a CVM"),
        (json.dumps({"instanceIds": []}), "body.instanceIds: needs at least one instance id"),
        (json.dumps({"instanceIds": [f"ins-{i:08d}" for i in range(101)]}), "body.instanceIds: at most 100"),
        (json.dumps({"instanceIds": ["ins-web00001"], "dryRun": "yes"}), "body.dryRun: Input should be a valid boolean"),
        (json.dumps({"ids": ["ins-web00001"]}), "body.instanceIds: Field required"),
    ],
)
def test_malformed_body_is_400_naming_the_field(body, expected):
    answer = refusal(signed(body=body))
    assert answer.status == 400 and answer.body["error"].startswith(expected), answer.body


def test_absent_body_is_signed_as_empty_and_then_400():
    event = sample()
    del event["body"]
    answer = refusal(signed(event))
    assert answer.status == 400


def test_dry_run_and_dedupe_from_body():
    body = json.dumps({"instanceIds": ["ein-edge0001", "ein-edge0001"], "dryRun": True, "extra": 1})
    parsed = parse_event(signed(body=body), SETTINGS, now=NOW)
    (record,) = parsed.records
    assert [(n.instance_id, n.dry_run) for n in record.notices] == [("ein-edge0001", True)]


def test_base64_body_is_decoded_and_the_decoded_bytes_are_signed():
    text = json.dumps({"instanceIds": ["ins-web00001"]})
    event = sample()
    event["isBase64Encoded"] = True
    event["body"] = base64.b64encode(text.encode()).decode()
    parsed = parse_event(signed(event), SETTINGS, now=NOW)
    assert parsed.http_refusal is None
    assert [n.instance_id for n in parsed.records[0].notices] == ["ins-web00001"]
    assert parsed.records[0].payload == text
    # Signing the base64 text instead of the decoded bytes does not verify.
    wrong = signed(event)
    wrong["headers"]["X-Clb-Unbind-Signature"] = hmac_hex(SECRET, str(NOW), event["body"].encode())
    assert refusal(wrong).status == 401
    # Not base64 at all: cannot be verified.
    bad = copy.deepcopy(event)
    bad["body"] = "***"
    bad["headers"] = signed(event)["headers"]
    assert refusal(bad).status == 401


def test_non_string_body_cannot_be_verified():
    event = signed()
    event["body"] = {"instanceIds": ["ins-web00001"]}
    assert refusal(event).status == 401
