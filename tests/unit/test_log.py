from __future__ import annotations

import io
import json
import logging

from clb_unbind import log


def lines(stream: io.StringIO) -> list:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_one_json_line_per_decision_with_correlation_fields() -> None:
    stream = io.StringIO()
    log.configure("INFO", (), stream)
    with log.correlation(request_id="req-1", dry_run=True):
        log.decision("unbound", instance_id="ins-web00001", load_balancer_id="lb-web00001")
    (line,) = lines(stream)
    assert line["decision"] == "unbound" and line["level"] == "INFO"
    assert line["request_id"] == "req-1" and line["dry_run"] is True
    assert line["instance_id"] == "ins-web00001" and line["load_balancer_id"] == "lb-web00001"


def test_secrets_are_scrubbed_by_value_and_by_field_name() -> None:
    stream = io.StringIO()
    log.configure("DEBUG", ("AKIDsecretid0000", "the-secret-key"), stream)
    log.decision("failed", error_message="bad request from AKIDsecretid0000 signed with the-secret-key",
                 details={"Authorization": "TC3-HMAC-SHA256 Credential=x", "nested": ["the-secret-key"]},
                 api_secret="anything")
    logging.getLogger(log.LOGGER_NAME).warning("message mentioning %s", "the-secret-key")
    out = stream.getvalue()
    assert "AKIDsecretid0000" not in out and "the-secret-key" not in out and "TC3-HMAC" not in out
    first, second = lines(stream)
    assert first["error_message"] == "bad request from *** signed with ***"
    assert first["details"] == {"Authorization": "***", "nested": ["***"]}
    assert first["api_secret"] == "***"
    assert second["message"] == "message mentioning ***"


def test_correlation_fields_end_with_their_block() -> None:
    stream = io.StringIO()
    log.configure("INFO", (), stream)
    with log.correlation(request_id="req-1"):
        pass
    log.decision("after")
    assert "request_id" not in lines(stream)[0]
