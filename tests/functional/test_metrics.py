"""Every run ends with one `metrics` line whose figures match what the run did (issue 20, docs/metrics.md)."""
from __future__ import annotations

import json
from typing import Any, Callable, Dict, List

import pytest

from bench.estates import DEAD_LETTER_QUEUE, LIFECYCLE_QUEUE, Shape, fleet_estate, group_id, leaving_id
from tests.conftest import load_event, point_function_at
from tests.estates import send_to_queue

TIMER = load_event("timer.json")
FIELDS = {
    "metrics_version", "trigger", "run_seconds", "instances", "instances_unbound", "instances_not_bound",
    "instances_planned", "instances_incomplete", "instances_refused", "lifecycle_completed",
    "hook_latency_max_seconds", "hook_latency_seconds", "api_calls", "api_errors", "api_calls_by_action",
    "api_errors_by_code", "api_errors_by_action_code", "dead_letters", "dead_letters_by_reason", "retries_queued",
    "reconciled", "sweep_waiting", "drain_seconds", "queue_passes", "queue_received", "queue_deleted", "queue_kept",
    "queue_stopped", "audit_findings", "errors", "errors_by_decision", "summary_logged",
}


def lines(out: str) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def metrics_lines(out: str) -> List[Dict[str, Any]]:
    return [line for line in lines(out) if line.get("decision") == "metrics"]


@pytest.fixture
def fleet(make_emulator: Callable[..., Any], function_env: Dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    return point_function_at(make_emulator(fleet_estate(Shape(leaving=40, load_balancers=5, bound_on=4), 2, 1)), monkeypatch)


def timer(invoke: Any, **extra: str) -> Dict[str, Any]:
    env = {"CLB_UNBIND_QUEUE": LIFECYCLE_QUEUE, "CLB_UNBIND_DEAD_LETTER_QUEUE": DEAD_LETTER_QUEUE,
           "CLB_UNBIND_POLL_SECONDS": "0", "CLB_UNBIND_GROUPS": group_id(0), **extra}
    return invoke(TIMER, **env)


def test_a_timer_run_ends_with_one_metrics_line_that_adds_up(fleet: Any, invoke: Any, capsys: Any) -> None:
    notified = [leaving_id(i) for i in range(6)]
    lost = [leaving_id(i) for i in range(6, 8)]
    fleet.scale_in(group_id(0), notified, publish=True)
    fleet.scale_in(group_id(0), lost, publish=False)
    send_to_queue(fleet, LIFECYCLE_QUEUE, "not json")
    answer = timer(invoke)
    out = capsys.readouterr().out
    found = metrics_lines(out)
    assert len(found) == 1
    m = found[0]
    assert lines(out)[-1] is not None and lines(out)[-1]["decision"] == "metrics"
    assert set(m) >= FIELDS
    assert m["trigger"] == "timer" and m["summary_logged"] is True
    assert m["instances_unbound"] == 8 and m["instances"] == 8
    assert m["lifecycle_completed"] == 8
    assert m["reconciled"] == 2
    # Latency counts from the notification's Time: the two reconciled instances had none.
    assert sorted(m["hook_latency_seconds"]) == sorted(notified)
    assert m["hook_latency_max_seconds"] == max(m["hook_latency_seconds"].values())
    assert m["queue_received"] == 7 and m["queue_deleted"] == 7 and m["queue_kept"] == 0
    assert m["queue_stopped"] == "queue_empty"
    assert m["dead_letters_by_reason"] == {"refused_input": 1} and m["dead_letters"] == 1
    assert m["api_calls_by_action"] == answer["apiCalls"]
    assert m["api_calls"] == sum(answer["apiCalls"].values())
    assert m["api_errors"] == 0 and m["errors"] == 0


def test_failed_attempts_are_counted_by_action_and_code(fleet: Any, invoke: Any, capsys: Any) -> None:
    fleet.scale_in(group_id(0), [leaving_id(0)], publish=True)
    fleet.set_knobs(busy_rate=1.0, fault_actions=["BatchDeregisterTargets"], seed=3)
    timer(invoke, CLB_UNBIND_GROUPS="")
    m = metrics_lines(capsys.readouterr().out)[0]
    busy = {k: v for k, v in m["api_errors_by_action_code"].items() if k.startswith("clb:BatchDeregisterTargets ")}
    assert busy and sum(busy.values()) == m["api_errors"]
    assert sum(m["api_errors_by_code"].values()) == m["api_errors"]
    assert m["instances_incomplete"] == 1 and m["retries_queued"] == 1


def test_every_trigger_and_every_ending_writes_the_line(emulator: Any, invoke: Any, capsys: Any) -> None:
    invoke(load_event("direct.json"))
    invoke(TIMER)  # no CLB_UNBIND_QUEUE: misconfigured, nothing done
    invoke(load_event("direct.json"), CLB_UNBIND_LOG_LEVEL="ERROR")
    found = metrics_lines(capsys.readouterr().out)
    assert [m["trigger"] for m in found] == ["direct", "timer", "direct"]
    assert found[1]["errors_by_decision"] == {"misconfigured": 1}
    assert all(set(m) >= FIELDS for m in found)
    assert found[0]["instances_unbound"] >= 1 and found[0]["queue_received"] == 0


def test_the_line_is_small(fleet: Any, invoke: Any, capsys: Any) -> None:
    """An idle run's line is well under a kilobyte and a busy one stays a few (measured in docs/metrics.md)."""
    timer(invoke)
    idle = [line for line in capsys.readouterr().out.splitlines() if '"decision": "metrics"' in line][0]
    assert len(idle.encode()) < 2048
