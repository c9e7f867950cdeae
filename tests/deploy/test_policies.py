"""Policy documents as check reads them: CAM patterns, deny statements, and documents stored in
another shape than they were sent."""
from __future__ import annotations

import json

from deploy.desired import trust_document
from deploy.invariants import required_actions, trusts_scf, uncovered
from deploy.plan import normalise_policy

REQUIRED = ["clb:BatchDeregisterTargets", "clb:DescribeTaskStatus", "tdmq:SendCmqMsg"]


def _doc(*statements: dict) -> str:
    return json.dumps({"version": "2.0", "statement": list(statements)})


def test_cam_patterns_cover_actions_and_deny_takes_them_away() -> None:
    assert uncovered(REQUIRED, [_doc({"effect": "allow", "action": ["clb:*", "tdmq:SendCmqMsg"], "resource": "*"})]) == []
    assert uncovered(REQUIRED, [_doc({"effect": "allow", "action": "*", "resource": "*"})]) == []
    assert uncovered(REQUIRED, [_doc({"effect": "allow", "action": ["clb:Describe*"], "resource": "*"})]) == \
        ["clb:BatchDeregisterTargets", "tdmq:SendCmqMsg"]
    assert uncovered(REQUIRED, [_doc({"effect": "allow", "action": ["*"]}),
                                _doc({"effect": "deny", "action": ["tdmq:*"]})]) == ["tdmq:SendCmqMsg"]
    assert uncovered(REQUIRED, [_doc({"Effect": "Allow", "Action": ["CLB:batchderegistertargets"]})]) == REQUIRED[1:]


def test_the_required_actions_are_cam_policy_json() -> None:
    actions = required_actions()
    assert "clb:BatchDeregisterTargets" in actions and actions == sorted(set(actions))


def test_a_document_stored_in_another_shape_is_the_same_document() -> None:
    sent = {"version": "2.0", "statement": [{"effect": "allow", "action": ["b:B", "a:A"], "resource": ["*"]}]}
    stored = '{"Statement":[{"Resource":"*","Action":["a:A","b:B"],"Effect":"allow"}],"Version":"2.0"}'
    assert normalise_policy(stored) == normalise_policy(sent)
    assert normalise_policy(sent) != normalise_policy({**sent, "statement": [{**sent["statement"][0], "action": ["a:A"]}]})


def test_only_a_trust_policy_naming_scf_lets_scf_assume_the_role() -> None:
    assert trusts_scf(json.dumps(trust_document()))
    other = {"version": "2.0", "statement": [{"action": "name/sts:AssumeRole", "effect": "allow",
                                              "principal": {"service": "cvm.qcloud.com"}}]}
    assert not trusts_scf(json.dumps(other))
    assert not trusts_scf("not json")
