"""The write step against the emulator: partial failures, lost replies, injected errors."""
from __future__ import annotations

from typing import Any

from clb_unbind.apply import unbind
from clb_unbind.cloud.deadline import Deadline
from clb_unbind.cloud.session import CloudSession
from clb_unbind.config import Settings
from clb_unbind.model import Batch, Binding, Cloud


def session_for(emulator: Any) -> CloudSession:
    secret_id, secret_key, _ = emulator.credentials
    settings = Settings(region="ap-guangzhou", endpoint=emulator.endpoint, secret_id=secret_id, secret_key=secret_key, task_poll_seconds=0.02)
    return CloudSession(settings, Deadline.from_context({"time_limit_in_ms": 20000}, 1.0))


def tcp(listener: str, port: int) -> Binding:
    return Binding(Cloud.CLB, "ap-guangzhou", "lb-web00001", listener, "TCP", 80, None, "ins-web00001", "10.0.0.11", port, 10)


def test_fail_listener_id_set_maps_back_to_exactly_those_bindings(emulator: Any) -> None:
    real, gone = tcp("lbl-tcp00080", 8080), tcp("lbl-gone0000", 8080)
    result = unbind(session_for(emulator), Batch(Cloud.CLB, "ap-guangzhou", "lb-web00001", (real, gone)))
    assert result.failed == (gone,)
    assert result.failure is not None and result.failure.code == "FailListenerIdSet"
    assert "lbl-gone0000" in result.failure.message
    ports = {b["port"] for b in emulator.bindings("ins-web00001") if b["listenerId"] == "lbl-tcp00080"}
    assert ports == {8081}


def test_lost_reply_after_the_change_still_ends_unbound(make_emulator: Any, invoke: Any, monkeypatch: Any) -> None:
    emulator = make_emulator(drop_reply_rate=1.0, fault_actions=frozenset({"clb:BatchDeregisterTargets"}), seed=7)
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emulator.endpoint)
    answer = invoke({"instanceIds": ["ins-web00001"]}, timeout_ms=8000, CLB_UNBIND_SAFETY_MARGIN_SECONDS="0.5",
                    CLB_UNBIND_RETRY_QUEUE="clb-unbind-retry")
    assert emulator.bindings("ins-web00001") == []
    assert any(c.dropped for c in emulator.calls)
    status = answer["records"][0]["instances"][0]["status"]
    # Every reply to the write was lost: the verification read is what proves the unbind.
    assert status == "unbound", answer


def test_injected_internal_errors_are_retried_in_process(make_emulator: Any, invoke: Any, monkeypatch: Any) -> None:
    emulator = make_emulator(error_rate=0.5, fault_actions=frozenset({"BatchDeregisterTargets", "DescribeLBListeners"}), seed=3)
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emulator.endpoint)
    answer = invoke({"instanceIds": ["ins-web00001", "ins-web00002"]}, timeout_ms=20000)
    assert {i["status"] for r in answer["records"] for i in r["instances"]} == {"unbound"}
    assert any(c.error_code == "InternalError" for c in emulator.calls)
    assert emulator.bindings("ins-web00001") == [] and emulator.bindings("ins-web00002") == []
