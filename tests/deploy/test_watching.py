"""setup makes the function's watching in CLS, check reads it, teardown removes it (issue 20 point 3)."""
from __future__ import annotations

import json
from typing import Any, Dict

from deploy import watching
from deploy.cls_queries import QUERIES
from emulator.services import cls
from tests.deploy.conftest import Ops
from tests.functional.test_cls_queries import call, cls_client


def state(ops: Ops) -> cls.Slice:
    return cls.of(ops.emu._estate)


def function(ops: Ops) -> Dict[str, Any]:
    from emulator import deployment

    fn = next(iter(deployment.of(ops.emu._estate).functions.values()))
    return {"ClsLogsetId": fn.cls_logset_id, "ClsTopicId": fn.cls_topic_id}


def test_setup_makes_the_watching_once_and_says_who_is_told(ops: Ops) -> None:
    code, out = ops.setup()
    assert code == 0, out
    s = state(ops)
    [topic] = s.topics.values()
    assert function(ops) == {"ClsLogsetId": topic.logset_id, "ClsTopicId": topic.topic_id}
    assert cls.SQL_FIELD in json.dumps(topic.index)
    names = sorted(a["Name"] for a in s.alarms.values())
    assert names == sorted(f"clb-unbind: {a.key}" for a in watching.alarms())
    for a in s.alarms.values():
        [target] = a["AlarmTargets"]
        assert target["TopicId"] == topic.topic_id and target["Query"] in {q.text for q in QUERIES.values()}
        assert "AlarmNoticeIds" not in a and "docs/alarms.md" in a["MessageTemplate"]
    [board] = s.dashboards.values()
    charts = json.loads(board["Data"])["charts"]
    assert [c["query"] for c in charts] == [QUERIES[n].text for n in watching.CHARTS]
    assert all(c["topicId"] == topic.topic_id for c in charts)
    assert "nobody is told yet" in out
    from emulator import deployment

    fn = next(iter(deployment.of(ops.emu._estate).functions.values()))
    assert fn.environment["CLB_UNBIND_AUDIT_SECONDS"] == "60"  # the audit's window is the timer's interval
    ops.emu.clear_calls()
    code, out = ops.setup()
    assert code == 0 and ops.writes() == [], out
    code, out = ops.check()
    assert code == 0, out
    assert "ok        cls_logs" in out and "6 of 6 alarms in place" in out and "notify nobody yet" in out


def test_dry_run_plans_the_watching_and_writes_nothing(ops: Ops) -> None:
    code, out = ops.setup("--dry-run")
    assert code == 0 and ops.writes() == []
    assert "cls:CreateAlarm" in out and "cls:CreateDashboard" in out and "cls:CreateIndex" in out
    assert state(ops).alarms == {}


def test_a_notice_given_is_used_and_a_missing_one_stops_setup(ops: Ops) -> None:
    client = cls_client(ops.emu)
    notice = call(client, "CreateAlarmNotice", {"Name": "on-call", "Type": "All", "NoticeReceivers": [
        {"ReceiverType": "Uin", "ReceiverIds": [100001], "ReceiverChannels": ["Email"]}]})["AlarmNoticeId"]
    ops.emu.clear_calls()
    code, out = ops.setup("--notice", "notice-00000000-0000-0000-0000-000000000000")
    assert code == 1 and "no CLS alarm notice" in out and ops.writes() == []
    code, out = ops.setup("--notice", notice)
    assert code == 0, out
    assert all(a["AlarmNoticeIds"] == [notice] for a in state(ops).alarms.values())
    assert f"alarms notify CLS alarm notice {notice}" in out
    code, out = ops.check("--notice", notice)
    assert "every alarm notifies a notice" in out


def test_check_sees_a_missing_alarm_and_setup_puts_it_back(ops: Ops) -> None:
    ops.setup()
    gone = next(a for a in state(ops).alarms.values() if a["Name"].endswith("dead letter"))
    call(cls_client(ops.emu), "DeleteAlarm", {"AlarmId": gone["AlarmId"]})
    code, out = ops.check()
    assert code == 1 and "VIOLATED  cls_alarms: 5 of 6 alarms in place; missing or changed: dead letter" in out
    ops.emu.clear_calls()
    assert ops.setup()[0] == 0
    assert [c.action for c in ops.writes()] == ["CreateAlarm"]
    assert ops.check()[0] == 0


def test_teardown_removes_alarms_and_dashboard_and_keeps_the_logs(ops: Ops) -> None:
    ops.setup()
    code, out = ops.run("teardown", "--yes", "--force")
    assert code == 0, out
    s = state(ops)
    assert s.alarms == {} and s.dashboards == {}
    assert len(s.topics) == 1 and "they hold the function's logs" in out


def test_a_topic_given_is_used_with_its_own_logset(ops: Ops) -> None:
    client = cls_client(ops.emu)
    logset = call(client, "CreateLogset", {"LogsetName": "team-logs"})["LogsetId"]
    topic = call(client, "CreateTopic", {"LogsetId": logset, "TopicName": "functions"})["TopicId"]
    code, out = ops.setup("--topic", topic)
    assert code == 0, out
    assert function(ops) == {"ClsLogsetId": logset, "ClsTopicId": topic}
    assert len(state(ops).logsets) == 1 and len(state(ops).topics) == 1
    assert all(a["AlarmTargets"][0]["TopicId"] == topic for a in state(ops).alarms.values())
