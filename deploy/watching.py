"""The function's watching in the log service (CLS): setup makes it, check reads it, teardown removes it.

What it is (docs/alarms.md, docs/metrics.md):
* the function ships its output to a CLS topic: SCF's `ClsLogsetId` / `ClsTopicId` on the function
  (`UpdateFunctionConfiguration`, which wants `Role` passed along: scf errorcodes
  `InvalidParameterValue.ClsRole`); the logset `clb-unbind` and a topic named after the function are
  made unless `--logset` / `--topic` name existing ones;
* the topic's index: a key-value index on `SCF_Message` with statistics (`SqlFlag`), without which CLS
  runs no SQL over it (cls `CreateIndex`, `ValueInfo.SqlFlag`); made only when the topic has no index;
  an index without it is reported by check, never rewritten (it may be someone else's);
* six alarms (cls `CreateAlarm`), one per `ALARMS` row, each on one query of deploy/cls_queries.py,
  every minute over the last 5 minutes, repeated at most every 15 minutes, their text saying what to
  do; with `--notice` (an alarm notice id, cls `DescribeAlarmNotices`) they notify it, without one
  they are made silent and setup says so;
* a dashboard (cls `CreateDashboard`) with one chart per `CHARTS` query. `Data` is the console's own
  JSON, which the API pages do not describe: the shape written here is chosen (UNCONFIRMED) and keeps
  each chart's title, query and topic, so nothing is lost if the console draws it differently.

Everything is found by name (alarms `<function>: <alarm>`, dashboard `clb-unbind <function>`), so a
second setup makes no write; an alarm or dashboard that differs is deleted and made again (the
emulator serves no Modify*). Teardown deletes the alarms and the dashboard and keeps the logset and
topic: they hold the logs.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from .cloud import Cloud
from .cls_queries import QUERIES
from .findings import Finding
from .plan import PlanError, Ref, Step, Write

Json = Dict[str, Any]
LOGSET = "clb-unbind"
SQL_FIELD = "SCF_Message"
TOKENIZER = "@&?|#()='\",;:<>[]{}/ \n\t\r"
"""CLS's default tokenizer (the console's, for a text field)."""
WINDOW_MINUTES = 5
REPEAT_MINUTES = 15
LATENCY_SECONDS = 300


@dataclass(frozen=True)
class Alarm:
    key: str
    query: str
    condition: str
    level: int  # cls AlarmLevel: 0 warn, 1 info, 2 critical
    text: str


def alarms(latency_seconds: int = LATENCY_SECONDS) -> List[Alarm]:
    return [
        Alarm("dead letter", "dead_letters", "$1.dead_letters > 0", 0,
              "clb-unbind dead-lettered work. Read the dead-letter queue (make deadletters): each letter says its reason; "
              "fix the cause, then redrive it (make redrive). docs/alarms.md"),
        Alarm("misconfigured", "misconfigured", "$1.misconfigured > 0", 2,
              "clb-unbind is misconfigured and does nothing: its misconfigured line names the setting. Run make check, "
              "then make setup. docs/alarms.md"),
        Alarm("run failed", "run_failures", "$1.failures > 0", 2,
              "A clb-unbind timer run could not read its queue or Auto Scaling (receive_failed / sweep_failed / audit_failed); the line's "
              "error_code says why. Run make check. Nothing is lost: messages stay queued. docs/alarms.md"),
        Alarm("hook audit", "audit_findings", "$1.findings > 0", 0,
              "Auto Scaling ended a clb-unbind hook itself (HEARTBEAT_TIMEOUT, NOTIFICATION_FAILURE, "
              "ANOTHER_ACTION_ABANDON): the audit line names the instance and what to do; NOTIFICATION_FAILURE: run "
              "make check (queue, hook target). docs/alarms.md"),
        Alarm("timer stopped", "timer_summaries", "$1.summaries == 0", 2,
              f"No clb-unbind timer run finished in {WINDOW_MINUTES} minutes: leaving instances wait on their hooks. "
              "Look at the function's invocations in the SCF console and run make check. docs/alarms.md"),
        Alarm("hook latency", "hook_latency_max", f"$1.hook_latency_max_seconds > {latency_seconds}", 0,
              f"An instance waited more than {latency_seconds} s from its notification to its completion; its hook's "
              "HeartbeatTimeout is at risk. See api_errors_by_code and queue_kept in the metrics lines. docs/alarms.md"),
    ]


CHARTS = ("instances_by_outcome", "hook_latency", "api_errors_by_code", "queue", "dead_letters_by_reason",
          "api_calls_by_action")


@dataclass(frozen=True)
class Watch:
    function: str
    namespace: str = "default"
    logset: Optional[str] = None
    """An existing logset id (`LOGSET=`); none: the logset named `LOGSET` is found or made."""
    topic: Optional[str] = None
    """An existing topic id (`TOPIC=`); none: the topic named after the function is found or made."""
    notice: Optional[str] = None
    """An alarm notice id (`NOTICE=`) the alarms notify; none: silent alarms, said so."""
    latency_seconds: int = LATENCY_SECONDS

    def alarm_name(self, a: Alarm) -> str:
        return f"{self.function}: {a.key}"

    @property
    def dashboard(self) -> str:
        return f"clb-unbind {self.function}"


def index_rule() -> Json:
    return {"KeyValue": {"CaseSensitive": False, "KeyValues": [
        {"Key": SQL_FIELD, "Value": {"Type": "text", "Tokenizer": TOKENIZER, "SqlFlag": True, "ContainZH": False}}]}}


def dashboard_data(topic: Any, region: str) -> Json:
    return {"version": 1, "source": "clb-unbind deploy/watching.py", "charts": [
        {"title": QUERIES[name].title, "unit": QUERIES[name].unit, "query": QUERIES[name].text,
         "topicId": topic, "region": region, "syntaxRule": 1} for name in CHARTS]}


def _alarm_params(w: Watch, a: Alarm, topic: Any, logset: Any) -> Json:
    params: Json = {
        "Name": w.alarm_name(a),
        "AlarmTargets": [{"LogsetId": logset, "TopicId": topic, "Query": QUERIES[a.query].text, "Number": 1, "SyntaxRule": 1,
                          "StartTimeOffset": -WINDOW_MINUTES, "EndTimeOffset": 0}],
        "MonitorTime": {"Type": "Period", "Time": 1},
        "Condition": a.condition, "AlarmLevel": a.level, "TriggerCount": 1, "AlarmPeriod": REPEAT_MINUTES,
        "MessageTemplate": a.text, "Status": True,
    }
    if w.notice:
        params["AlarmNoticeIds"] = [w.notice]
    return params


def _first(cloud: Cloud, action: str, key: str, filters: List[Json], **extra: Any) -> Optional[Json]:
    reply = cloud.read("cls", action, {"Filters": filters, "Limit": 100, **extra})
    return next(iter(reply.get(key) or []), None)


def _logset(cloud: Cloud, w: Watch) -> Optional[Json]:
    if w.logset:
        return _first(cloud, "DescribeLogsets", "Logsets", [{"Key": "logsetId", "Values": [w.logset]}])
    found = cloud.read("cls", "DescribeLogsets", {"Filters": [{"Key": "logsetName", "Values": [LOGSET]}], "Limit": 100})
    return next((s for s in found.get("Logsets") or [] if s.get("LogsetName") == LOGSET), None)


def _topic(cloud: Cloud, w: Watch, logset_id: Optional[str]) -> Optional[Json]:
    if w.topic:
        return _first(cloud, "DescribeTopics", "Topics", [{"Key": "topicId", "Values": [w.topic]}])
    if not logset_id:
        return None
    return _first(cloud, "DescribeTopics", "Topics", [{"Key": "topicName", "Values": [w.function]},
                                                      {"Key": "logsetId", "Values": [logset_id]}], PreciseSearch=1)


def _analysed(index: Optional[Json]) -> bool:
    if not index or not index.get("Status"):
        return False
    pairs = (((index.get("Rule") or {}).get("KeyValue") or {}).get("KeyValues")) or []
    return any(p.get("Key") == SQL_FIELD and (p.get("Value") or {}).get("SqlFlag") for p in pairs)


def _ours(cloud: Cloud, w: Watch) -> Tuple[Dict[str, Json], Optional[Json]]:
    listed = cloud.read("cls", "DescribeAlarms", {"Filters": [{"Key": "name", "Values": [f"{w.function}: "]}], "Limit": 100})
    names = {w.alarm_name(a) for a in alarms(w.latency_seconds)}
    found = {a["Name"]: a for a in listed.get("Alarms") or [] if a.get("Name") in names}
    boards = cloud.read("cls", "DescribeDashboards", {"Filters": [{"Key": "dashboardName", "Values": [w.dashboard]}], "Limit": 100})
    board = next((d for d in boards.get("DashboardInfos") or [] if d.get("DashboardName") == w.dashboard), None)
    return found, board


def _same_alarm(live: Json, wanted: Json) -> bool:
    """The SDK's JSON of a reply carries every model field, unset ones as null: those are not differences."""
    keys = ("Condition", "TriggerCount", "AlarmPeriod", "MessageTemplate")
    target = (live.get("AlarmTargets") or [{}])[0]
    monitor = {k: v for k, v in (live.get("MonitorTime") or {}).items() if v is not None}
    return (all(live.get(k) == wanted.get(k) for k in keys) and monitor == wanted["MonitorTime"]
            and target.get("Query") == wanted["AlarmTargets"][0]["Query"] and target.get("TopicId") == wanted["AlarmTargets"][0]["TopicId"]
            and sorted(live.get("AlarmNoticeIds") or []) == sorted(wanted.get("AlarmNoticeIds") or []))


def steps(cloud: Cloud, w: Watch, region: str, function: Optional[Json], role: str) -> List[Step]:
    """The watching's steps, after the function's (it must exist to ship its logs); `function` is its
    live state (None when setup makes it), `role` its run role (SCF wants it with a Cls change)."""
    out: List[Step] = []
    given = _topic(cloud, w, None) if w.topic else None
    if w.topic and given is None:
        raise PlanError(f"no CLS topic {w.topic} in {region} (TOPIC=): leave TOPIC out and setup makes one")
    logset = _logset(cloud, Watch(w.function, w.namespace, given["LogsetId"])) if given else _logset(cloud, w)
    if w.logset and logset is None:
        raise PlanError(f"no CLS logset {w.logset} in {region} (LOGSET=): leave LOGSET out and setup makes one")
    logset_id: Any = logset["LogsetId"] if logset else Ref("cls_logset")
    if logset is None:
        out.append(Step(f"CLS logset {LOGSET}", "create", [], [Write("cls", "CreateLogset", {"LogsetName": LOGSET},
                                                                      saves=("LogsetId", "cls_logset"))]))
    else:
        out.append(Step(f"CLS logset {logset.get('LogsetName')} ({logset['LogsetId']})", "unchanged"))
    topic = given or _topic(cloud, w, logset["LogsetId"] if logset else None)
    if topic is not None:
        logset_id = topic["LogsetId"]
    topic_id: Any = topic["TopicId"] if topic else Ref("cls_topic")
    if topic is None:
        out.append(Step(f"CLS topic {w.function} (the function's logs)", "create", ["Period = 30 days"],
                        [Write("cls", "CreateTopic", {"LogsetId": logset_id, "TopicName": w.function, "Period": 30},
                               saves=("TopicId", "cls_topic"))]))
    else:
        out.append(Step(f"CLS topic {topic.get('TopicName')} ({topic['TopicId']})", "unchanged"))
    index = cloud.read("cls", "DescribeIndex", {"TopicId": topic["TopicId"]}) if topic else None
    if topic is None or not (index or {}).get("Rule"):
        out.append(Step("CLS index: SCF_Message analysed (SQL)", "create", [],
                        [Write("cls", "CreateIndex", {"TopicId": topic_id, "Rule": index_rule(), "Status": True})]))
    elif not _analysed(index):
        out.append(Step("CLS index", "unchanged", [f"kept: it has no {SQL_FIELD} with statistics; check says so"]))
    else:
        out.append(Step("CLS index: SCF_Message analysed (SQL)", "unchanged"))
    live = function or {}
    shipping = {"ClsLogsetId": logset_id, "ClsTopicId": topic_id}
    now = {"ClsLogsetId": live.get("ClsLogsetId") or "", "ClsTopicId": live.get("ClsTopicId") or ""}
    resource = f"log shipping of {w.function}"
    if topic is not None and now == shipping:
        out.append(Step(resource, "unchanged"))
    else:
        params = {"FunctionName": w.function, "Namespace": w.namespace, **shipping, "Role": live.get("Role") or role}
        out.append(Step(resource, "update" if live else "create", [f"ClsTopicId: {now['ClsTopicId'] or 'none'} -> the topic"],
                        [Write("scf", "UpdateFunctionConfiguration", params, waits_for_function=True)]))
    if w.notice and _first(cloud, "DescribeAlarmNotices", "AlarmNotices", [{"Key": "alarmNoticeId", "Values": [w.notice]}]) is None:
        raise PlanError(f"no CLS alarm notice {w.notice} (NOTICE=): make one in the CLS console (who is told, how) "
                        "and pass its id, or leave NOTICE out")
    found, board = _ours(cloud, w)
    for a in alarms(w.latency_seconds):
        wanted = _alarm_params(w, a, topic_id, logset_id)
        live_alarm = found.get(wanted["Name"])
        resource = f"CLS alarm {wanted['Name']}"
        if live_alarm is None:
            out.append(Step(resource, "create", [a.condition], [Write("cls", "CreateAlarm", wanted)]))
        elif topic is not None and _same_alarm(live_alarm, wanted):
            out.append(Step(resource, "unchanged"))
        else:
            out.append(Step(resource, "update", [f"made again: {a.condition}"],
                            [Write("cls", "DeleteAlarm", {"AlarmId": live_alarm["AlarmId"]}), Write("cls", "CreateAlarm", wanted)]))
    data = dashboard_data(topic_id, region)
    params = {"DashboardName": w.dashboard, "Data": JsonText(data)}
    same = board is not None and topic is not None and board.get("Data") == json.dumps(data, sort_keys=True)
    resource = f"CLS dashboard {w.dashboard} ({len(CHARTS)} charts)"
    if board is None:
        out.append(Step(resource, "create", list(CHARTS), [Write("cls", "CreateDashboard", params)]))
    elif same:
        out.append(Step(resource, "unchanged"))
    else:
        out.append(Step(resource, "update", ["made again"], [Write("cls", "DeleteDashboard", {"DashboardId": board["DashboardId"]}),
                                                             Write("cls", "CreateDashboard", params)]))
    return out


@dataclass(frozen=True)
class JsonText:
    """A parameter that is JSON text (a dashboard's `Data`) holding values known only once earlier
    writes answered (the new topic's id): apply resolves the refs, then this dumps it."""

    value: Any

    def resolve(self, resolve_refs: Any) -> str:
        return json.dumps(resolve_refs(self.value), sort_keys=True)

    def __repr__(self) -> str:
        return "<dashboard JSON>"


def notice_line(w: Watch) -> str:
    if w.notice:
        return f"alarms notify CLS alarm notice {w.notice}"
    return ("alarms are made without a notice: nobody is told yet. Make an alarm notice in the CLS console (who, "
            "how: email, SMS, WeCom, a webhook) and run make setup NOTICE=<its id>")


NAMES = ("cls_logs", "cls_index", "cls_alarms", "cls_notice", "cls_dashboard")
"""check's findings about the watching, in order (deploy/invariants.py lists them after its own)."""


def findings(cloud: Cloud, function: Optional[Json], w: Watch) -> List[Finding]:
    """check's part: log shipping, the index, the six alarms with their notice, the dashboard."""
    out: List[Finding] = []
    topic_id = (function or {}).get("ClsTopicId") or ""
    topic = _first(cloud, "DescribeTopics", "Topics", [{"Key": "topicId", "Values": [topic_id]}]) if topic_id else None
    out.append(Finding("cls_logs", topic is not None,
                       f"the function ships its logs to CLS topic {topic_id}" if topic else
                       ("the function ships its logs to no CLS topic" if not topic_id else f"CLS topic {topic_id} does not exist"),
                       "" if topic else "make setup (it makes the logset, the topic and the shipping)"))
    index = cloud.read("cls", "DescribeIndex", {"TopicId": topic_id}) if topic else None
    out.append(Finding("cls_index", _analysed(index),
                       f"{SQL_FIELD} is indexed with statistics" if _analysed(index) else
                       f"the topic has no key-value index on {SQL_FIELD} with statistics: no alarm or chart can run",
                       "" if _analysed(index) else f"add {SQL_FIELD} (text, statistics on) to the topic's index, or make setup on a topic without one"))
    found, board = _ours(cloud, w)
    missing = []
    silent = []
    for a in alarms(w.latency_seconds):
        wanted = _alarm_params(Watch(w.function, w.namespace, latency_seconds=w.latency_seconds), a, topic_id,
                                (topic or {}).get("LogsetId"))
        live = found.get(wanted["Name"])
        if live is None or not _same_alarm({**live, "AlarmNoticeIds": []}, wanted):
            missing.append(a.key)
        elif not live.get("AlarmNoticeIds"):
            silent.append(a.key)
    out.append(Finding("cls_alarms", not missing,
                       f"{len(alarms()) - len(missing)} of {len(alarms())} alarms in place"
                       + (f"; missing or changed: {', '.join(missing)}" if missing else ""), "" if not missing else "make setup"))
    # Silent alarms are not a violation: setup leaves the notice to the user on purpose (NOTICE=), and says so.
    out.append(Finding("cls_notice", not missing,
                       "see cls_alarms" if missing else "every alarm notifies a notice" if not silent else
                       f"{len(silent)} alarm(s) notify nobody yet: make an alarm notice in the CLS console and run "
                       "make setup NOTICE=<its id>", "make setup" if missing else ""))
    ok = board is not None and topic is not None and board.get("Data") == json.dumps(dashboard_data(topic_id, cloud.region), sort_keys=True)
    out.append(Finding("cls_dashboard", ok, f"dashboard {w.dashboard} with {len(CHARTS)} charts" if ok else
                       f"dashboard {w.dashboard} is missing or differs", "" if ok else "make setup"))
    return out


def teardown_steps(cloud: Cloud, w: Watch) -> Tuple[List[Step], List[str]]:
    found, board = _ours(cloud, w)
    out = [Step(f"CLS alarm {name}", "delete", [], [Write("cls", "DeleteAlarm", {"AlarmId": a["AlarmId"]})])
           for name, a in sorted(found.items())]
    if board is not None:
        out.append(Step(f"CLS dashboard {w.dashboard}", "delete", [],
                        [Write("cls", "DeleteDashboard", {"DashboardId": board["DashboardId"]})]))
    kept = [f"CLS logset {LOGSET} and topic {w.function}: they hold the function's logs (delete them in the CLS console)"]
    return out, kept
