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


VALUES = {"region": "ap-guangzhou", "queue": "q1", "dead_letter_queue": "d1"}


def test_the_policy_setup_writes_is_exact() -> None:
    from deploy.permissions import broader, document, missing

    doc = json.dumps(document("ap-guangzhou", "q1", "d1"))
    assert missing([doc], VALUES) == [] and broader([doc], VALUES) == []


def test_an_owner_uin_in_the_resource_is_the_same_queue_and_another_queue_is_not() -> None:
    from deploy.permissions import broader, document, missing

    doc = document("ap-guangzhou", "q1", "d1")
    for s in doc["statement"]:
        s["resource"] = [r.replace("::queue/", ":uin/100000000001:queue/") for r in s["resource"]]
    assert missing([doc], VALUES) == [] and broader([doc], VALUES) == []
    other = json.loads(json.dumps(doc).replace("queue/q1", "queue/q2"))
    assert "tdmq:BatchReceiveMessage on qcs::tdmq:ap-guangzhou::queue/q1" in missing([other], VALUES)
    assert any("queue/q2" in line for line in broader([other], VALUES))


def test_patterns_and_wider_resources_are_broader() -> None:
    from deploy.permissions import broader, document

    base = document("ap-guangzhou", "q1", "d1")
    assert broader([base, _doc({"effect": "allow", "action": ["clb:*"], "resource": "*"})], VALUES) == ["clb:* on *"]
    assert broader([base, _doc({"effect": "allow", "action": "*", "resource": "*"})], VALUES) == ["* on *"]
    assert broader([_doc({"effect": "allow", "action": ["name/tdmq:SendCmqMsg"], "resource": ["qcs::tdmq:::queue/*"]})],
                   VALUES) == ["name/tdmq:SendCmqMsg on qcs::tdmq:::queue/*"]
    assert broader([base, _doc({"effect": "deny", "action": "*", "resource": "*"})], VALUES) == []


def test_docs_permissions_names_every_grant_with_its_resources() -> None:
    from pathlib import Path

    from deploy.permissions import GRANTS

    text = (Path(__file__).resolve().parents[2] / "docs" / "permissions.md").read_text()
    for g in GRANTS:
        row = next((line for line in text.splitlines() if line.startswith(f"| `{g.action}` |")), None)
        assert row is not None, g.action
        assert all(f"`{r}`" in row for r in g.resources) and g.why in row, g.action
