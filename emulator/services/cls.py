"""CLS 2020-10-16 (the log service): what the function's watching uses, and the logs it searches.

Logsets, topics, indexes, alarms, alarm notices and dashboards, stateful per estate; `SearchLog`
runs a "search | SQL" statement over the lines a test ingested (:func:`ingest`, as SCF ships a
function's output: the line in `SCF_Message`, Tencent doc 583/40705), with DuckDB (emulator/cls_sql.py).

Behaviour sources (SDK cls 3.1.192 ``models.py`` docstrings and ``errorcodes.py``):
* ``CreateLogsetRequest.LogsetName`` at most 255 characters, no ``|``; ``CreateTopicRequest.TopicName``
  not empty, no ``|``; ``Period`` 1–3600 or 3640 (default 30, chosen); ``PartitionCount`` up to 10.
  Name conflicts: ``InvalidParameter.LogsetConflict``, ``InvalidParameter.TopicConflict`` (chosen: a
  topic name is unique within its logset), ``InvalidParameter.AlarmConflict``,
  ``InvalidParameter.AlarmNoticeConflict``, ``InvalidParameter.DashboardNameConflict``.
* Unknown ids: ``ResourceNotFound.LogsetNotExist``, ``.TopicNotExist``, ``.AlarmNotExist``,
  ``.AlarmNoticeNotExist``, ``.DashboardRecordNotExist``. A logset with topics cannot be deleted
  (``FailedOperation.LogsetNotEmpty``); a notice an alarm uses neither (``OperationDenied.NoticeHasAlarm``).
* ``CreateAlarmRequest``: ``AlarmTargets`` each with ``TopicId``, ``Query``, ``Number`` from 1,
  ``StartTimeOffset`` -1440..0 < ``EndTimeOffset`` ≤ 0; ``MonitorTime`` Period/Fixed with ``Time``
  1–1440, or Cron; ``TriggerCount`` 1–2000; ``AlarmPeriod`` 0–1440; ``Condition`` xor ``MultiConditions``;
  ``AlarmNoticeIds`` xor ``MonitorNotice``. A query this engine cannot run is refused with
  ``FailedOperation.InvalidAlarm`` (chosen: the console checks the statement when saving).
* ``CreateAlarmNoticeRequest.Type`` Trigger / Recovery / All (simple mode) or ``NoticeRules``.
* ``SearchLogRequest``: ``From``/``To`` Unix ms, [From, To); ``QueryString`` (CQL) or the deprecated
  ``Query``; ``UseNewAnalysis`` true → ``AnalysisRecords`` (JSON strings) and ``Columns``, else
  ``AnalysisResults`` and ``ColNames``. A syntax error is ``FailedOperation.SyntaxError``. Analysis
  needs the field analysed to have a key-value index with ``SqlFlag`` (CLS docs, "开启统计"): here, a
  topic without an index on ``SCF_Message`` with ``SqlFlag`` answers SQL with that error too.
* Describe* take ``Filters`` [{Key, Values}] and ``Offset``/``Limit`` (default 20, at most 100).
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional

from .. import cls_sql
from ..errors import INVALID_PARAMETER_VALUE, ApiError, missing
from .common import ActionSpec, Ctx, ServiceSpec, page, require

_ATTR = "_cls_slice"
SQL_FIELD = "SCF_Message"


def _now_text() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())


@dataclass
class Topic:
    topic_id: str
    logset_id: str
    name: str
    period: int
    partitions: int
    describes: str = ""
    index: Optional[Dict[str, Any]] = None
    create_time: str = field(default_factory=_now_text)
    rows: List[Dict[str, Any]] = field(default_factory=list, repr=False)


@dataclass
class Slice:
    logsets: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    topics: Dict[str, Topic] = field(default_factory=dict)
    alarms: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    notices: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    dashboards: Dict[str, Dict[str, Any]] = field(default_factory=dict)


def of(estate: Any) -> Slice:
    found = getattr(estate, _ATTR, None)
    if found is None:
        found = Slice()
        setattr(estate, _ATTR, found)
    return found


def ingest(estate: Any, topic_id: str, lines: Iterable[str], request_id: str = "", function: str = "") -> int:
    """Store a function's printed lines in a topic as SCF ships them: each line in `SCF_Message`, its
    time from the line's own `timestamp` (the function's JSON logs carry one) or now."""
    topic = of(estate).topics.get(topic_id)
    if topic is None:
        raise KeyError(topic_id)
    count = 0
    for line in lines:
        line = line.rstrip("\n")
        if not line:
            continue
        stamp = time.time()
        try:
            parsed = json.loads(line)
            if isinstance(parsed, dict) and isinstance(parsed.get("timestamp"), str):
                stamp = datetime.fromisoformat(parsed["timestamp"].replace("Z", "+00:00")).timestamp()
            rid = str(parsed.get("request_id") or request_id) if isinstance(parsed, dict) else request_id
        except ValueError:
            rid = request_id
        topic.rows.append({"__TIMESTAMP__": int(stamp * 1000), SQL_FIELD: line, "SCF_RequestId": rid,
                           "SCF_FunctionName": function})
        count += 1
    return count


# -- helpers -------------------------------------------------------------------------------------------
def _name(params: dict, key: str, limit: int = 255) -> str:
    value = require(params, key)
    if not isinstance(value, str) or "|" in value or len(value.encode()) > limit:
        raise ApiError(INVALID_PARAMETER_VALUE, f"`{key}` must be 1-{limit} bytes without '|', got {str(value)[:40]!r}.")
    return value


def _filters(params: dict, supported: set) -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = {}
    for i, f in enumerate(params.get("Filters") or []):
        key = f.get("Key")
        if not key:
            raise missing(f"Filters.{i}.Key")
        if key not in supported:
            raise ApiError("InvalidParameter", f"The filter `{key}` is not supported; supported: {', '.join(sorted(supported))}.")
        out.setdefault(key, []).extend(f.get("Values") or [])
    return out


def _matches(values: Dict[str, List[str]], key: str, actual: str, exact: bool = True) -> bool:
    if key not in values:
        return True
    return any((v == actual) if exact else (v in actual) for v in values[key])


def _topic(ctx: Ctx, params: dict) -> Topic:
    topic_id = require(params, "TopicId")
    topic = of(ctx.estate).topics.get(topic_id)
    if topic is None:
        raise ApiError("ResourceNotFound.TopicNotExist", f"The topic {topic_id} does not exist.")
    return topic


# -- logsets and topics --------------------------------------------------------------------------------
def create_logset(ctx: Ctx, params: dict) -> dict:
    name = _name(params, "LogsetName")
    state = of(ctx.estate)
    if any(s["LogsetName"] == name for s in state.logsets.values()):
        raise ApiError("InvalidParameter.LogsetConflict", f"A logset named {name} already exists.")
    logset_id = params.get("LogsetId") or str(uuid.UUID(int=ctx.rng.getrandbits(128)))
    state.logsets[logset_id] = {"LogsetId": logset_id, "LogsetName": name, "CreateTime": _now_text(),
                                "Tags": params.get("Tags") or []}
    return {"LogsetId": logset_id}


def describe_logsets(ctx: Ctx, params: dict) -> dict:
    state = of(ctx.estate)
    wanted = _filters(params, {"logsetName", "logsetId", "tagKey", "tag:tagKey"})
    found = [
        {**s, "TopicCount": sum(1 for t in state.topics.values() if t.logset_id == s["LogsetId"])}
        for s in state.logsets.values()
        if _matches(wanted, "logsetName", s["LogsetName"], exact=False) and _matches(wanted, "logsetId", s["LogsetId"])
    ]
    return {"TotalCount": len(found), "Logsets": page(found, params)}


def delete_logset(ctx: Ctx, params: dict) -> dict:
    logset_id = require(params, "LogsetId")
    state = of(ctx.estate)
    if logset_id not in state.logsets:
        raise ApiError("ResourceNotFound.LogsetNotExist", f"The logset {logset_id} does not exist.")
    if any(t.logset_id == logset_id for t in state.topics.values()):
        raise ApiError("FailedOperation.LogsetNotEmpty", f"The logset {logset_id} still has topics.")
    del state.logsets[logset_id]
    return {}


def create_topic(ctx: Ctx, params: dict) -> dict:
    logset_id = require(params, "LogsetId")
    name = _name(params, "TopicName")
    state = of(ctx.estate)
    if logset_id not in state.logsets:
        raise ApiError("ResourceNotFound.LogsetNotExist", f"The logset {logset_id} does not exist.")
    if any(t.logset_id == logset_id and t.name == name for t in state.topics.values()):
        raise ApiError("InvalidParameter.TopicConflict", f"A topic named {name} already exists in {logset_id}.")
    period = params.get("Period", 30)
    if not (1 <= period <= 3600 or period == 3640):
        raise ApiError(INVALID_PARAMETER_VALUE, f"`Period` must be 1-3600 or 3640, got {period}.")
    partitions = params.get("PartitionCount", 1)
    if not 1 <= partitions <= 10:
        raise ApiError(INVALID_PARAMETER_VALUE, f"`PartitionCount` must be 1-10, got {partitions}.")
    topic_id = params.get("TopicId") or str(uuid.UUID(int=ctx.rng.getrandbits(128)))
    state.topics[topic_id] = Topic(topic_id, logset_id, name, period, partitions, params.get("Describes") or "")
    return {"TopicId": topic_id}


def _topic_info(t: Topic) -> dict:
    return {"LogsetId": t.logset_id, "TopicId": t.topic_id, "TopicName": t.name, "PartitionCount": t.partitions,
            "Index": t.index is not None, "CreateTime": t.create_time, "Status": True, "Period": t.period,
            "StorageType": "hot", "Describes": t.describes, "BizType": 0}


def describe_topics(ctx: Ctx, params: dict) -> dict:
    wanted = _filters(params, {"topicName", "logsetName", "topicId", "logsetId", "tagKey", "tag:tagKey", "storageType"})
    precise = params.get("PreciseSearch") or 0
    state = of(ctx.estate)
    found = [
        _topic_info(t) for t in state.topics.values()
        if _matches(wanted, "topicName", t.name, exact=precise in (1, 3))
        and _matches(wanted, "topicId", t.topic_id) and _matches(wanted, "logsetId", t.logset_id)
        and _matches(wanted, "logsetName", state.logsets[t.logset_id]["LogsetName"], exact=precise in (2, 3))
    ]
    return {"TotalCount": len(found), "Topics": page(found, params)}


def delete_topic(ctx: Ctx, params: dict) -> dict:
    topic = _topic(ctx, params)
    del of(ctx.estate).topics[topic.topic_id]
    return {}


def create_index(ctx: Ctx, params: dict) -> dict:
    topic = _topic(ctx, params)
    rule = params.get("Rule")
    if not rule:
        raise missing("Rule")
    topic.index = {"Rule": rule, "Status": params.get("Status", True)}
    return {}


def describe_index(ctx: Ctx, params: dict) -> dict:
    topic = _topic(ctx, params)
    if topic.index is None:
        return {"TopicId": topic.topic_id, "Status": False}
    return {"TopicId": topic.topic_id, "Status": bool(topic.index["Status"]), "Rule": topic.index["Rule"],
            "ModifyTime": topic.create_time}


def _analysed(topic: Topic) -> bool:
    if topic.index is None or not topic.index["Status"]:
        return False
    pairs = ((topic.index["Rule"].get("KeyValue") or {}).get("KeyValues")) or []
    return any(p.get("Key") == SQL_FIELD and (p.get("Value") or {}).get("SqlFlag") for p in pairs)


# -- search --------------------------------------------------------------------------------------------
def search_log(ctx: Ctx, params: dict) -> dict:
    topic = _topic(ctx, params)
    statement = params.get("QueryString") or params.get("Query")
    if not statement:
        raise missing("QueryString")
    start, end = require(params, "From"), require(params, "To")
    if start >= end:
        raise ApiError(INVALID_PARAMETER_VALUE, "`From` must be earlier than `To`.")
    rows = [r for r in topic.rows if start <= r["__TIMESTAMP__"] < end]
    if "|" not in statement:
        if statement.strip() != "*":
            raise ApiError("FailedOperation.SyntaxError", "only `*` searches are emulated")
        results = [{"Time": r["__TIMESTAMP__"], "TopicId": topic.topic_id, "TopicName": topic.name,
                    "LogJson": json.dumps({k: v for k, v in r.items() if k != "__TIMESTAMP__"})}
                   for r in sorted(rows, key=lambda r: r["__TIMESTAMP__"], reverse=params.get("Sort") != "asc")]
        limit = params.get("Limit") or 100
        return {"Context": "", "ListOver": len(results) <= limit, "Analysis": False, "Results": results[:limit]}
    if not _analysed(topic):
        raise ApiError("FailedOperation.SyntaxError",
                       f"SQL needs a key-value index with statistics (SqlFlag) on {SQL_FIELD} in topic {topic.topic_id}.")
    try:
        records = cls_sql.run(rows, statement)
    except cls_sql.QueryError as exc:
        raise ApiError("FailedOperation.SyntaxError", str(exc)[:300]) from None
    names = list(records[0]) if records else []
    as_text = [{k: _text(v) for k, v in r.items()} for r in records]
    answer: Dict[str, Any] = {"Context": "", "ListOver": True, "Analysis": True, "SamplingRate": 1.0}
    if params.get("UseNewAnalysis"):
        answer["AnalysisRecords"] = [json.dumps(r) for r in as_text]
        answer["Columns"] = [{"Name": n, "Type": "varchar"} for n in names]
    else:
        answer["ColNames"] = names
        answer["AnalysisResults"] = [{"Data": [{"Key": k, "Value": v} for k, v in r.items()]} for r in as_text]
    return answer


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


# -- alarms, notices, dashboards -----------------------------------------------------------------------
def _check_targets(ctx: Ctx, targets: List[dict]) -> None:
    if not targets:
        raise missing("AlarmTargets")
    for i, t in enumerate(targets):
        _topic(ctx, {"TopicId": t.get("TopicId")})
        query = t.get("Query")
        if not query:
            raise missing(f"AlarmTargets.{i}.Query")
        if t.get("Number") != i + 1:
            raise ApiError(INVALID_PARAMETER_VALUE, f"`AlarmTargets.{i}.Number` must be {i + 1}.")
        start, end = t.get("StartTimeOffset"), t.get("EndTimeOffset")
        if start is None or end is None or not -1440 <= start < end <= 0:
            raise ApiError(INVALID_PARAMETER_VALUE, f"`AlarmTargets.{i}`: need -1440 <= StartTimeOffset < EndTimeOffset <= 0.")
        try:
            cls_sql.to_duckdb(cls_sql.split(query)[1])
        except cls_sql.QueryError as exc:
            raise ApiError("FailedOperation.InvalidAlarm", f"AlarmTargets.{i}.Query: {exc}") from None


def _check_alarm(ctx: Ctx, params: dict) -> None:
    monitor = params.get("MonitorTime")
    if not monitor:
        raise missing("MonitorTime")
    if monitor.get("Type") in ("Period", "Fixed"):
        if not 1 <= (monitor.get("Time") or 0) <= 1440:
            raise ApiError(INVALID_PARAMETER_VALUE, "`MonitorTime.Time` must be 1-1440 minutes.")
    elif monitor.get("Type") != "Cron" or not monitor.get("CronExpression"):
        raise ApiError(INVALID_PARAMETER_VALUE, "`MonitorTime.Type` must be Period, Fixed or Cron (with CronExpression).")
    if bool(params.get("Condition")) == bool(params.get("MultiConditions")):
        raise ApiError(INVALID_PARAMETER_VALUE, "Exactly one of `Condition` and `MultiConditions` is required.")
    if not 1 <= params.get("TriggerCount", 0) <= 2000:
        raise ApiError(INVALID_PARAMETER_VALUE, "`TriggerCount` must be 1-2000.")
    if not 0 <= params.get("AlarmPeriod", -1) <= 1440:
        raise ApiError(INVALID_PARAMETER_VALUE, "`AlarmPeriod` must be 0-1440 minutes.")
    notices = params.get("AlarmNoticeIds") or []
    if notices and params.get("MonitorNotice"):
        raise ApiError(INVALID_PARAMETER_VALUE, "`AlarmNoticeIds` and `MonitorNotice` cannot be used together.")
    for notice_id in notices:
        if notice_id not in of(ctx.estate).notices:
            raise ApiError("ResourceNotFound.AlarmNoticeNotExist", f"The alarm notice {notice_id} does not exist.")


def create_alarm(ctx: Ctx, params: dict) -> dict:
    name = _name(params, "Name")
    state = of(ctx.estate)
    if any(a["Name"] == name for a in state.alarms.values()):
        raise ApiError("InvalidParameter.AlarmConflict", f"An alarm named {name} already exists.")
    _check_targets(ctx, params.get("AlarmTargets") or [])
    _check_alarm(ctx, params)
    alarm_id = f"alarm-{uuid.UUID(int=ctx.rng.getrandbits(128))}"
    now = _now_text()
    state.alarms[alarm_id] = {
        "Name": name, "AlarmId": alarm_id, "CreateTime": now, "UpdateTime": now, "Status": params.get("Status", True),
        "AlarmTargets": [{k: t.get(k) for k in ("TopicId", "Query", "Number", "StartTimeOffset", "EndTimeOffset",
                                                "LogsetId", "SyntaxRule") if t.get(k) is not None}
                         for t in params["AlarmTargets"]],
        **{k: params[k] for k in ("MonitorTime", "Condition", "TriggerCount", "AlarmPeriod", "AlarmNoticeIds",
                                  "MessageTemplate", "AlarmLevel", "MultiConditions", "Tags") if params.get(k) is not None},
    }
    return {"AlarmId": alarm_id}


def describe_alarms(ctx: Ctx, params: dict) -> dict:
    wanted = _filters(params, {"name", "alarmId", "topicId", "enable", "tagKey", "tag:tagKey", "monitorObjectType"})
    found = [a for a in of(ctx.estate).alarms.values()
             if _matches(wanted, "name", a["Name"], exact=False) and _matches(wanted, "alarmId", a["AlarmId"])
             and ("topicId" not in wanted or any(t["TopicId"] in wanted["topicId"] for t in a["AlarmTargets"]))]
    return {"TotalCount": len(found), "Alarms": page(found, params)}


def delete_alarm(ctx: Ctx, params: dict) -> dict:
    alarm_id = require(params, "AlarmId")
    if of(ctx.estate).alarms.pop(alarm_id, None) is None:
        raise ApiError("ResourceNotFound.AlarmNotExist", f"The alarm {alarm_id} does not exist.")
    return {}


def create_alarm_notice(ctx: Ctx, params: dict) -> dict:
    name = _name(params, "Name")
    state = of(ctx.estate)
    if any(n["Name"] == name for n in state.notices.values()):
        raise ApiError("InvalidParameter.AlarmNoticeConflict", f"An alarm notice named {name} already exists.")
    simple = params.get("NoticeReceivers") or params.get("WebCallbacks")
    if params.get("NoticeRules"):
        if simple or params.get("Type"):
            raise ApiError(INVALID_PARAMETER_VALUE, "Simple mode (Type, NoticeReceivers, WebCallbacks) and NoticeRules exclude each other.")
    else:
        if params.get("Type") not in ("Trigger", "Recovery", "All"):
            raise ApiError(INVALID_PARAMETER_VALUE, "`Type` must be Trigger, Recovery or All.")
        if not simple:
            raise missing("NoticeReceivers")
    notice_id = f"notice-{uuid.UUID(int=ctx.rng.getrandbits(128))}"
    now = _now_text()
    state.notices[notice_id] = {
        "Name": name, "AlarmNoticeId": notice_id, "CreateTime": now, "UpdateTime": now,
        **{k: params[k] for k in ("Type", "NoticeReceivers", "WebCallbacks", "NoticeRules", "Tags") if params.get(k)},
    }
    return {"AlarmNoticeId": notice_id}


def describe_alarm_notices(ctx: Ctx, params: dict) -> dict:
    wanted = _filters(params, {"name", "alarmNoticeId", "uid", "groupId", "deliverFlag", "tagKey", "tag:tagKey"})
    found = [n for n in of(ctx.estate).notices.values()
             if _matches(wanted, "name", n["Name"], exact=False) and _matches(wanted, "alarmNoticeId", n["AlarmNoticeId"])]
    return {"TotalCount": len(found), "AlarmNotices": page(found, params)}


def delete_alarm_notice(ctx: Ctx, params: dict) -> dict:
    notice_id = require(params, "AlarmNoticeId")
    state = of(ctx.estate)
    if notice_id not in state.notices:
        raise ApiError("ResourceNotFound.AlarmNoticeNotExist", f"The alarm notice {notice_id} does not exist.")
    if any(notice_id in (a.get("AlarmNoticeIds") or []) for a in state.alarms.values()):
        raise ApiError("OperationDenied.NoticeHasAlarm", f"The alarm notice {notice_id} is used by an alarm.")
    del state.notices[notice_id]
    return {}


def create_dashboard(ctx: Ctx, params: dict) -> dict:
    name = _name(params, "DashboardName")
    state = of(ctx.estate)
    if any(d["DashboardName"] == name for d in state.dashboards.values()):
        raise ApiError("InvalidParameter.DashboardNameConflict", f"A dashboard named {name} already exists.")
    data = params.get("Data") or ""
    try:
        json.loads(data) if data else None
    except ValueError:
        raise ApiError(INVALID_PARAMETER_VALUE, "`Data` must be JSON.") from None
    dashboard_id = f"dashboard-{uuid.UUID(int=ctx.rng.getrandbits(128))}"
    now = _now_text()
    state.dashboards[dashboard_id] = {"DashboardId": dashboard_id, "DashboardName": name, "Data": data,
                                      "CreateTime": now, "UpdateTime": now, "DashboardRegion": ctx.region,
                                      "Tags": params.get("Tags") or []}
    return {"DashboardId": dashboard_id}


def describe_dashboards(ctx: Ctx, params: dict) -> dict:
    wanted = _filters(params, {"dashboardId", "dashboardName", "dashboardRegion", "tagKey", "tag:tagKey"})
    found = [d for d in of(ctx.estate).dashboards.values()
             if _matches(wanted, "dashboardId", d["DashboardId"]) and _matches(wanted, "dashboardName", d["DashboardName"], exact=False)]
    return {"TotalCount": len(found), "DashboardInfos": page(found, params)}


def delete_dashboard(ctx: Ctx, params: dict) -> dict:
    dashboard_id = require(params, "DashboardId")
    if of(ctx.estate).dashboards.pop(dashboard_id, None) is None:
        raise ApiError("ResourceNotFound.DashboardRecordNotExist", f"The dashboard {dashboard_id} does not exist.")
    return {}


_WRITES = {
    "CreateLogset": create_logset, "DeleteLogset": delete_logset, "CreateTopic": create_topic, "DeleteTopic": delete_topic,
    "CreateIndex": create_index, "CreateAlarm": create_alarm, "DeleteAlarm": delete_alarm,
    "CreateAlarmNotice": create_alarm_notice, "DeleteAlarmNotice": delete_alarm_notice,
    "CreateDashboard": create_dashboard, "DeleteDashboard": delete_dashboard,
}
_READS = {
    "DescribeLogsets": describe_logsets, "DescribeTopics": describe_topics, "DescribeIndex": describe_index,
    "SearchLog": search_log, "DescribeAlarms": describe_alarms, "DescribeAlarmNotices": describe_alarm_notices,
    "DescribeDashboards": describe_dashboards,
}

SERVICE = ServiceSpec(
    name="cls",
    version="2020-10-16",
    models="tencentcloud.cls.v20201016.models",
    actions={**{k: ActionSpec(v, write=True) for k, v in _WRITES.items()}, **{k: ActionSpec(v) for k, v in _READS.items()}},
)
