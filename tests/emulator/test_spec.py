"""The judge itself (emulator/spec.py, tools/tccli_spec.py): each check finds what it is meant to find."""
from __future__ import annotations

from pathlib import Path

import pytest

from emulator import spec
from tools import tccli_spec

CLB = ("clb", "2018-03-17")


def test_a_good_request_has_no_problem_and_its_members_are_counted() -> None:
    problems, members = spec.request_problems(*CLB, "BatchDeregisterTargets", {
        "LoadBalancerId": "lb-1", "Targets": [{"ListenerId": "lbl-1", "Port": 80, "InstanceId": "ins-1"}]})
    assert problems == [] and members == {"LoadBalancerId", "Targets", "Targets.ListenerId", "Targets.Port", "Targets.InstanceId"}


def test_request_problems_unknown_wrong_type_missing_nested_and_offline() -> None:
    problems, _ = spec.request_problems(*CLB, "BatchDeregisterTargets", {
        "LoadBalancerId": 5, "Targets": [{"ListenerId": "lbl-1", "Port": "80", "Colour": "red"}], "Extra": 1})
    assert "LoadBalancerId: expected string, got int" in problems
    assert "Targets.0.Port: expected int64, got str" in problems
    assert "Targets.0.Colour: not a member of BatchTarget" in problems
    assert "Extra: not a member of BatchDeregisterTargetsRequest" in problems
    problems, _ = spec.request_problems(*CLB, "BatchDeregisterTargets", {"Targets": [{"Port": 80}]})
    assert {"LoadBalancerId: required (BatchDeregisterTargetsRequest) but missing",
            "Targets.0.ListenerId: required (BatchTarget) but missing"} <= set(problems)
    problems, _ = spec.request_problems("as", "2018-04-19", "UpgradeLaunchConfiguration", {})
    assert any("not online" in p for p in problems)
    assert spec.request_problems(*CLB, "NoSuchAction", {})[0]


def test_reply_problems_missing_required_disallowed_null_and_allowed_null() -> None:
    problems, _ = spec.reply_problems(*CLB, "BatchDeregisterTargets", {"RequestId": "r"})
    assert problems == ["FailListenerIdSet: required (BatchDeregisterTargetsResponse) but missing"]
    problems, _ = spec.reply_problems(*CLB, "BatchDeregisterTargets", {"FailListenerIdSet": None, "RequestId": "r"})
    assert problems == ["FailListenerIdSet: null, but api.json does not allow null here"]
    ok, _ = spec.reply_problems("ecm", "2019-07-19", "BatchDeregisterTargets", {"FailListenerIdSet": None, "RequestId": "r"})
    assert ok == []


def test_nullify_nulls_only_what_api_json_allows() -> None:
    reply = {"Listeners": [{"ListenerId": "lbl-1", "Targets": [{"InstanceId": "ein-1", "Port": 80}]}], "RequestId": "r"}
    out, nulled = spec.nullify("ecm", "2019-07-19", "DescribeTargets", reply)
    assert out == {"Listeners": None, "RequestId": "r"} and nulled == {"Listeners"}
    out, nulled = spec.nullify(*CLB, "DescribeLBListeners", {"LoadBalancers": [{"LoadBalancerId": "lb-1", "Listeners": [
        {"ListenerId": "lbl-1", "Targets": [], "Rules": None}]}], "RequestId": "r"})
    assert out["LoadBalancers"][0]["Listeners"][0]["Targets"] is None and out["LoadBalancers"][0]["LoadBalancerId"] == "lb-1"


def test_the_asynchrony_rule_reads_the_document() -> None:
    assert spec.asynchronous(*CLB, "BatchModifyTargetWeight") and spec.asynchronous(*CLB, "DeregisterTargets")
    assert not spec.asynchronous(*CLB, "BatchDeregisterTargets")
    assert not spec.asynchronous("ecm", "2019-07-19", "BatchDeregisterTargets")


def test_a_wheel_that_does_not_match_its_pin_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TCCLI_SPEC_CACHE", str(tmp_path))
    (tmp_path / tccli_spec.WHEEL).write_bytes(b"not the wheel")
    with pytest.raises(tccli_spec.SpecUnavailable, match="sha256"):
        tccli_spec.wheel_path()
