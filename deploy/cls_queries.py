"""The CLS queries behind every alarm and chart of the function's watching (docs/metrics.md, docs/alarms.md).

SCF ships what the function prints to its CLS topic with the line in the field `SCF_Message` (Tencent
doc 583/40705, "Custom Log Fields"), so every query reads the function's JSON with
`json_extract_scalar(SCF_Message, '$.field')` (CLS JSON functions, doc 614/78970). Breakdowns whose
keys are not known in advance are JSON objects, expanded with `CAST(json_extract(...) AS map(...))`
and `CROSS JOIN UNNEST(m) AS t(key, value)` (CLS UNNEST syntax, doc 614/72804). Time buckets use CLS's
`histogram(__TIMESTAMP__, interval N minute)` (doc 614/41989).

Each query is a CLS "search | SQL" statement, as `CreateAlarm`'s `AlarmTargets[].Query` and a dashboard
chart take it. The tests run every one of them, unchanged but for the dialect shim of
emulator/cls_sql.py, over real runs' log lines and check the figure each returns.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict


def _field(name: str, kind: str = "bigint") -> str:
    return f"CAST(json_extract_scalar(SCF_Message, '$.{name}') AS {kind})"


DECISION = "json_extract_scalar(SCF_Message, '$.decision')"
METRICS = f"{DECISION} = 'metrics'"
BUCKET = "histogram(__TIMESTAMP__, interval 5 minute)"


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    text: str
    unit: str


def _sum(field: str, alias: str = "") -> str:
    return f"sum({_field(field)}) AS {alias or field}"


QUERIES: Dict[str, Query] = {q.name: q for q in (
    # -- charts ----------------------------------------------------------------------------------------
    Query("instances_by_outcome", "Instances by outcome",
          f"* | SELECT {BUCKET} AS time, {_sum('instances_unbound', 'unbound')}, {_sum('instances_not_bound', 'not_bound')}, "
          f"{_sum('instances_incomplete', 'incomplete')}, {_sum('instances_refused', 'refused')}, "
          f"{_sum('instances_planned', 'planned')} WHERE {METRICS} GROUP BY time ORDER BY time",
          "instances per 5 minutes"),
    Query("hook_latency", "Hook latency (notification to completion)",
          f"* | SELECT time, max(seconds) AS max_seconds, approx_percentile(seconds, 0.95) AS p95_seconds FROM "
          f"(SELECT {BUCKET} AS time, CAST(json_extract(SCF_Message, '$.hook_latency_seconds') AS map(varchar, double)) AS m "
          f"WHERE {METRICS}) CROSS JOIN UNNEST(m) AS t(instance, seconds) GROUP BY time ORDER BY time",
          "seconds"),
    Query("api_errors_by_code", "API errors by code",
          f"* | SELECT time, code, sum(n) AS errors FROM "
          f"(SELECT {BUCKET} AS time, CAST(json_extract(SCF_Message, '$.api_errors_by_code') AS map(varchar, bigint)) AS m "
          f"WHERE {METRICS}) CROSS JOIN UNNEST(m) AS t(code, n) GROUP BY time, code ORDER BY time, code",
          "failed attempts per 5 minutes"),
    Query("api_calls_by_action", "API calls by action",
          f"* | SELECT action, sum(n) AS calls FROM "
          f"(SELECT CAST(json_extract(SCF_Message, '$.api_calls_by_action') AS map(varchar, bigint)) AS m WHERE {METRICS}) "
          f"CROSS JOIN UNNEST(m) AS t(action, n) GROUP BY action ORDER BY calls DESC",
          "calls in the period"),
    Query("queue", "Queue: received, deleted, kept",
          f"* | SELECT {BUCKET} AS time, {_sum('queue_received', 'received')}, {_sum('queue_deleted', 'deleted')}, "
          f"{_sum('queue_kept', 'kept')} WHERE {METRICS} GROUP BY time ORDER BY time",
          "messages per 5 minutes"),
    Query("dead_letters_by_reason", "Dead letters by reason",
          f"* | SELECT time, reason, sum(n) AS dead_letters FROM "
          f"(SELECT {BUCKET} AS time, CAST(json_extract(SCF_Message, '$.dead_letters_by_reason') AS map(varchar, bigint)) AS m "
          f"WHERE {METRICS}) CROSS JOIN UNNEST(m) AS t(reason, n) GROUP BY time, reason ORDER BY time, reason",
          "dead letters per 5 minutes"),
    # -- alarms: one row, one figure; the alarm's condition compares it ---------------------------------
    Query("dead_letters", "Dead letters sent",
          f"* | SELECT COALESCE(sum({_field('dead_letters')}), 0) AS dead_letters WHERE {METRICS}",
          "dead letters in the period"),
    Query("misconfigured", "Misconfigured runs",
          f"* | SELECT count(*) AS misconfigured WHERE {DECISION} = 'misconfigured'",
          "runs in the period"),
    Query("run_failures", "Receives, sweeps and hook audits that failed",
          f"* | SELECT count(*) AS failures WHERE {DECISION} IN ('sweep_failed', 'receive_failed', 'audit_failed')",
          "failures in the period"),
    Query("audit_findings", "Hook audit findings",
          f"* | SELECT count(*) AS findings WHERE {DECISION} = 'audit'",
          "findings in the period"),
    Query("timer_summaries", "Timer runs that finished",
          f"* | SELECT count(*) AS summaries WHERE {DECISION} = 'summary' "
          f"AND json_extract_scalar(SCF_Message, '$.trigger') = 'timer'",
          "runs in the period"),
    Query("hook_latency_max", "Longest hook latency",
          f"* | SELECT COALESCE(max({_field('hook_latency_max_seconds', 'double')}), 0) AS hook_latency_max_seconds "
          f"WHERE {METRICS}",
          "seconds"),
)}
