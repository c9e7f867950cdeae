"""Queue mode of the chaos suite, short version (`make chaos` runs it for one seed in three of 200):
timer runs over the emulator's CMQ queue with receive and delete failures, a visibility timeout that
runs out mid-pass, overlapping runs, a worker process killed with SIGKILL, and junk, forged and
wrong-hook messages; and proof that its invariants catch what they are meant to catch.

A failing run names its seed; `python -m chaos --mode queue --runs 1 --seed <seed> -v` replays it.
"""
from __future__ import annotations

import copy

import pytest

from chaos.queue_invariants import check_queue
from chaos.queue_runner import QueueTrace, run_queue
from chaos.queue_scenario import FOREIGN_HOOK, QueueScenario, Round, build_queue, is_queue_seed

QUEUE_SEEDS = [2283]
"""A worker killed mid-run, a 2 s visibility timeout with slow replies, API errors, forged claims (a serving
member, a standalone instance, another group) and a wrong-hook message, in an estate with every kind of
binding: target groups v1 and full-listen and one in another VPC, classic load balancers, secondary
interfaces' IPs; the leaving ins-keni0001 is bound only through its secondary interface's IPs (about 5 s). Overlapping runs and receive and
delete failures are left to `make chaos`, to keep `make test` inside its time."""


def explain(result: object) -> str:
    return "\n".join([result.description, *result.violations])  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", QUEUE_SEEDS)
def test_queue_run_loses_nothing_touches_no_serving_instance_and_no_foreign_hook(seed: int) -> None:
    sc = build_queue(seed)
    assert is_queue_seed(seed) and {"queue", "wrong_hook", "visibility-expiry", "target-group-v1", "classic"} <= sc.tags
    result = check_queue(run_queue(sc))
    assert result.ok, explain(result)
    assert result.counts["lost"] == 0 and result.counts["wrong_unbinds"] == 0 and result.counts["foreign_completions"] == 0


def test_a_seed_always_builds_the_same_queue_scenario() -> None:
    first, again = build_queue(2283), build_queue(2283)
    assert first.describe() == again.describe() and first.estate == again.estate
    assert "killed" in first.tags and any(r.kind == "kill" for r in first.rounds)


@pytest.fixture(scope="module")
def benign() -> QueueTrace:
    """A quiet run: two members leave, one wrong-hook message, no faults, one timer run."""
    sc: QueueScenario = build_queue(9)
    sc = copy.deepcopy(sc)
    sc.knobs = {"seed": 9, "task_seconds": 0.01}
    sc.rounds = [Round("single")]
    trace = run_queue(sc)
    assert check_queue(trace).ok, explain(check_queue(trace))
    return trace


def test_the_queue_checks_catch_a_foreign_completion(benign: QueueTrace) -> None:
    trace = copy.deepcopy(benign)
    foreign = next(a for a in trace.lifecycle_results if a["lifecycleHookId"] == FOREIGN_HOOK)
    foreign["result"] = "CONTINUE"
    result = check_queue(trace)
    assert result.counts["foreign_completions"] == 1
    assert f"FOREIGN COMPLETION: {FOREIGN_HOOK} of {foreign['instanceId']}" in "\n".join(result.violations)


def test_the_queue_checks_catch_a_lost_instance_a_wrong_unbind_and_a_message_left_visible(benign: QueueTrace) -> None:
    trace = copy.deepcopy(benign)
    leaving = trace.scenario.leaving[0]
    for a in trace.lifecycle_results:
        if a["instanceId"] == leaving:
            a["result"] = None
    serving = next(k for k in trace.after if k[5] == "ins-other001")
    del trace.after[serving]
    trace.queue_left.append({"msgId": "1", "state": "visible", "body": "{}"})
    text = "\n".join(check_queue(trace).violations)
    assert f"LOST: leaving {leaving}" in text and "WRONG UNBIND: ins-other001" in text
    assert "the queue ends holding message 1 visible" in text
