"""Sync or async, by one rule: an action is a task to poll iff tccli's api.json documents it as
"异步接口" (emulator/spec.py `asynchronous`). The function's decisions (cloud/asynchrony.py), its polls,
and the emulator's behaviour must all follow it."""
from __future__ import annotations

from typing import Any, List

import pytest

from tests.functional.test_contracts import run_everything

TASK_POLLS = ("DescribeTaskStatus", "DescribeLoadBalanceTaskStatus")


def version(service: str) -> str:
    from emulator.services import SERVICES

    return SERVICES[service].version


def test_every_decision_of_the_function_is_what_api_json_says() -> None:
    from clb_unbind.cloud.asynchrony import ASYNCHRONOUS

    from emulator.spec import asynchronous

    assert {k: asynchronous(k[0], version(k[0]), k[1]) for k in ASYNCHRONOUS} == ASYNCHRONOUS
    assert ASYNCHRONOUS[("ecm", "BatchDeregisterTargets")] is False  # polled before, on no source


@pytest.fixture
def calls(emulator: Any, invoke: Any, function_env: Any, monkeypatch: Any) -> List[Any]:
    monkeypatch.setenv("CLB_UNBIND_RETRY_QUEUE", "clb-unbind-retry")
    return run_everything(emulator, invoke)


def test_the_function_polls_exactly_the_asynchronous_writes(calls: List[Any]) -> None:
    from clb_unbind.cloud.asynchrony import ASYNCHRONOUS

    from emulator.services import SERVICES

    lb_writes = [c for c in calls if c.service != "cmq" and SERVICES[c.service].actions[c.action].lb_write]
    assert {(c.service, c.action) for c in lb_writes} <= set(ASYNCHRONOUS)  # every load-balancer write decided
    polled = {c.params.get("TaskId") for c in calls if c.action in TASK_POLLS}
    done = [c for c in lb_writes if c.error_code is None and not c.dropped]
    assert any(ASYNCHRONOUS[(c.service, c.action)] for c in done) and any(not ASYNCHRONOUS[(c.service, c.action)] for c in done)
    for c in done:
        assert (c.request_id in polled) == ASYNCHRONOUS[(c.service, c.action)], (c.service, c.action)


def test_the_emulator_refuses_to_run_a_write_against_the_rule(make_emulator: Any, invoke: Any, function_env: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Its check is real: told that ECM BatchDeregisterTargets were asynchronous, the emulator answers
    its synchronous run as an emulator bug (InternalError)."""
    from emulator import spec

    real = spec.asynchronous
    monkeypatch.setattr(spec, "asynchronous", lambda s, v, a: (not real(s, v, a)) if (s, a) == ("ecm", "BatchDeregisterTargets") else real(s, v, a))
    emulator = make_emulator()
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emulator.endpoint)
    invoke({"instanceIds": ["ein-edge0001"]}, timeout_ms=3000, CLB_UNBIND_RETRY_QUEUE="clb-unbind-retry")
    codes = [c.error_code for c in emulator.calls if (c.service, c.action) == ("ecm", "BatchDeregisterTargets")]
    assert codes and set(codes) == {"InternalError"}
