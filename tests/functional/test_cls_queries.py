"""Every documented CLS query returns, over real runs' log lines, the figure the lines hold (issue 20 point 4).

The function runs against the emulator; its printed lines are shipped to an emulated CLS topic as SCF
ships them (the line in `SCF_Message`); each query of deploy/cls_queries.py is sent with the
unmodified SDK's `SearchLog`, and its answer is compared with the same figure added up in Python from
the metrics and decision lines themselves.
"""
from __future__ import annotations

import json
import time
from typing import Any, Callable, Dict, List

import pytest

from bench.estates import DEAD_LETTER_QUEUE, LIFECYCLE_QUEUE, Shape, fleet_estate, group_id, leaving_id
from deploy.cls_queries import QUERIES
from tests.conftest import load_event
from tests.estates import send_to_queue

TIMER = load_event("timer.json")


def cls_client(emu: Any) -> Any:
    from tencentcloud.cls.v20201016 import cls_client as module
    from tencentcloud.common.credential import Credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    secret_id, secret_key, token = emu.credentials
    http = HttpProfile(endpoint=emu.host_port)
    http.scheme = "http"
    return module.ClsClient(Credential(secret_id, secret_key, token), "ap-guangzhou", ClientProfile(httpProfile=http))


def call(client: Any, action: str, params: Dict[str, Any]) -> Dict[str, Any]:
    from tencentcloud.cls.v20201016 import models

    req = getattr(models, f"{action}Request")()
    req.from_json_string(json.dumps(params))
    return json.loads(getattr(client, action)(req).to_json_string())


def make_topic(client: Any) -> str:
    logset = call(client, "CreateLogset", {"LogsetName": "clb-unbind"})["LogsetId"]
    topic = call(client, "CreateTopic", {"LogsetId": logset, "TopicName": "clb-unbind"})["TopicId"]
    call(client, "CreateIndex", {"TopicId": topic, "Rule": {"KeyValue": {"CaseSensitive": False, "KeyValues": [
        {"Key": "SCF_Message", "Value": {"Type": "text", "Tokenizer": "@&?|#()='\",;:<>[]{}/ \n\t\r", "SqlFlag": True}}]}}})
    return topic


def search(client: Any, topic: str, statement: str) -> List[Dict[str, Any]]:
    now = int(time.time() * 1000)
    answer = call(client, "SearchLog", {"TopicId": topic, "From": now - 3_600_000, "To": now + 60_000,
                                        "QueryString": statement, "UseNewAnalysis": True})
    assert answer["Analysis"] is True
    return [json.loads(r) for r in answer["AnalysisRecords"]]


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: Any) -> Any:
    """Five runs of the function (a busy timer run, one with a load balancer refusing writes, a
    misconfigured one, one whose queue is gone, a direct call), their lines shipped to one topic."""
    import io
    import sys

    from emulator import Emulator, Knobs

    from tests.conftest import ROOT  # noqa: F401  (puts handler/ on sys.path)

    emu = Emulator(fleet_estate(Shape(leaving=40, load_balancers=5, bound_on=4), 2, 1), knobs=Knobs(task_seconds=0.02))
    emu.start()
    secret_id, secret_key, _ = emu.credentials
    base = {"TENCENTCLOUD_SECRETID": secret_id, "TENCENTCLOUD_SECRETKEY": secret_key, "TENCENTCLOUD_REGION": "ap-guangzhou",
            "CLB_UNBIND_ENDPOINT": emu.endpoint, "CLB_UNBIND_TASK_POLL_SECONDS": "0.02"}
    timer_env = {**base, "CLB_UNBIND_QUEUE": LIFECYCLE_QUEUE, "CLB_UNBIND_DEAD_LETTER_QUEUE": DEAD_LETTER_QUEUE,
                 "CLB_UNBIND_POLL_SECONDS": "0", "CLB_UNBIND_GROUPS": group_id(0)}
    from clb_unbind.app import handle

    out = io.StringIO()
    real = sys.stdout

    def run(event: Any, env: Dict[str, str]) -> None:
        sys.stdout = out
        try:
            handle(event, {"request_id": f"req-{time.monotonic_ns()}", "time_limit_in_ms": 30000}, env)
        except Exception:
            pass
        finally:
            sys.stdout = real

    emu.scale_in(group_id(0), [leaving_id(i) for i in range(6)], publish=True)
    emu.scale_in(group_id(0), [leaving_id(i) for i in range(6, 8)], publish=False)
    send_to_queue(emu, LIFECYCLE_QUEUE, "not json")
    run(TIMER, timer_env)
    emu.scale_in(group_id(0), [leaving_id(8)], publish=True)
    emu.set_knobs(busy_rate=1.0, fault_actions=["BatchDeregisterTargets"], seed=5)
    run(TIMER, {**timer_env, "CLB_UNBIND_GROUPS": ""})
    emu.set_knobs(busy_rate=0.0, fault_actions=[])
    run(TIMER, base)
    run(TIMER, {**timer_env, "CLB_UNBIND_QUEUE": "no-such-queue", "CLB_UNBIND_GROUPS": ""})
    run({"instanceIds": [leaving_id(20)], "dryRun": False}, base)
    client = cls_client(emu)
    topic = make_topic(client)
    lines = [line for line in out.getvalue().splitlines() if line.startswith("{")]
    emu.ship_logs(topic, lines, function="clb-unbind")
    yield client, topic, [json.loads(line) for line in lines]
    emu.stop()


def metrics(lines: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [m for m in lines if m.get("decision") == "metrics"]


def total(rows: List[Dict[str, Any]], column: str) -> float:
    return sum(float(r[column] or 0) for r in rows)


def per_key(lines: List[Dict[str, Any]], field: str) -> Dict[str, int]:
    out: Dict[str, int] = {}
    for m in metrics(lines):
        for key, n in m[field].items():
            out[key] = out.get(key, 0) + n
    return out


def test_the_runs_cover_every_figure(shipped: Any) -> None:
    _, _, lines = shipped
    assert len(metrics(lines)) == 5
    assert sum(m["dead_letters"] for m in metrics(lines)) >= 1
    assert sum(m["api_errors"] for m in metrics(lines)) >= 1
    assert sum(m["instances_incomplete"] for m in metrics(lines)) >= 1


def test_instances_by_outcome(shipped: Any) -> None:
    client, topic, lines = shipped
    rows = search(client, topic, QUERIES["instances_by_outcome"].text)
    for column, field in (("unbound", "instances_unbound"), ("not_bound", "instances_not_bound"),
                          ("incomplete", "instances_incomplete"), ("refused", "instances_refused"), ("planned", "instances_planned")):
        assert total(rows, column) == sum(m[field] for m in metrics(lines)), column
    assert total(rows, "unbound") >= 9


def test_hook_latency(shipped: Any) -> None:
    client, topic, lines = shipped
    rows = search(client, topic, QUERIES["hook_latency"].text)
    every = [s for m in metrics(lines) for s in m["hook_latency_seconds"].values()]
    assert len(every) >= 6
    assert max(float(r["max_seconds"]) for r in rows) == pytest.approx(max(every))
    assert all(float(r["p95_seconds"]) <= float(r["max_seconds"]) for r in rows)


def test_hook_latency_max(shipped: Any) -> None:
    client, topic, lines = shipped
    rows = search(client, topic, QUERIES["hook_latency_max"].text)
    assert float(rows[0]["hook_latency_max_seconds"]) == pytest.approx(
        max(m["hook_latency_max_seconds"] for m in metrics(lines) if m["hook_latency_max_seconds"] is not None))


def test_api_errors_by_code(shipped: Any) -> None:
    client, topic, lines = shipped
    rows = search(client, topic, QUERIES["api_errors_by_code"].text)
    found: Dict[str, float] = {}
    for r in rows:
        found[r["code"]] = found.get(r["code"], 0) + float(r["errors"])
    assert found == per_key(lines, "api_errors_by_code") and found


def test_api_calls_by_action(shipped: Any) -> None:
    client, topic, lines = shipped
    rows = search(client, topic, QUERIES["api_calls_by_action"].text)
    assert {r["action"]: float(r["calls"]) for r in rows} == per_key(lines, "api_calls_by_action")


def test_queue(shipped: Any) -> None:
    client, topic, lines = shipped
    rows = search(client, topic, QUERIES["queue"].text)
    for column in ("received", "deleted", "kept"):
        assert total(rows, column) == sum(m[f"queue_{column}"] for m in metrics(lines))
    assert total(rows, "received") >= 8


def test_dead_letters_by_reason(shipped: Any) -> None:
    client, topic, lines = shipped
    rows = search(client, topic, QUERIES["dead_letters_by_reason"].text)
    found: Dict[str, float] = {}
    for r in rows:
        found[r["reason"]] = found.get(r["reason"], 0) + float(r["dead_letters"])
    assert found == per_key(lines, "dead_letters_by_reason") and "refused_input" in found


def test_dead_letters(shipped: Any) -> None:
    client, topic, lines = shipped
    rows = search(client, topic, QUERIES["dead_letters"].text)
    assert float(rows[0]["dead_letters"]) == sum(m["dead_letters"] for m in metrics(lines)) >= 1


def decisions(lines: List[Dict[str, Any]], *names: str) -> int:
    return sum(1 for line in lines if line.get("decision") in names)


def test_misconfigured(shipped: Any) -> None:
    client, topic, lines = shipped
    rows = search(client, topic, QUERIES["misconfigured"].text)
    assert float(rows[0]["misconfigured"]) == decisions(lines, "misconfigured") == 1


def test_run_failures(shipped: Any) -> None:
    client, topic, lines = shipped
    rows = search(client, topic, QUERIES["run_failures"].text)
    assert float(rows[0]["failures"]) == decisions(lines, "sweep_failed", "receive_failed", "audit_failed") >= 1


def test_audit_findings(shipped: Any) -> None:
    client, topic, lines = shipped
    rows = search(client, topic, QUERIES["audit_findings"].text)
    assert float(rows[0]["findings"]) == decisions(lines, "audit")


def test_timer_summaries(shipped: Any) -> None:
    client, topic, lines = shipped
    rows = search(client, topic, QUERIES["timer_summaries"].text)
    timers = sum(1 for line in lines if line.get("decision") == "summary" and line.get("trigger") == "timer")
    assert float(rows[0]["summaries"]) == timers >= 2


def test_every_query_has_a_test() -> None:
    tested = {name[len("test_"):] for name in globals() if name.startswith("test_")}
    assert set(QUERIES) <= tested


def test_sql_needs_an_analysed_field(make_emulator: Callable[..., Any]) -> None:
    """CLS analyses only fields indexed with statistics: a topic without one refuses SQL."""
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

    emu = make_emulator()
    client = cls_client(emu)
    logset = call(client, "CreateLogset", {"LogsetName": "bare"})["LogsetId"]
    topic = call(client, "CreateTopic", {"LogsetId": logset, "TopicName": "bare"})["TopicId"]
    with pytest.raises(TencentCloudSDKException) as caught:
        search(client, topic, QUERIES["dead_letters"].text)
    assert caught.value.get_code() == "FailedOperation.SyntaxError"


def test_the_docs_show_each_query_as_it_runs() -> None:
    from tests.conftest import ROOT

    docs = (ROOT / "docs" / "metrics.md").read_text() + (ROOT / "docs" / "alarms.md").read_text()
    assert [name for name, q in QUERIES.items() if q.text not in docs] == []
